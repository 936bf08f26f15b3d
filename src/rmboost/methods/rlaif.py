"""RLAIF (Bai et al. 2022; Lee et al. 2023): sample two responses, let the same LLM judge them.

y1 and y2 are two samples of the prompt (temperature > 0, different seeds). The judge sees them
twice, once as (A=y1, B=y2) and once as (A=y2, B=y1), on all of the task's aspects; a verdict
that follows the position rather than the content then shows up as a disagreement. By default a
pair is kept only when both orders pick the same response (`judge_decision="agree"`), and a
disagreement is a failure (stage `judge`, reason `judges disagree`); with `judge_decision="first"`
the first order decides. With `judge_decision="average"` (Lee et al. 2023) the verdict's
probability is averaged over the two orders and the response above 0.5 wins: a judge that favours
a position by the same amount in both orders is cancelled out instead of filtered out, so a
position-biased judge still makes pairs, ordered by what is left of its preference. That needs
token log-probabilities from the backend.
The judge itself (both orders, the three decisions) is `judge.py`, shared with RMBoost's --verify.
The run's disagreement rate, an estimate of the judge's label noise, is reported by `run_stats()`.
When the backend returns token log-probabilities, `confidence` is the chosen response's
probability averaged over the two orders; otherwise it is None.

Given responses: a record with `responses` is not sampled; each pair its `pairs` field lists (by
default every pair) is one work item, `<id>#<k>` for the k-th listed pair, judged the same way with
the first listed as y1. The pair records `given_pair` (the two indices as judged) and
`chosen_index` / `rejected_index`, so it can be matched to human labels of the same responses.

Left out: judging with a different (stronger) model than the one that samples; run two commands
with a cache in common if you need it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rmboost.backends.base import Completion
from rmboost.errors import UsageError, UserError
from rmboost.llm import LLM
from rmboost.methods.base import Method, SamplingConfig, WorkItem
from rmboost.methods.checks import content_problem, normalise
from rmboost.methods.judge import PairJudge, decide
from rmboost.prompts.tasks import Task
from rmboost.records import Pair, PairFailure, PromptRecord


class RLAIF(Method):
    name = "rlaif"

    def __init__(
        self,
        task: Task,
        sampling: SamplingConfig | None = None,
        template_file: str | Path | None = None,
        keep_disagreements: bool = False,
        judge_decision: str = "agree",
        attempts: int = 1,
    ) -> None:
        super().__init__(task, sampling, attempts)
        if self.sampling.temperature <= 0:
            raise UserError("rlaif samples two responses: it needs --temperature > 0")
        # keep_disagreements is the older spelling of judge_decision="first".
        decision = "first" if keep_disagreements and judge_decision == "agree" else judge_decision
        self.judge = PairJudge(task, template_file, decision)
        self.judged = 0
        self.disagreements = 0

    @property
    def decision(self) -> str:
        return self.judge.decision

    async def sample(self, item: WorkItem, llm: LLM, stage: str, other: str | None = None, start: int = 0) -> str:
        """One sample of the prompt, asked for again while it is no answer (or the same as `other`)."""
        policy = self.policy_messages(item.record)

        def accept(c: Completion) -> str:
            problem = content_problem(c.text)
            if problem:
                raise PairFailure(stage, problem, raw=c.text[:300])
            if other is not None and normalise(c.text) == normalise(other):
                raise PairFailure(stage, "identical to sample1")
            return c.text.strip()

        return await self.attempt(item, llm, stage, lambda k: self.request(policy, stage, item, k), accept, start)

    def items_for(self, record: PromptRecord, pairs_per_prompt: int) -> int:
        if record.responses is None:
            return pairs_per_prompt
        if pairs_per_prompt != 1:
            raise UsageError("--pairs-per-prompt does not apply to rlaif over given responses: it judges each "
                             f"listed pair once ({record.source}:{record.line})")
        return len(record.given_pairs())

    async def two_samples(self, item: WorkItem, llm: LLM) -> tuple[str, str]:
        # Both samples at once; a second one that repeats the first is asked for again after.
        results = await asyncio.gather(self.sample(item, llm, "sample1"), self.sample(item, llm, "sample2"),
                                       return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        y1, y2 = (str(r) for r in results)
        if normalise(y1) == normalise(y2):
            if item.tries["sample2"] >= self.attempts:
                raise PairFailure("sample2", "identical to sample1")
            y2 = await self.sample(item, llm, "sample2", other=y1, start=item.tries["sample2"])
        return y1, y2

    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        given = given_pair(item) if item.record.responses is not None else None
        if given is None:
            y1, y2 = await self.two_samples(item, llm)
            extra: dict[str, Any] = {}
        else:
            (i, y1), (j, y2) = given
            extra = {"given_pair": [i, j]}
        judgement = await self.judge.judge(self, item, llm, y1, y2)
        picks = judgement.picks()
        if len(picks) == 2:
            self.judged += 1
            self.disagreements += picks["ab"] != picks["ba"]
        best = decide(judgement, self.decision)
        chosen, rejected = (y1, y2) if best == 1 else (y2, y1)
        if given is not None:
            extra.update(chosen_index=given[best - 1][0], rejected_index=given[2 - best][0])
        return self.new_pair(
            item, llm, chosen, rejected,
            aspects=[a.name for a in self.task.aspects],
            extra={"verdicts": judgement.verdicts, "agree": picks["ab"] == picks["ba"],
                   "confidence": judgement.confidence(best), "decision": self.decision, **extra},
        )

    def run_stats(self) -> dict[str, Any]:
        rate = self.disagreements / self.judged if self.judged else None
        stats: dict[str, Any] = {"judged": self.judged, "disagreements": self.disagreements,
                                 "disagreement_rate": rate}
        if self.judge.logprobs_refused:
            stats["logprobs_refused"] = self.judge.logprobs_refused
        return stats


def given_pair(item: WorkItem) -> tuple[tuple[int, str], tuple[int, str]]:
    """The item's pair of given responses, `(index, text)` each, in the order listed."""
    record = item.record
    assert record.responses is not None
    i, j = record.given_pairs()[item.k]
    y1, y2 = record.responses[i].strip(), record.responses[j].strip()
    for index, text in ((i, y1), (j, y2)):
        problem = content_problem(text)
        if problem:
            raise PairFailure("given", f"given response {index}: {problem}")
    if normalise(y1) == normalise(y2):
        raise PairFailure("given", f"given responses {i} and {j} are the same")
    return (i, y1), (j, y2)
