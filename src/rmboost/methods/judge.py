"""The pairwise LLM judge that RLAIF and RMBoost's `--verify` share.

The same LLM compares two responses twice, once as (A=y1, B=y2) and once as (A=y2, B=y1), on all
of the task's aspects, so a verdict that follows the position rather than the content shows up as
a disagreement. Three ways to decide (`decision`): `agree` keeps a verdict only when both orders
pick the same response; `first` lets the first order decide; `average` (Lee et al. 2023) averages
the verdict's probability over the two orders (from token log-probabilities) and the response
above 0.5 wins, so a position bias of the same size in both orders cancels out.

When the template lists the allowed answers (`judge_params.choices`, "Verdict: A" / "Verdict: B"), a
backend that can constrain output (`Capabilities.grammar`) gives one of them and nothing else, so a
small model cannot ramble past its verdict; other backends are asked as before and parsed.
A backend that declares no log-probabilities is not asked for them; one that refuses them
(`BackendError.unsupported == "logprobs"`) is asked again without them, and not asked for them
again in this run. What a verdict means for a pair is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rmboost.backends.base import Completion
from rmboost.errors import UsageError
from rmboost.llm import LLM
from rmboost.methods.verdicts import parse_verdict, verdict_probability
from rmboost.prompts.tasks import Task
from rmboost.prompts.templates import load_template, render
from rmboost.records import PairFailure

if TYPE_CHECKING:
    from rmboost.methods.base import Method, WorkItem

# Order "ab" shows y1 as A; order "ba" shows y2 as A.
ORDERS = ("ab", "ba")
DECISIONS = ("agree", "first", "average")


def winner(order: str, verdict: str) -> int:
    """Which sample (1 or 2) a verdict picks in the given order."""
    first_shown = 1 if order == "ab" else 2
    return first_shown if verdict == "A" else 3 - first_shown


@dataclass
class Judgement:
    """The judge's two answers on (y1, y2), in `ORDERS`."""

    answers: list[Completion]

    @property
    def verdicts(self) -> dict[str, str | None]:
        return {o: parse_verdict(a.text) for o, a in zip(ORDERS, self.answers, strict=True)}

    def picks(self) -> dict[str, int]:
        """The sample each readable verdict picks."""
        return {o: winner(o, v) for o, v in self.verdicts.items() if v is not None}

    def y1_probabilities(self) -> list[float | None]:
        """Per order, the probability the judge gave to sample 1 (None where it cannot be read)."""
        return [verdict_probability(a.top_logprobs, a.text, "A" if winner(o, "A") == 1 else "B")
                for o, a in zip(ORDERS, self.answers, strict=True)]

    def p_first(self) -> float | None:
        """P(y1 is better) averaged over the two orders; None unless both orders give it."""
        probs = self.y1_probabilities()
        return None if None in probs else sum(p for p in probs if p is not None) / len(probs)

    def confidence(self, best: int) -> float | None:
        """Mean over the orders that give it of the probability the judge gave to sample `best`."""
        probs = [p if best == 1 else 1 - p for p in self.y1_probabilities() if p is not None]
        return sum(probs) / len(probs) if probs else None


def decide(judgement: Judgement, decision: str) -> int:
    """The sample (1 or 2) the judgement prefers under `decision`; `PairFailure` when there is none."""
    verdicts = judgement.verdicts
    for order, answer in zip(ORDERS, judgement.answers, strict=True):
        if verdicts[order] is None:
            raise PairFailure("judge", "unparseable verdict", order=order, raw=answer.text[-300:])
    picks = judgement.picks()
    if decision == "average":
        p1 = judgement.p_first()
        if p1 is None:
            raise PairFailure("judge", "no verdict log-probabilities to average", verdicts=verdicts)
        if p1 == 0.5:
            raise PairFailure("judge", "tie after averaging both orders", verdicts=verdicts)
        return 1 if p1 > 0.5 else 2
    if picks["ab"] == picks["ba"] or decision == "first":
        return picks["ab"]
    raise PairFailure("judge", "judges disagree", verdicts=verdicts)


def contradiction(judgement: Judgement, decision: str, intended: int) -> tuple[str, dict[str, Any]] | None:
    """Why the judgement contradicts `intended` (the sample a label says is better), or None. An
    unreadable verdict or missing log-probabilities contradict nothing."""
    if decision == "average":
        p1 = judgement.p_first()
        p_label = None if p1 is None else (p1 if intended == 1 else 1 - p1)
        if p_label is not None and p_label < 0.5:
            return ("judge gives the label under 0.5 averaged over both orders", {"p_label": round(p_label, 4)})
        return None
    picks = list(judgement.picks().values())
    if len(picks) == 2 and all(p != intended for p in picks):
        return ("judge contradicts the label in both orders", {})
    return None


class PairJudge:
    """Asks the LLM for a verdict on (y1, y2) in both orders, with the `rlaif` template."""

    def __init__(self, task: Task, template_file: str | Path | None = None, decision: str = "agree") -> None:
        if decision not in DECISIONS:
            raise UsageError(f"unknown judge_decision {decision!r}; choose one of {', '.join(DECISIONS)}")
        self.task = task
        self.decision = decision
        self.template = load_template("rlaif", template_file, required=("judge",))
        self.params: dict[str, Any] = dict(self.template.get("judge_params") or {})
        self.logprobs_refused = ""

    def messages(self, conversation: str, response_a: str, response_b: str) -> list[dict[str, str]]:
        content = render(self.template["judge"], task_description=self.task.description,
                         aspect_list=self.task.aspect_list(), conversation=conversation,
                         response_a=response_a, response_b=response_b)
        return [{"role": "user", "content": content}]

    async def judge(self, method: Method, item: WorkItem, llm: LLM, y1: str, y2: str) -> Judgement:
        if not llm.capabilities.logprobs:
            self.params.pop("logprobs", None)
        if not llm.capabilities.grammar:  # the template's allowed answers can only be asked for
            self.params.pop("choices", None)
        conversation = method.conversation_text(item.record)
        shown = {"ab": (y1, y2), "ba": (y2, y1)}
        requests = [method.request(self.messages(conversation, *shown[o]), f"judge_{o}", item, **self.params)
                    for o in ORDERS]
        try:
            return Judgement(await llm.chat_many(requests, item.usage))
        except PairFailure as e:
            if e.detail.get("unsupported") != "logprobs" or not self.params.get("logprobs"):
                raise
            self.logprobs_refused = e.reason
            if self.decision == "average":  # nothing to average without them
                raise
            self.params.pop("logprobs", None)
            return Judgement(await llm.chat_many([replace(r, logprobs=None) for r in requests], item.usage))
