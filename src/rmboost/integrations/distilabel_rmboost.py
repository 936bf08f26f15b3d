"""RMBoost as a distilabel step: `RMBoostRewrite`, a distilabel `Task` that turns an instruction and
a response into a preference pair by asking its LLM for a BETTER or WORSE rewrite on drawn aspects.

It is `rmboost generate --method rmboost` given a response (`methods/rmboost.py`), one row at a
time: the same task and aspect files (`task`, `aspects_file`), the same rewrite templates
(`template`), the same acceptance rule for the answer (`RMBoost.check_rewrite`), the same label
rule (rows 2j and 2j+1 get one BETTER and one WORSE, in a seeded order, so the labels are exactly
balanced when `input_batch_size` is even) and the same aspects per row id (`id` column, else the
instruction's hash, as the CLI's). Input columns: `instruction`, `response` (and `id` if given);
output columns: `chosen`, `rejected`, `label`, `aspects`, `rewrite_failure` (why a rewrite was
refused: chosen and rejected are then null) and distilabel's `model_name`. The template's stop
strings are added to the LLM's `generation_kwargs` unless it sets `stop` itself.

Left out, against the CLI: asking again after a refused rewrite (`--attempts`), the y2 token budget,
per-call seeds, the request cache and `--verify`: distilabel makes one call per row and the
pipeline decides the rest. Needs the `rmboost[distilabel]` extra (distilabel 1.5.3). No
`from __future__ import annotations`: distilabel reads the `StepInput` hint of `process` at run time.
"""

from typing import Any

from distilabel.steps import StepInput
from distilabel.steps.tasks import Task
from pydantic import PrivateAttr

from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost, balanced_label, given_problem
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord, stable_id

SUPPORTED_DISTILABEL = ("1.5.3",)


class RMBoostRewrite(Task):  # type: ignore[misc]
    """Instruction + response -> chosen/rejected by a labelled rewrite (see the module docstring)."""

    task: str = "chat"
    aspects_file: str | None = None
    template: str | None = None
    aspects_per_pair: int | None = None
    length_control: bool = False
    seed: int = 0

    _method: Any = PrivateAttr(default=None)
    _seen: int = PrivateAttr(default=0)

    def load(self) -> None:
        super().load()
        self._method = RMBoost(load_task(self.task, self.aspects_file), template_file=self.template,
                               aspects_per_pair=self.aspects_per_pair, length_control=self.length_control)
        kwargs = self.llm.generation_kwargs
        if isinstance(kwargs, dict) and "stop" not in kwargs and self._method.template.stop:
            kwargs["stop"] = list(self._method.template.stop)

    @property
    def inputs(self) -> list[str]:
        return ["instruction", "response"]

    @property
    def outputs(self) -> list[str]:
        return ["chosen", "rejected", "label", "aspects", "rewrite_failure", "model_name"]

    def item(self, row: dict[str, Any], index: int = 0) -> WorkItem:
        instruction = str(row["instruction"])
        record = PromptRecord(prompt=instruction, id=str(row.get("id") or stable_id(instruction)),
                              response=str(row["response"]))
        return WorkItem(record=record, index=index, seed=self.seed)

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        """Label and draw aspects for each row by its position, then let `Task.process` ask the LLM."""
        for offset, row in enumerate(inputs):
            item = self.item(row, self._seen + offset)
            row["label"] = balanced_label(item.index, self.seed)
            row["aspects"] = [a.name for a in self._method.choose_aspects(item)]
        self._seen += len(inputs)
        yield from super().process(inputs)

    def format_input(self, input: dict[str, Any]) -> list[dict[str, str]]:
        method = self._method
        drawn = [method.task.aspect(name) for name in input["aspects"]]
        return list(method.rewrite_messages(self.item(input), str(input["response"]).strip(), input["label"], drawn))

    def format_output(self, output: str | None, input: dict[str, Any] | None = None) -> dict[str, Any]:
        assert input is not None
        method, label = self._method, input["label"]
        y1 = str(input["response"]).strip()
        out: dict[str, Any] = {"chosen": None, "rejected": None, "label": label, "aspects": input["aspects"]}
        problem = given_problem(y1)
        if problem:
            return {**out, "rewrite_failure": problem}
        if output is None:
            return {**out, "rewrite_failure": "no answer from the LLM"}
        drawn = [method.task.aspect(name) for name in input["aspects"]]
        check = method.check_rewrite(output, y1, label, drawn, str(input["instruction"]))
        if check.problem:
            return {**out, "rewrite_failure": check.problem}
        if method.template.aspects_from == "model":
            out["aspects"] = check.named
        chosen, rejected = (check.y2, y1) if label == "BETTER" else (y1, check.y2)
        return {**out, "chosen": chosen, "rejected": rejected, "rewrite_failure": None}
