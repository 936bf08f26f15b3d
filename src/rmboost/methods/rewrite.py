"""RMBoost's rewrite request as data: which template, how the request is laid out, what the answer
must look like, and how to read it back.

A template (`resources/templates/rmboost*.yaml`, `--template NAME` or `--template FILE`) says:
- `conversation`: `continue` (the y1 conversation goes on: the task's messages, y1 as the
  assistant's turn, then the rewrite as a new user turn; a server or llama.cpp reuses the prompt's
  KV cache) or `standalone` (one user message that quotes the request and the given response, as
  the paper's prompt does);
- `aspects_from`: `drawn` (rmboost draws 1-3 of the task's aspects and names them in the request)
  or `model` (the request shows the whole guideline and the model names the aspects it chose, in
  the `aspects_tag`; names the task does not know are dropped and counted);
- `response_tag`, `stop` (default: the closing response tag, so an answer ends where it is
  complete), `constrain` (ask a backend that can constrain output to the tag layout) and
  `y2_budget` (`{factor, extra}`: y2 may take factor x y1's tokens + extra, never above max_tokens).
Fields a `rewrite` text may use: {task_description} {direction} {direction_lower} {aspect_list}
{guideline} {conversation} {response} {length_rule}; a standalone one must use {conversation}
and {response}. {aspect_list} gives each aspect's description for the direction (the task file's
`better` or `worse`, else its definition); {guideline} gives the definitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.errors import UserError
from rmboost.methods.extraction import extract_tagged
from rmboost.prompts.tasks import Aspect, Task
from rmboost.prompts.templates import load_template, render

MODES = {"conversation": ("continue", "standalone"), "aspects_from": ("drawn", "model")}


@dataclass(frozen=True)
class RewriteTemplate:
    text: str
    source: str
    conversation: str = "continue"
    aspects_from: str = "drawn"
    response_tag: str = "response"
    aspects_tag: str = "aspects"
    stop: tuple[str, ...] = ()
    constrain: bool = False
    directions: tuple[tuple[str, str], ...] = (("BETTER", "BETTER"), ("WORSE", "WORSE"))
    length_rule: str = ""
    # y2's token budget: at most `factor` times y1's tokens plus `extra` (never above --max-tokens),
    # so a rewrite that runs on is cut, and asked for again, at about twice y1's length, not at
    # max_tokens. None: --max-tokens.
    budget: tuple[float, int] | None = None

    @classmethod
    def load(cls, template: str | Path | None = None) -> RewriteTemplate:
        data = load_template("rmboost", template, required=("rewrite",))
        where = str(data["_source"])
        for key, allowed in MODES.items():
            if data.get(key, allowed[0]) not in allowed:
                raise UserError(f"{where}: field '{key}' must be one of {', '.join(allowed)}, got {data[key]!r}")
        tag = str(data.get("response_tag", "response"))
        if data.get("conversation") == "standalone":
            for needed in ("conversation", "response"):
                if "{" + needed + "}" not in str(data["rewrite"]):
                    raise UserError(f"{where}: field 'rewrite': a standalone rewrite must show {{{needed}}}")
        stop = data.get("stop", [f"</{tag}>"])
        if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
            raise UserError(f"{where}: field 'stop' must be a list of strings")
        budget = data.get("y2_budget")
        if budget is not None and not (isinstance(budget, dict) and set(budget) == {"factor", "extra"}
                                       and all(isinstance(v, int | float) and v > 0 for v in budget.values())):
            raise UserError(f"{where}: field 'y2_budget' must be {{factor: N, extra: N}} with positive numbers")
        return cls(text=str(data["rewrite"]), source=where,
                   budget=None if budget is None else (float(budget["factor"]), int(budget["extra"])),
                   conversation=str(data.get("conversation", "continue")),
                   aspects_from=str(data.get("aspects_from", "drawn")), response_tag=tag,
                   aspects_tag=str(data.get("aspects_tag", "aspects")), stop=tuple(stop),
                   constrain=bool(data.get("constrain", False)),
                   directions=tuple((str(k), str(v)) for k, v in (data.get("directions") or {}).items())
                   or cls.directions, length_rule=str(data.get("length_rule", "")))

    def y2_tokens(self, y1_tokens: int, max_tokens: int) -> int:
        if self.budget is None:
            return max_tokens
        factor, extra = self.budget
        return max(1, min(max_tokens, int(factor * y1_tokens) + extra))

    @property
    def tags(self) -> tuple[str, ...]:
        """The tags the answer consists of, in order."""
        return (self.aspects_tag, self.response_tag) if self.aspects_from == "model" else (self.response_tag,)

    def direction(self, label: str) -> str:
        return dict(self.directions).get(label, label)

    def values(self, task: Task, label: str, aspects: list[Aspect], length_control: bool) -> dict[str, Any]:
        direction = self.direction(label)
        return {"task_description": task.description, "direction": direction, "direction_lower": direction.lower(),
                "aspect_list": task.aspect_list(aspects, label), "guideline": task.aspect_list(),
                "length_rule": self.length_rule if length_control else ""}

    def instruction(self, values: dict[str, Any], conversation: str, response: str) -> str:
        return render(self.text, **values, conversation=conversation, response=response)

    def own_wording(self, values: dict[str, Any]) -> str:
        """The request without the prompt and the response it quotes: what a y2 must not paste back."""
        return render(self.text, **values, conversation="", response="")

    def parse(self, text: str, task: Task) -> tuple[str | None, list[str], list[str]]:
        """(y2, the known aspects the model named, the names it gave that the task does not know)."""
        y2 = extract_tagged(text, self.response_tag)
        if self.aspects_from != "model":
            return y2, [], []
        if y2 is not None and f"<{self.aspects_tag}>" in y2.lower():
            y2 = extract_tagged(y2.split(f"</{self.aspects_tag}>")[-1], self.response_tag)
        found = re.findall(rf"<{self.aspects_tag}>(.*?)(?:</{self.aspects_tag}>|<{self.response_tag}>)", text,
                           flags=re.DOTALL | re.IGNORECASE)
        names = [n.strip(" .*-").lower() for n in re.split(r",|;|\n|\band\b", found[0])] if found else []
        known = {a.name.lower(): a.name for a in task.aspects}
        chosen = list(dict.fromkeys(known[n] for n in names if n in known))
        return y2, chosen, [n for n in names if n and n not in known]
