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
The run's disagreement rate, an estimate of the judge's label noise, is reported by `run_stats()`.
When the backend returns token log-probabilities, `confidence` is the chosen response's
probability averaged over the two orders; otherwise it is None.

Left out: judging with a different (stronger) model than the one that samples; run two commands
with a cache in common if you need it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from rmboost.backends.base import Completion
from rmboost.errors import UserError
from rmboost.llm import LLM
from rmboost.methods.base import Method, SamplingConfig, WorkItem
from rmboost.methods.checks import content_problem, normalise
from rmboost.methods.verdicts import parse_verdict, verdict_probability
from rmboost.prompts.tasks import Task
from rmboost.prompts.templates import load_template, render
from rmboost.records import Pair, PairFailure

# Order "ab" shows y1 as A; order "ba" shows y2 as A.
ORDERS = ("ab", "ba")
DECISIONS = ("agree", "first", "average")


def winner(order: str, verdict: str) -> int:
    """Which sample (1 or 2) a verdict picks in the given order."""
    first_shown = 1 if order == "ab" else 2
    return first_shown if verdict == "A" else 3 - first_shown


class RLAIF(Method):
    name = "rlaif"

    def __init__(
        self,
        task: Task,
        sampling: SamplingConfig | None = None,
        template_file: str | Path | None = None,
        keep_disagreements: bool = False,
        judge_decision: str = "agree",
    ) -> None:
        super().__init__(task, sampling)
        if self.sampling.temperature <= 0:
            raise UserError("rlaif samples two responses: it needs --temperature > 0")
        if judge_decision not in DECISIONS:
            raise UserError(f"rlaif: unknown judge_decision {judge_decision!r}; choose one of {', '.join(DECISIONS)}")
        # keep_disagreements is the older spelling of judge_decision="first".
        self.decision = "first" if keep_disagreements and judge_decision == "agree" else judge_decision
        self.template = load_template("rlaif", template_file, required=("judge",))
        self.judge_params: dict[str, Any] = dict(self.template.get("judge_params") or {})
        self.judged = 0
        self.disagreements = 0
        self.logprobs_refused = ""

    def judge_messages(self, item: WorkItem, response_a: str, response_b: str) -> list[dict[str, str]]:
        content = render(
            self.template["judge"],
            task_description=self.task.description,
            aspect_list="\n".join(f"- {a.name}: {a.definition}" for a in self.task.aspects),
            conversation=self.conversation_text(item.record),
            response_a=response_a,
            response_b=response_b,
        )
        return [{"role": "user", "content": content}]

    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        policy = self.policy_messages(item.record)
        samples = await llm.chat_many([self.request(policy, f"sample{i}", item) for i in (1, 2)], item.usage)
        y1, y2 = (c.text.strip() for c in samples)
        for stage, text in (("sample1", y1), ("sample2", y2)):
            problem = content_problem(text)
            if problem:
                raise PairFailure(stage, problem)
        if normalise(y1) == normalise(y2):
            raise PairFailure("sample2", "identical to sample1")
        answers = await self.judge(item, llm, y1, y2)
        verdicts = {o: parse_verdict(a.text) for o, a in zip(ORDERS, answers, strict=True)}
        for order, answer in zip(ORDERS, answers, strict=True):
            if verdicts[order] is None:
                raise PairFailure("judge", "unparseable verdict", order=order, raw=answer.text[-300:])
        winners = {o: winner(o, str(verdicts[o])) for o in ORDERS}
        agree = winners["ab"] == winners["ba"]
        self.judged += 1
        if not agree:
            self.disagreements += 1
        if self.decision == "average":
            p1 = probability_first_wins(answers)
            if p1 is None:
                raise PairFailure("judge", "no verdict log-probabilities to average", verdicts=verdicts)
            if p1 == 0.5:
                raise PairFailure("judge", "tie after averaging both orders", verdicts=verdicts)
            best = 1 if p1 > 0.5 else 2
        elif agree or self.decision == "first":
            best = winners["ab"]
        else:
            raise PairFailure("judge", "judges disagree", verdicts=verdicts)
        chosen, rejected = (y1, y2) if best == 1 else (y2, y1)
        return self.new_pair(
            item, llm, chosen, rejected,
            aspects=[a.name for a in self.task.aspects],
            extra={"verdicts": verdicts, "agree": agree, "confidence": confidence(answers, best),
                   "decision": self.decision},
        )

    async def judge(self, item: WorkItem, llm: LLM, y1: str, y2: str) -> list[Completion]:
        shown = {"ab": (y1, y2), "ba": (y2, y1)}
        requests = [self.request(self.judge_messages(item, *shown[o]), f"judge_{o}", item,
                                 **self.judge_params) for o in ORDERS]
        try:
            return await llm.chat_many(requests, item.usage)
        except PairFailure as e:
            # A backend that refuses logprobs (llama.cpp loaded without logits_all, some servers)
            # is asked again without them, and not asked for them again in this run.
            if e.retryable or "logprob" not in e.reason.lower() or not self.judge_params.get("logprobs"):
                raise
            self.logprobs_refused = e.reason
            if self.decision == "average":  # nothing to average without them
                raise
            self.judge_params.pop("logprobs", None)
            return await llm.chat_many([replace(r, logprobs=None) for r in requests], item.usage)

    def run_stats(self) -> dict[str, Any]:
        rate = self.disagreements / self.judged if self.judged else None
        stats: dict[str, Any] = {"judged": self.judged, "disagreements": self.disagreements,
                                 "disagreement_rate": rate}
        if self.logprobs_refused:
            stats["logprobs_refused"] = self.logprobs_refused
        return stats


def y1_probabilities(answers: list[Completion]) -> list[float | None]:
    """Per order, the probability the judge gave to sample 1 (None where it cannot be read)."""
    return [verdict_probability(answer.top_logprobs, answer.text, "A" if winner(order, "A") == 1 else "B")
            for order, answer in zip(ORDERS, answers, strict=True)]


def probability_first_wins(answers: list[Completion]) -> float | None:
    """P(y1 is better), averaged over the two orders: P(A) where y1 is shown as A, P(B) where it is
    shown as B. None unless both orders give the verdict's probability."""
    probs = y1_probabilities(answers)
    return None if None in probs else sum(p for p in probs if p is not None) / len(probs)


def confidence(answers: list[Completion], best: int) -> float | None:
    """Mean over the orders that give it of the probability the judge gave to sample `best`."""
    probs = [p if best == 1 else 1 - p for p in y1_probabilities(answers) if p is not None]
    return sum(probs) / len(probs) if probs else None
