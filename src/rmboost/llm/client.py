"""The client that methods talk to: a backend behind the request cache, with call and token
accounting. Methods never see the backend or the cache directly: what they need of the backend
(its model, name, capabilities, context window) is a property here.

Retries are the backend's business (only it knows which of its errors are transient); a failed
call surfaces here as `PairFailure`, which the engine writes to the failures file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from rmboost.backends.base import Backend, BackendError, Capabilities, ChatRequest, Completion, Message
from rmboost.llm.cache import RequestCache, cache_key
from rmboost.records import PairFailure, Usage


class LLM:
    def __init__(self, backend: Backend, cache: RequestCache | None = None, max_parallel: int | None = None):
        self.backend = backend
        self.cache = cache
        self.identity = backend.describe()
        self._gate = asyncio.Semaphore(max_parallel or backend.max_parallel)
        self.totals = Usage()
        self.billed = Usage()  # the calls sent, not answered from the cache: what a paid API charges for
        self.errors = 0
        self.sent = 0

    @property
    def model(self) -> str:
        return self.backend.model

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def capabilities(self) -> Capabilities:
        return self.backend.capabilities

    @property
    def context_length(self) -> int | None:
        return self.backend.context_length

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        return self.backend.count_tokens(messages)

    async def chat(self, request: ChatRequest, usage: Usage | None = None) -> Completion:
        """One completion, from the cache when it was answered before. A truncated answer
        (finish_reason `length`) is cached like any other but raises, so it is never used as is."""
        key = cache_key(self.identity, request) if self.cache is not None else ""
        completion = self.cache.get(key) if self.cache is not None else None
        if completion is None:
            async with self._gate:
                try:
                    self.sent += 1
                    completion = (await self.backend.complete([request]))[0]
                except BackendError as e:
                    self.errors += 1
                    detail = {"unsupported": e.unsupported} if e.unsupported else {}
                    raise PairFailure(request.stage or "llm", f"backend error: {e}", retryable=e.retryable,
                                      **detail) from e
            if self.cache is not None:
                self.cache.put(key, completion)
        self._account(completion, usage)
        if completion.finish_reason == "length":
            raise PairFailure(
                request.stage or "llm",
                f"answer truncated at max_tokens={request.max_tokens}",
                text=completion.text[-200:],
            )
        return completion

    async def chat_many(self, requests: Sequence[ChatRequest], usage: Usage | None = None) -> list[Completion]:
        # Let every call finish (and be counted in `usage`) before a failure propagates.
        results = await asyncio.gather(*(self.chat(r, usage) for r in requests), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if isinstance(r, Completion)]

    def _account(self, completion: Completion, usage: Usage | None) -> None:
        delta = Usage(
            calls=0 if completion.cached else 1,
            cached_calls=1 if completion.cached else 0,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            # An answer from the request cache read nothing: its prompt is counted, its reuse is not.
            reused_prompt_tokens=0 if completion.cached else int(completion.extra.get("reused_prompt_tokens", 0)),
        )
        self.totals.add(delta)
        if not completion.cached:
            self.billed.add(delta)
        if usage is not None:
            usage.add(delta)

    def describe(self) -> dict[str, Any]:
        return dict(self.identity)
