"""The backend protocol: one async method that takes chat requests and returns completions.

A backend knows nothing of caching, methods or files: the `LLM` client (`llm.py`) adds the request
cache and the accounting on top, and the engine adds concurrency. New backends are new modules,
registered by name in `backends/__init__.py`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion to make. `stage` says which step of a method asks (y1, y2, judge, ...):
    it is for accounting, logs and the fake backend, and is not part of the cache key."""

    messages: tuple[tuple[tuple[str, str], ...], ...]
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: int | None = None
    # The answer must be these tags in order, each holding free text (`<response>...</response>`): a
    # backend that can constrain output (Capabilities.grammar) enforces it; others are not asked.
    tags: tuple[str, ...] = ()
    # The answer must be exactly one of these strings (a judge's "Verdict: A" / "Verdict: B"): a
    # backend that can constrain output enforces it, so a small model cannot ramble past its verdict.
    choices: tuple[str, ...] = ()
    stage: str = ""

    @staticmethod
    def of(messages: Sequence[Message], **params: Any) -> ChatRequest:
        frozen = tuple(tuple(sorted((str(k), str(v)) for k, v in m.items())) for m in messages)
        for key in ("stop", "tags", "choices"):
            if params.get(key) is not None:
                params[key] = tuple(params[key])
        return ChatRequest(messages=frozen, **params)

    @property
    def message_dicts(self) -> list[Message]:
        return [dict(m) for m in self.messages]

    def params(self) -> dict[str, Any]:
        """The sampling parameters, as they go into the cache key and the output metadata."""
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "stop": list(self.stop),
            "logprobs": self.logprobs,
            # Only when set, so that requests without tags keep the cache keys they always had.
            **({"tags": list(self.tags)} if self.tags else {}),
            **({"choices": list(self.choices)} if self.choices else {}),
        }


@dataclass(slots=True)
class Completion:
    text: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # One dict per generated token, {token: logprob} of the top alternatives, when asked for.
    top_logprobs: list[dict[str, float]] | None = None
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class BackendError(Exception):
    """A request that failed. `retryable` errors may succeed if sent again (rate limits, 5xx,
    dropped connections); the others (bad request, prompt too long) will not. `unsupported` names a
    request feature the backend or its server refused (e.g. "logprobs"), so a caller can ask again
    without it instead of reading the message."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 unsupported: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.unsupported = unsupported


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do, declared by its class, so that no caller branches on a backend's name."""

    logprobs: bool = False  # returns top-k token log-probabilities when a request asks for them
    stop: bool = True  # ends an answer at a request's stop strings
    grammar: bool = False  # can constrain an answer to a tag layout (`ChatRequest.tags`)
    prefix_cache: bool = False  # reuses the work of a prompt prefix an earlier request shared
    in_process: bool = False  # loads the model into this process (a Ray worker keeps it in an actor)
    gpu: bool = False  # needs a GPU per worker
    server: bool = False  # a client of a server at `base_url`
    # The option that sizes the backend to the requests in flight (set from --concurrency unless given).
    concurrency_option: str | None = None


class Backend(ABC):
    """Subclasses set `name` and `model` and implement `complete`."""

    name: str = "backend"
    model: str = ""
    capabilities: Capabilities = Capabilities()
    # Requests the backend can usefully run at once; the engine never exceeds --concurrency anyway.
    max_parallel: int = 64
    # Context window in tokens, when known: lets the engine reject an over-long prompt up front.
    context_length: int | None = None
    # The options (`--backend-arg` keys) that change what the backend answers, and so what a pair
    # holds: they go into an output's settings fingerprint, the others (threads, timeouts, batch
    # sizes) do not. None: every option may (vLLM hands any option to its engine).
    output_options: frozenset[str] | None = frozenset({"model"})

    @abstractmethod
    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Complete every request, in order. Raise `BackendError` when a request fails."""

    async def start(self) -> None:  # noqa: B027 (an optional hook: most backends need nothing)
        """Anything to settle before the first request, e.g. which model a server serves: the
        model is part of the cache key and of every pair, even when all answers come from cache."""

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        """Tokens the prompt takes, when the backend can tell without a request."""
        return None

    async def aclose(self) -> None:  # noqa: B027 (an optional hook)
        """Release connections, threads or models."""

    def describe(self) -> dict[str, Any]:
        """What identifies this backend's answers; goes into the cache key and the pair metadata."""
        return {"backend": self.name, "model": self.model}

    @classmethod
    def option_names(cls) -> set[str] | None:
        """The options (`--backend-arg` keys) the backend takes, from its constructor; None when it
        passes any option on (vLLM hands them to its engine)."""
        params = inspect.signature(cls.__init__).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return None
        return {name for name in params if name != "self"}
