"""RMBoost (Shen et al. 2024, arXiv 2407.16008): label first, then generate to match it.

y1 answers the prompt (or is the response the input row gives); the label (y2 must be BETTER or
WORSE) is drawn so that each consecutive pair of work items gets one of each, which makes the
labels exactly balanced for any seed; aspects are drawn from the task (or, with the paper's
template, chosen and named by the model); y2 is asked to be better or worse than y1 on them. The
pair is oriented by construction, so no judge is involved. How the request looks is the template's
business (`rewrite.py`). A y2 that is no answer is refused (`checks.rewrite_problem`: empty or
only a lead-in, unparseable, the same as y1, a comment about the responses, an echo of the
direction word, words pasted back from the instruction or its layout, the question repeated, too
short to be a rewrite, or, where the model is to name its aspects, none named) and asked for again,
up to `attempts` times, whatever the template; so is a y1 that is no answer. That acceptance rule
is `RMBoost.check_rewrite`, which the distilabel step (`integrations/distilabel_rmboost.py`) calls
too. `--verify` (beyond the paper) adds the pairwise judge, which can drop a pair.

A record with `responses` gives y1 too: work item k of the prompt (`--pairs-per-prompt K`) rewrites
response k mod n, recorded as `given_index`, so K = n rewrites each given response once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.backends.base import Completion
from rmboost.errors import UsageError
from rmboost.llm import LLM
from rmboost.methods.base import Method, SamplingConfig, WorkItem, derive_seed
from rmboost.methods.checks import content_problem, rewrite_problem
from rmboost.methods.judge import ORDERS, PairJudge, contradiction
from rmboost.methods.rewrite import RewriteTemplate
from rmboost.prompts.prompt_text import last_user_turn
from rmboost.prompts.tasks import Aspect, Message, Task
from rmboost.records import Pair, PairFailure, Prompt

LABELS = ("BETTER", "WORSE")
NO_ASPECT_NAMED = "names no aspect of the task"


def balanced_label(index: int, seed: int) -> str:
    """Work items 2j and 2j+1 get one BETTER and one WORSE, in a seeded order."""
    first = LABELS[derive_seed(seed, "label-block", index // 2) % 2]
    return first if index % 2 == 0 else LABELS[1 - LABELS.index(first)]


def given_problem(response: str) -> str | None:
    """Why a given response (the record's, or a distilabel row's) cannot be y1, or None."""
    problem = content_problem(response)
    return f"the given response: {problem}" if problem else None


@dataclass(frozen=True)
class RewriteCheck:
    """What `RMBoost.check_rewrite` read in a rewrite answer: y2, the task's aspects the answer names,
    the names it gives that the task does not know, and why it is refused (None: y2 is kept)."""

    y2: str | None
    named: list[str]
    unknown: list[str]
    problem: str | None


class RMBoost(Method):
    name = "rmboost"

    def __init__(
        self,
        task: Task,
        sampling: SamplingConfig | None = None,
        template_file: str | Path | None = None,
        aspects_per_pair: int | None = None,
        max_aspects: int = 3,
        length_control: bool = False,
        verify: bool = False,
        judge_decision: str = "agree",
        attempts: int = 1,
    ) -> None:
        super().__init__(task, sampling, attempts)
        self.template = RewriteTemplate.load(template_file)
        if aspects_per_pair is not None and self.template.aspects_from == "model":
            raise UsageError(f"--aspects-per-pair does not apply to {self.template.source}: its model chooses "
                             "the aspects itself")
        # --verify (beyond the paper): the pairwise judge checks the label; a pair whose label it
        # contradicts in both orders is dropped, or with judge_decision="average", a pair whose
        # label gets less than half of the order-averaged verdict probability.
        self.verifier = PairJudge(task, decision=judge_decision) if verify else None
        self.verified = self.contradicted = 0
        self.aspects_per_pair = aspects_per_pair
        self.max_aspects = max_aspects
        self.length_control = length_control
        self.unknown_aspects = self.no_aspects_named = self.given = 0

    def choose_aspects(self, item: WorkItem) -> list[Aspect]:
        if self.template.aspects_from == "model":
            return []
        rng = item.rng("aspects")
        pool = list(self.task.aspects)
        k = self.aspects_per_pair or rng.randint(1, min(self.max_aspects, len(pool)))
        return rng.sample(pool, min(k, len(pool)))

    def rewrite_messages(self, item: WorkItem, y1: str, label: str, aspects: list[Aspect]) -> list[Message]:
        """The rewrite request: the y1 conversation continued, or one standalone message."""
        values = self.template.values(self.task, label, aspects, self.length_control)
        if self.template.conversation == "standalone":
            content = self.template.instruction(values, self.conversation_text(item.record), y1)
            return [{"role": "user", "content": content}]
        return [*self.policy_messages(item.record), {"role": "assistant", "content": y1},
                {"role": "user", "content": self.template.instruction(values, "", y1)}]

    @staticmethod
    def given_index(item: WorkItem) -> int | None:
        """Which of the record's `responses` the item rewrites (None: no `responses`)."""
        responses = item.record.responses
        return None if responses is None else item.k % len(responses)

    async def first_response(self, item: WorkItem, llm: LLM) -> tuple[str, int]:
        """y1 and its length in tokens (for a given response, estimated from its words)."""
        index, responses = self.given_index(item), item.record.responses
        given = responses[index] if responses is not None and index is not None else item.record.response
        if given is not None:
            problem = given_problem(given)
            if problem:
                raise PairFailure("y1", problem)
            self.given += 1
            return given.strip(), int(1.4 * len(given.split())) + 1

        def accept(c: Completion) -> tuple[str, int]:
            problem = content_problem(c.text)
            if problem:
                raise PairFailure("y1", problem, raw=c.text[:300])
            return c.text.strip(), c.completion_tokens or int(1.4 * len(c.text.split())) + 1

        policy = self.policy_messages(item.record)
        return await self.attempt(item, llm, "y1", lambda k: self.request(policy, "y1", item, k), accept)

    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        y1, y1_tokens = await self.first_response(item, llm)
        label = balanced_label(item.index, item.seed)
        drawn = self.choose_aspects(item)
        messages = self.rewrite_messages(item, y1, label, drawn)
        shape: dict[str, Any] = {"stop": self.template.stop,
                                 "max_tokens": self.template.y2_tokens(y1_tokens, self.sampling.max_tokens)}
        if self.template.constrain and llm.capabilities.grammar:
            shape["tags"] = self.template.tags

        def accept(c: Completion) -> tuple[str, list[str]]:
            check = self.check_rewrite(c.text, y1, label, drawn, item.record.prompt)
            if check.problem == NO_ASPECT_NAMED:
                self.no_aspects_named += 1
            if check.problem:
                raise PairFailure("y2", check.problem, label=label, raw=c.text[:500])
            assert check.y2 is not None
            self.unknown_aspects += len(check.unknown)
            return check.y2, check.named

        y2, named = await self.attempt(item, llm, "y2",
                                       lambda k: self.request(messages, "y2", item, k, **shape), accept)
        extra = await self.verify(item, llm, y1, y2, label) if self.verifier else {}
        extra["given_response"] = item.record.response is not None or item.record.responses is not None
        if self.given_index(item) is not None:
            extra["given_index"] = self.given_index(item)
        chosen, rejected = (y2, y1) if label == "BETTER" else (y1, y2)
        aspects = named if self.template.aspects_from == "model" else [a.name for a in drawn]
        return self.new_pair(item, llm, chosen, rejected, label=label, aspects=aspects, extra=extra)

    def check_rewrite(self, answer: str, y1: str, label: str, drawn: list[Aspect], prompt: Prompt) -> RewriteCheck:
        """The one acceptance rule for a rewrite answer, the CLI's and the distilabel step's: y2 read
        from the template's tags must pass `checks.rewrite_problem` against the request's own wording,
        the label's direction word and the question; where the model names its aspects, it must name
        one the task knows. The question is what was asked last, whole (`last_user_turn`), not its
        last paragraph (`question_text`): a record's prompt is the request as given, not laid out by
        a task with the question last, and a request that quotes a text can end on an "Answer:" cue."""
        y2, named, unknown = self.template.parse(answer, self.task)
        wording = self.template.own_wording(self.template.values(self.task, label, drawn, self.length_control))
        problem = rewrite_problem(y1, y2, wording, self.template.direction(label), last_user_turn(prompt))
        if problem is None and self.template.aspects_from == "model" and not named:
            problem = NO_ASPECT_NAMED
        return RewriteCheck(y2, named, unknown, problem)

    async def verify(self, item: WorkItem, llm: LLM, y1: str, y2: str, label: str) -> dict[str, object]:
        assert self.verifier is not None
        try:
            judgement = await self.verifier.judge(self, item, llm, y1, y2)
        except PairFailure as e:
            if e.retryable:
                raise  # a backend error: the prompt is tried again on the next run
            # The judge gave no usable answer (e.g. cut at max_tokens): that contradicts nothing.
            self.verified += 1
            return {"verdicts": {o: None for o in ORDERS}, "verify_note": e.reason}
        self.verified += 1
        intended = 2 if label == "BETTER" else 1
        found = contradiction(judgement, self.verifier.decision, intended)
        if found is not None:
            self.contradicted += 1
            reason, detail = found
            raise PairFailure("verify", reason, label=label, verdicts=judgement.verdicts, **detail)
        extra: dict[str, object] = {"verdicts": judgement.verdicts}
        if self.verifier.decision == "average":
            p1 = judgement.p_first()
            extra["p_label"] = None if p1 is None else (p1 if intended == 1 else 1 - p1)
        return extra

    def run_stats(self) -> dict[str, object]:
        stats: dict[str, object] = {"given_responses": self.given} if self.given else {}
        if self.template.aspects_from == "model":
            stats.update(unknown_aspects_dropped=self.unknown_aspects, no_aspect_named=self.no_aspects_named)
        if self.verifier is not None:
            rate = self.contradicted / self.verified if self.verified else None
            stats.update(verified=self.verified, contradicted=self.contradicted, contradiction_rate=rate)
        return stats
