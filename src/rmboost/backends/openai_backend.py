"""Any OpenAI-compatible chat server (vLLM, llama.cpp server, TGI, Ollama, OpenAI) through the
`openai` async client.

Retries are done here, not by the client (its own are switched off), so that the policy is one we
can test: exponential backoff with full jitter, at least the server's Retry-After on 429/503,
retry on 408/409/429/5xx, dropped connections, timeouts, malformed bodies and empty `choices`.
`extra_body` (a JSON object) adds server-specific fields to every request (llama.cpp server's
`repeat_penalty`, ...); `guided=true` says the server takes vLLM's `guided_regex`, which then
holds an answer to the request's tag layout (`ChatRequest.tags`).
The API key comes from the `api_key` argument or OPENAI_API_KEY and is never part of
`describe()`, so it never reaches the cache, the pair metadata or a summary.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import os
import random
import ssl
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from rmboost.backends.base import Backend, BackendError, Capabilities, ChatRequest, Completion
from rmboost.errors import UsageError

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _basic_auth(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.username is None and parts.password is None:
        return None
    user_pass = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    return base64.b64encode(user_pass.encode()).decode()


def split_credentials(base_url: str) -> tuple[str, dict[str, str]]:
    """`http://user:pw@host/v1` -> (`http://host/v1`, a Basic Authorization header). The HTTP client
    logs every request's URL at INFO, so a password left in the URL would end up in logs."""
    basic = _basic_auth(base_url)
    if basic is None:
        return base_url, {}
    parts = urlsplit(base_url)
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, {"Authorization": f"Basic {basic}"}


def secrets_of(api_key: str, base_url: str) -> list[str]:
    """What must never be written: the key, a password in the URL, and its Basic-auth encoding."""
    password = urlsplit(base_url).password
    found = [api_key, *((unquote(password), password, _basic_auth(base_url) or "") if password else ())]
    return [s for s in found if len(s) >= 8 and s != "not-needed"]


def public_url(url: str) -> str:
    """The URL without any user:password part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class OpenAIBackend(Backend):
    name = "openai"
    capabilities = Capabilities(logprobs=True, server=True)

    def __init__(
        self,
        model: str = "",
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | str = 120.0,
        max_retries: int | str = 6,
        backoff_base: float | str = 0.5,
        backoff_max: float | str = 30.0,
        max_parallel: int | str = 64,
        clients: int | str = 8,
        extra_body: str | dict[str, Any] | None = None,
        guided: bool | str = False,
    ) -> None:
        import openai

        self._openai = openai
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.model = model
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_parallel = int(max_parallel)
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self._secrets = secrets_of(key, self.base_url)
        url, headers = split_credentials(self.base_url)
        # Requests go round-robin over several clients, each with its own httpx pool: httpx scans
        # every idle connection of a pool on each request, and at concurrency 64 that scan took ~23%
        # of the client's CPU with one pool (docs/PERFORMANCE.md, section 1).
        # Server-specific sampling fields sent with every request, e.g. {"repeat_penalty": 1.0} for
        # llama.cpp's server, whose default of 1.1 differs from the in-process backend.
        self.extra_body = parse_extra_body(extra_body)
        # A vLLM-compatible server constrains an answer to a request's tag layout with `guided_regex`
        # and to a list of allowed answers with `guided_choice`; others reject the fields, so they
        # are sent only when asked for.
        if str(guided).lower() in ("1", "true", "yes"):
            self.capabilities = replace(type(self).capabilities, grammar=True)
        n_clients = int(clients)
        if n_clients < 1:
            raise UsageError(f"--backend-arg clients={clients}: must be at least 1")
        # One TLS context for all of them: building one loads the CA bundle, and 8 of them showed in
        # the CLI's start-up (`benchmarks/bench_orchestration.py --cli-only` prints the build time).
        tls = _tls_context()
        self.clients = [
            openai.AsyncOpenAI(base_url=url, api_key=key, timeout=float(timeout), max_retries=0,
                               default_headers=headers, http_client=openai.DefaultAsyncHttpxClient(verify=tls))
            for _ in range(n_clients)
        ]
        self.client = self.clients[0]
        self._next_client = 0
        self._model_lock = asyncio.Lock()
        self.retries = 0

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": public_url(self.base_url)}

    def _redact(self, text: str) -> str:
        # A server or proxy may quote the request's Authorization header in its error body, and
        # error messages end up in failure files and run summaries.
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    async def _resolve_model(self) -> str:
        """With no --model, use the server's first model (llama.cpp and vLLM serve exactly one)."""
        if self.model:
            return self.model
        async with self._model_lock:
            if not self.model:
                try:
                    models = await self.client.models.list()
                except self._openai.OpenAIError as e:
                    message = f"no --model given and listing the server's models failed: {e}"
                    raise BackendError(self._redact(message)) from e
                if not models.data:
                    raise BackendError("no --model given and the server lists no models")
                self.model = models.data[0].id
        return self.model

    async def start(self) -> None:
        await self._resolve_model()

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return list(await asyncio.gather(*(self._complete_one(r) for r in requests)))

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        wait = random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))
        return max(wait, retry_after or 0.0)

    async def _complete_one(self, request: ChatRequest) -> Completion:
        model = await self._resolve_model()
        last: BackendError | None = None
        for attempt in range(self.max_retries + 1):
            try:
                return await self._send(model, request)
            except BackendError as e:
                if not e.retryable:
                    raise
                last = e
            if attempt < self.max_retries:
                self.retries += 1
                await asyncio.sleep(self.backoff(attempt, last.retry_after))
        assert last is not None
        raise BackendError(f"gave up after {self.max_retries + 1} attempts: {last}", retryable=True)

    async def _send(self, model: str, request: ChatRequest) -> Completion:
        o = self._openai
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": request.message_dicts,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if request.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = request.logprobs
        extra = dict(self.extra_body)
        if request.tags and self.capabilities.grammar:
            extra["guided_regex"] = tags_regex(request.tags)
        if request.choices and self.capabilities.grammar:
            extra["guided_choice"] = list(request.choices)
        if extra:
            kwargs["extra_body"] = extra
        client = self.clients[self._next_client]
        self._next_client = (self._next_client + 1) % len(self.clients)
        try:
            response = await client.chat.completions.create(**kwargs)
        except o.APIStatusError as e:
            status = e.status_code
            retry_after = parse_retry_after(e.response.headers.get("retry-after"))
            # A server that cannot return log-probabilities says so in a 400 naming them (vLLM, llama.cpp).
            refused = "logprobs" if status == 400 and request.logprobs and "logprob" in str(e.message).lower() else None
            # Redact before cutting, so no piece of a key survives the cut.
            raise BackendError(self._redact(f"HTTP {status}: {e.message}")[:300], retryable=status in RETRY_STATUS,
                               retry_after=retry_after, unsupported=refused) from e
        except (o.APIConnectionError, o.APIResponseValidationError) as e:  # timeouts are connection errors
            raise BackendError(self._redact(f"{type(e).__name__}: {e}"), retryable=True) from e
        except ValueError as e:  # a body that is not JSON
            raise BackendError(self._redact(f"malformed response: {e}"), retryable=True) from e
        choices = getattr(response, "choices", None)
        if not choices:
            raise BackendError("response has no choices", retryable=True)
        choice = choices[0]
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str):
            raise BackendError("response has no message content", retryable=True)
        usage = getattr(response, "usage", None)
        try:
            return Completion(
                text=text,
                finish_reason=str(getattr(choice, "finish_reason", None) or "stop"),
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                top_logprobs=_top_logprobs(choice),
            )
        except (TypeError, ValueError, AttributeError) as e:  # valid JSON of the wrong shape: not validated
            raise BackendError(self._redact(f"malformed response: {e}"), retryable=True) from e

    async def aclose(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


def tags_regex(tags: tuple[str, ...]) -> str:
    """The regex of an answer that is `tags` in order, each holding text without `<`."""
    return r"\s*" + r"\s*".join(f"<{t}>[^<]*</{t}>" for t in tags)


def parse_extra_body(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """`--backend-arg extra_body='{"repeat_penalty": 1.0}'`: a JSON object, or a mapping from Python."""
    if value is None or isinstance(value, dict):
        return dict(value or {})
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as e:
        raise UsageError(f"--backend-arg extra_body: not JSON ({e})") from e
    if not isinstance(parsed, dict):
        raise UsageError("--backend-arg extra_body: must be a JSON object")
    return parsed


def _tls_context() -> ssl.SSLContext:
    """The context the HTTP client would build for itself: certifi's CA bundle when installed."""
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _top_logprobs(choice: Any) -> list[dict[str, float]] | None:
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return [{alt.token: float(alt.logprob) for alt in (tok.top_logprobs or [])}
            or {tok.token: float(tok.logprob)} for tok in content]
