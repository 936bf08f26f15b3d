"""What every method shares: the `Method` interface, the per-prompt work item, and deterministic
seeds. A method builds prompts, parses answers and returns a `Pair` or raises `PairFailure`; it
knows nothing of files, caching or concurrency (that is the engine's job).
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rmboost.backends.base import ChatRequest
from rmboost.llm import LLM
from rmboost.prompts.tasks import Message, Task
from rmboost.records import Pair, PromptRecord, Usage


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

    def rng(self, purpose: str) -> random.Random:
        return random.Random(derive_seed(self.seed, self.record.id, purpose))

    def call_seed(self, stage: str) -> int:
        return derive_seed(self.seed, self.record.id, stage)


class Method(ABC):
    name: str = "method"

    def __init__(self, task: Task, sampling: SamplingConfig | None = None) -> None:
        self.task = task
        self.sampling = sampling or SamplingConfig()

    def policy_messages(self, record: PromptRecord) -> list[Message]:
        return self.task.policy_messages(record.prompt, record.context)

    def request(self, messages: list[Message], stage: str, item: WorkItem, **overrides: Any) -> ChatRequest:
        params: dict[str, Any] = {
            "max_tokens": self.sampling.max_tokens,
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "seed": item.call_seed(stage),
            "stage": stage,
        }
        params.update(overrides)
        return ChatRequest.of(messages, **params)

    def conversation_text(self, record: PromptRecord) -> str:
        """The prompt as one block of text, for templates that show it to the LLM."""
        messages = self.policy_messages(record)
        if len(messages) == 1:
            return messages[0]["content"]
        return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)

    def new_pair(self, item: WorkItem, llm: LLM, chosen: str, rejected: str, **fields: Any) -> Pair:
        record = item.record
        messages = self.policy_messages(record)
        prompt: Any = messages if record.conversational else messages[0]["content"]
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

    @abstractmethod
    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        """Return a pair for `item`, or raise `PairFailure` with the stage and reason."""

    def run_stats(self) -> dict[str, Any]:
        """Facts about this run that no single pair shows (e.g. RLAIF's disagreement rate); they
        go into the run summary under `method_stats`."""
        return {}
