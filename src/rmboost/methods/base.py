"""What every method shares: the `Method` interface, the per-prompt work item, deterministic seeds,
and retry on rejection. A method builds prompts, parses answers and returns a `Pair` or raises
`PairFailure`; it knows nothing of files, caching or concurrency (that is the engine's job).

Retry on rejection (`Method.attempt`): a response that fails a content check, or is cut at
max_tokens, is asked for again with a fresh derived seed, up to `attempts` times per stage; the
first try keeps the seed a run without retries would use, so earlier caches stay valid. A call at
temperature 0 would answer the same again, so it gets one try. A backend error is not a rejection:
it fails the prompt at once, to be retried on the next run.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rmboost.backends.base import ChatRequest, Completion
from rmboost.errors import UsageError
from rmboost.llm import LLM
from rmboost.prompts.model_input import model_input
from rmboost.prompts.prompt_text import transcript
from rmboost.prompts.tasks import Message, Task
from rmboost.records import Pair, PairFailure, PromptRecord, Usage

T = TypeVar("T")


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from any parts, stable across runs and machines (unlike `hash()`)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True, slots=True)
class SamplingConfig:
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 384


@dataclass(slots=True)
class WorkItem:
    """One prompt to turn into a pair. `index` is the record's position among the valid input
    rows (it decides balanced labels); `seed` is the run's seed."""

    record: PromptRecord
    index: int
    seed: int
    usage: Usage = field(default_factory=Usage)
    tries: dict[str, int] = field(default_factory=dict)  # stage -> tries it took
    k: int = 0  # its number among the work items of its prompt (`<id>#<k>`)

    def rng(self, purpose: str) -> random.Random:
        return random.Random(derive_seed(self.seed, self.record.id, purpose))

    def call_seed(self, stage: str, attempt: int = 0) -> int:
        if attempt == 0:
            return derive_seed(self.seed, self.record.id, stage)
        return derive_seed(self.seed, self.record.id, stage, "attempt", attempt)


class Method(ABC):
    name: str = "method"

    def __init__(self, task: Task, sampling: SamplingConfig | None = None, attempts: int = 1) -> None:
        if attempts < 1:
            raise UsageError(f"--attempts must be at least 1, got {attempts}")
        self.task = task
        self.sampling = sampling or SamplingConfig()
        self.attempts = attempts

    def items_for(self, record: PromptRecord, pairs_per_prompt: int) -> int:
        """How many work items (pairs to make) `record` becomes: `pairs_per_prompt`, unless a method
        says otherwise for given responses (RLAIF: one per listed pair). A method that cannot use
        the record raises `InputError` naming its file, line and field (RLCD and `responses`)."""
        return pairs_per_prompt

    def policy_messages(self, record: PromptRecord) -> list[Message]:
        return self.task.policy_messages(record.prompt, record.context)

    def request(self, messages: list[Message], stage: str, item: WorkItem, attempt: int = 0,
                **overrides: Any) -> ChatRequest:
        params: dict[str, Any] = {
            "max_tokens": self.sampling.max_tokens,
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "seed": item.call_seed(stage, attempt),
            "stage": stage,
        }
        params.update(overrides)
        return ChatRequest.of(messages, **params)

    def conversation_text(self, record: PromptRecord) -> str:
        """The prompt as one block of text, for templates that show it to the LLM."""
        messages = self.policy_messages(record)
        if len(messages) == 1:
            return messages[0]["content"]
        return transcript(messages)

    def new_pair(self, item: WorkItem, llm: LLM, chosen: str, rejected: str, **fields: Any) -> Pair:
        """The pair, with the run's metadata and `attempts` (stage -> tries it took) among its extras."""
        record = item.record
        # The pair's prompt is what the policy saw, by the one rule a reward model is trained and
        # scored with (`prompts/model_input.py`).
        prompt: Any = model_input(record.prompt, record.context, self.task)
        fields["extra"] = {**fields.get("extra", {}), "attempts": dict(item.tries)}
        return Pair(
            id=record.id,
            prompt=prompt,
            chosen=chosen,
            rejected=rejected,
            method=self.name,
            conversational=record.conversational,
            model=llm.model,
            backend=llm.backend_name,
            task=self.task.name,
            params={
                "temperature": self.sampling.temperature,
                "top_p": self.sampling.top_p,
                "max_tokens": self.sampling.max_tokens,
                "seed": item.seed,
            },
            usage=item.usage,
            **fields,
        )

    async def attempt(self, item: WorkItem, llm: LLM, stage: str, build: Callable[[int], ChatRequest],
                      accept: Callable[[Completion], T], start: int = 0) -> T:
        """`accept(completion)` of the first try `build(k)` whose answer it takes (it raises a
        non-retryable `PairFailure` to refuse one); after `attempts` refusals the last one is raised
        with every try's reason in its detail. The tries taken go into `item.tries[stage]`. `start`
        skips tries already spent elsewhere (their seeds are not reused)."""
        reasons: list[str] = []
        last = PairFailure(stage, "no tries left")
        for k in range(start, self.attempts):
            request = build(k)
            try:
                answer = accept(await llm.chat(request, item.usage))
            except PairFailure as e:
                if e.retryable:
                    raise
                reasons.append(e.reason)
                last = e
                if request.temperature <= 0:
                    break
                continue
            item.tries[stage] = k + 1
            return answer
        raise PairFailure(stage, last.reason, **{**last.detail, "attempts": len(reasons), "reasons": reasons})

    @abstractmethod
    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        """Return a pair for `item`, or raise `PairFailure` with the stage and reason."""

    def run_stats(self) -> dict[str, Any]:
        """Facts about this run that no single pair shows (e.g. RLAIF's disagreement rate); they
        go into the run summary under `method_stats`."""
        return {}
