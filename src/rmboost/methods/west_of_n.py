"""West-of-N (Pace et al. 2024): sample N responses, score each, pair the best with the worst.

The scorer is a reward model saved by `rmboost train` (`scorer=PATH`; the paper's setting, a
reward model trained on the real data) or, before one exists, the LLM itself (`scorer="llm"`),
which rates each response 1-10 on the task's aspects. Samples that repeat an earlier one are
scored once. A sample that is no answer (empty, a lead-in, cut at max_tokens) is asked for again,
up to `attempts` times; a sample or a score that still cannot be used is left out, so one runaway
answer does not cost the prompt; the pair comes from the samples that
were scored. A transient backend error still fails the prompt, to be retried on the next run.
Among equal best (or worst) scores the earliest sample wins; when the best score equals the worst
there is no pair (stage `select`, reason `all scores equal`): `rm.rerank.best_and_worst`, the rule
`rmboost rerank` applies to responses sampled elsewhere.

Given responses: a record with `responses` is not sampled; its responses are scored (a repeat of
an earlier one, or one that is no answer, is left out) and the best and worst become the pair, which
records their indices (`chosen_index`, `rejected_index`). With a reward-model scorer that makes no
LLM call at all. One pair per prompt: `--pairs-per-prompt` does not apply.

Left out: training the reward model (`rmboost.rm`), and any filtering by score margin.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from rmboost.backends.base import ChatRequest, Completion
from rmboost.errors import UsageError, UserError
from rmboost.llm import LLM
from rmboost.methods.base import Method, SamplingConfig, WorkItem
from rmboost.methods.checks import content_problem, normalise
from rmboost.methods.verdicts import parse_score
from rmboost.prompts.tasks import Task
from rmboost.prompts.templates import load_template, render
from rmboost.records import Pair, PairFailure, Prompt, PromptRecord, Usage
from rmboost.rm.rerank import best_and_worst


async def settle(llm: LLM, requests: list[ChatRequest], usage: Usage) -> list[Completion | None]:
    """Every call's completion, or None for a call that failed for good (e.g. cut at max_tokens).
    Waits for all calls, so none is still running (and uncounted) when the prompt is done; then a
    transient failure is raised, to be retried on the next run."""
    results = await asyncio.gather(*(llm.chat(r, usage) for r in requests), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not (isinstance(r, PairFailure) and not r.retryable):
            raise r
    return [r if isinstance(r, Completion) else None for r in results]


class Scorer(Protocol):
    """What West-of-N needs of a reward model (`rmboost.rm.RewardModel` is one)."""

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]: ...


class WestOfN(Method):
    name = "west-of-n"

    def __init__(
        self,
        task: Task,
        sampling: SamplingConfig | None = None,
        template_file: str | Path | None = None,
        n: int = 4,
        scorer: str | Path | Scorer = "llm",
        attempts: int = 1,
    ) -> None:
        super().__init__(task, sampling, attempts)
        if n < 2:
            raise UserError(f"west-of-n needs --n of at least 2, got {n}")
        if self.sampling.temperature <= 0:
            raise UserError("west-of-n samples N responses: it needs --temperature > 0")
        self.n = n
        self.template = load_template("west_of_n", template_file, required=("score",))
        self.score_params: dict[str, Any] = dict(self.template.get("score_params") or {})
        self.reward_model: Scorer | None = None
        self.scorer_name = "llm"
        if not isinstance(scorer, str | Path):
            self.reward_model, self.scorer_name = scorer, type(scorer).__name__
        elif str(scorer) != "llm":
            from rmboost.rm import RewardModel  # torch is imported only by whoever scores with an RM

            self.reward_model, self.scorer_name = RewardModel.load(scorer), str(scorer)
        # A reward model runs in a worker thread; one call at a time, as most are not thread-safe.
        self._rm_lock = threading.Lock()

    def score_messages(self, item: WorkItem, response: str) -> list[dict[str, str]]:
        content = render(
            self.template["score"],
            task_description=self.task.description,
            aspect_list=self.task.aspect_list(),
            conversation=self.conversation_text(item.record),
            response=response,
        )
        return [{"role": "user", "content": content}]

    async def llm_scores(self, item: WorkItem, llm: LLM, responses: list[str]) -> list[float | None]:
        requests = [self.request(self.score_messages(item, r), f"score{i + 1}", item, **self.score_params)
                    for i, r in enumerate(responses)]
        return [parse_score(c.text) if c else None for c in await settle(llm, requests, item.usage)]

    async def rm_scores(self, prompt: Prompt, responses: list[str]) -> list[float | None]:
        assert self.reward_model is not None
        model = self.reward_model

        def run() -> list[float]:
            with self._rm_lock:
                return [float(s) for s in model.score([prompt] * len(responses), responses)]

        return list(await asyncio.to_thread(run))

    async def sample(self, item: WorkItem, llm: LLM, stage: str) -> str | None:
        """One sample, asked for again while it is no answer; None when every try was refused."""
        policy = self.policy_messages(item.record)

        def accept(c: Completion) -> str:
            problem = content_problem(c.text)
            if problem:
                raise PairFailure(stage, problem)
            return c.text.strip()

        try:
            return await self.attempt(item, llm, stage, lambda k: self.request(policy, stage, item, k), accept)
        except PairFailure as e:
            if e.retryable:
                raise
            return None

    def items_for(self, record: PromptRecord, pairs_per_prompt: int) -> int:
        if record.responses is not None and pairs_per_prompt != 1:
            raise UsageError("--pairs-per-prompt does not apply to west-of-n over given responses: they make one "
                             f"best-and-worst pair ({record.source}:{record.line})")
        return pairs_per_prompt

    async def candidates(self, item: WorkItem, llm: LLM) -> list[str | None]:
        """The N samples (None for one that is no answer), or the given responses."""
        if item.record.responses is not None:
            return [r.strip() if content_problem(r) is None else None for r in item.record.responses]
        # Every sample runs to its end (and is counted) before a transient failure is raised.
        results = await asyncio.gather(*(self.sample(item, llm, f"sample{i}") for i in range(1, self.n + 1)),
                                       return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return [r if isinstance(r, str) else None for r in results]

    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        policy = self.policy_messages(item.record)
        distinct: dict[str, tuple[int, str]] = {}
        found = await self.candidates(item, llm)
        for index, text in enumerate(found):
            if text is not None:
                distinct.setdefault(normalise(text), (index, text))
        indices, samples = [i for i, _ in distinct.values()], [t for _, t in distinct.values()]
        if len(samples) < 2:
            raise PairFailure("sample", f"fewer than 2 distinct usable responses among {len(found)}")
        prompt: Prompt = policy if item.record.conversational else policy[0]["content"]
        if self.reward_model is None:
            scores = await self.llm_scores(item, llm, samples)
        else:
            scores = await self.rm_scores(prompt, samples)
        picked = best_and_worst(scores)
        if picked is None:
            scored = sum(s is not None for s in scores)
            reason = "all scores equal" if scored >= 2 else "fewer than 2 responses scored"
            stage = "select" if scored >= 2 else "score"
            raise PairFailure(stage, reason, scores=scores)
        best, worst = picked
        extra: dict[str, Any] = {"scores": scores, "scorer": self.scorer_name, "n": len(found)}
        if item.record.responses is not None:
            extra.update(chosen_index=indices[best], rejected_index=indices[worst])
        return self.new_pair(item, llm, samples[best], samples[worst], aspects=[a.name for a in self.task.aspects],
                             extra=extra)
