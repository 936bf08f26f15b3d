"""RLCD (Yang et al. 2023): one response to a positive prompt, one to a negative prompt.

Both prompts are the task's prompt with one added instruction asking for a response with the
task's qualities (positive: e.g. "relevant, correct and complete"; negative: "irrelevant,
incorrect and incomplete"). The two prompts differ only in those words, which come from the
template's `words` table (aspect -> positive and negative words). Both calls use the same seed, so
that as little as possible besides the instruction separates the two outputs. The positive output
is chosen; the pair's `prompt` is the original prompt, without the added instruction, because that
is what a reward model will see. No judge is involved, so the orientation is by construction.
When either output is no answer, or the two are the same, both are asked for again with the next
try's seed, up to `attempts` times.

A record with given `responses` is refused (an input error naming its file, line and field): RLCD
makes its own contrasting pair from two prompts, so there is nothing for given responses to do.

Left out: RLCD's preference-model scoring of the two outputs (the paper's RLCD-Rescore variant).
"""

from __future__ import annotations

from pathlib import Path

from rmboost.errors import InputError, UserError
from rmboost.llm import LLM
from rmboost.methods.base import Method, SamplingConfig, WorkItem
from rmboost.methods.checks import content_problem, normalise
from rmboost.prompts.tasks import Message, Task
from rmboost.prompts.templates import load_template, render
from rmboost.records import Pair, PairFailure, PromptRecord

SIDES = ("positive", "negative")


def join_words(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class RLCD(Method):
    name = "rlcd"

    def __init__(
        self,
        task: Task,
        sampling: SamplingConfig | None = None,
        template_file: str | Path | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(task, sampling, attempts)
        self.template = load_template("rlcd", template_file, required=("contrast",))
        table = self.template.get("words") or {}
        fallback = self.template.get("fallback") or ["good in {aspect}", "poor in {aspect}"]
        self.words: dict[str, list[str]] = {side: [] for side in SIDES}
        for aspect in task.aspects:
            pair = table.get(aspect.name) or [render(str(f), aspect=aspect.name) for f in fallback]
            if len(pair) != 2 or not all(isinstance(w, str) and w.strip() for w in pair):
                raise UserError(f"rlcd template: words for {aspect.name!r} must be [positive, negative]")
            for side, word in zip(SIDES, pair, strict=True):
                self.words[side].append(word.strip())

    def items_for(self, record: PromptRecord, pairs_per_prompt: int) -> int:
        if record.responses is not None:
            raise InputError(record.source, record.line, "responses", "rlcd writes its own contrasting pair from two "
                             "prompts and cannot use given responses (rlaif, west-of-n and rmboost can)")
        return pairs_per_prompt

    def contrast_messages(self, item: WorkItem, side: str) -> list[Message]:
        """The policy messages with the last user turn wrapped in the side's instruction."""
        messages = [dict(m) for m in self.policy_messages(item.record)]
        last = max(i for i, m in enumerate(messages) if m["role"] == "user")
        messages[last]["content"] = render(self.template["contrast"], request=messages[last]["content"],
                                           qualities=join_words(self.words[side]))
        return messages

    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        reasons: list[str] = []
        problem: tuple[str, str] | None = ("contrast", "no tries")
        for k in range(self.attempts):
            # Both sides share each try's seed, so the instruction is all that tells them apart.
            seed = item.call_seed("contrast", k)
            requests = [self.request(self.contrast_messages(item, side), side, item, seed=seed) for side in SIDES]
            try:
                positive, negative = (c.text.strip() for c in await llm.chat_many(requests, item.usage))
                problem = next(((side, p) for side, text in zip(SIDES, (positive, negative), strict=True)
                                if (p := content_problem(text))), None)
                if problem is None and normalise(positive) == normalise(negative):
                    problem = ("negative", "identical to the positive response")
            except PairFailure as e:
                if e.retryable:
                    raise
                problem = (e.stage, e.reason)
            if problem is None:
                item.tries["contrast"] = k + 1
                return self.new_pair(item, llm, positive, negative, aspects=[a.name for a in self.task.aspects])
            reasons.append(problem[1])
        assert problem is not None
        raise PairFailure(problem[0], problem[1], attempts=len(reasons), reasons=reasons)
