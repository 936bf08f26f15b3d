"""The records that flow through rmboost: a prompt in, a preference pair or a failure out.

A `Pair` serialises to TRL's explicit-prompt preference format (`prompt`, `chosen`, `rejected`)
plus metadata columns. Reading and writing files is `io/`'s job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

Message = dict[str, str]
Prompt = str | list[Message]


def stable_id(prompt: Prompt, context: str | None = None) -> str:
    """A content hash, so a record without an `id` keeps the same id across runs."""
    blob = json.dumps({"prompt": prompt, "context": context}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(slots=True)
class PromptRecord:
    prompt: Prompt
    id: str
    context: str | None = None
    task: str | None = None
    # A response the user already has (e.g. an SFT output): RMBoost rewrites it instead of making y1.
    response: str | None = None
    source: str = ""
    line: int = 0
    # Responses the user already has, to compare (RLAIF, West-of-N) or to rewrite (RMBoost), and the
    # pairs among them to compare, as index pairs (None: every pair).
    responses: tuple[str, ...] | None = None
    response_pairs: tuple[tuple[int, int], ...] | None = None

    @property
    def conversational(self) -> bool:
        return not isinstance(self.prompt, str)

    def given_pairs(self) -> list[tuple[int, int]]:
        """The pairs of given responses to compare: those the row lists, else every pair (i < j)."""
        if self.responses is None:
            return []
        if self.response_pairs is not None:
            return list(self.response_pairs)
        n = len(self.responses)
        return [(i, j) for i in range(n) for j in range(i + 1, n)]


@dataclass(slots=True)
class Usage:
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Of the prompt tokens of the calls sent, those whose state a backend took from a cache instead
    # of reading them (the embedded model's shared prefixes); 0 where a backend does not say.
    reused_prompt_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.reused_prompt_tokens += other.reused_prompt_tokens


@dataclass(slots=True)
class Pair:
    """One preference pair. `prompt` is what the policy model saw (context included), so a reward
    model trained on the pair scores the same input the policy answers."""

    id: str
    prompt: Prompt
    chosen: str
    rejected: str
    method: str
    conversational: bool = False
    label: str | None = None
    aspects: list[str] = field(default_factory=list)
    model: str = ""
    backend: str = ""
    task: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        chosen: Any = self.chosen
        rejected: Any = self.rejected
        if self.conversational:
            chosen = [{"role": "assistant", "content": self.chosen}]
            rejected = [{"role": "assistant", "content": self.rejected}]
        row = {
            "prompt": self.prompt,
            "chosen": chosen,
            "rejected": rejected,
            "id": self.id,
            "method": self.method,
            "label": self.label,
            "aspects": list(self.aspects),
            "task": self.task,
            "model": self.model,
            "backend": self.backend,
            "params": dict(self.params),
            "usage": asdict(self.usage),
        }
        row.update(self.extra)
        return row


@dataclass(slots=True)
class Failure:
    """A prompt that made no pair, and why. `stage` names the step that failed (input, y1, y2, ...)."""

    id: str
    stage: str
    reason: str
    method: str = ""
    source: str = ""
    line: int = 0
    # A transient failure (the backend was down, rate-limited...) is tried again on the next run.
    retryable: bool = False
    usage: Usage = field(default_factory=Usage)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "reason": self.reason,
            "method": self.method,
            "source": self.source,
            "line": self.line,
            "retryable": self.retryable,
            "usage": asdict(self.usage),
            **({"detail": self.detail} if self.detail else {}),
        }


class PairFailure(Exception):
    """Raised by a method when a prompt cannot make a pair; the engine turns it into a `Failure`."""

    def __init__(self, stage: str, reason: str, *, retryable: bool = False, **detail: Any) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.retryable = retryable
        self.detail = detail
