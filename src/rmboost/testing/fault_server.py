"""The one OpenAI-compatible chat server of the tests and benchmarks: on loopback, fast, and able
to inject faults. With no faults it is a plain stub whose answers cost nothing, which is what the
orchestration benchmark needs; with faults it is what the reliability tests need.

It serves `GET /v1/models` and `POST /v1/chat/completions` over HTTP/1.1 keep-alive. Each request
gets an answer or one of these faults, each at its own rate (`FaultPlan.rates`; the rate of
`length` is the share of answers that are truncated):

  429        rate limited, with a `Retry-After` header        500 / 503  server errors
  drop       the connection is closed without a response       timeout    no answer for `hang` s
  malformed  HTTP 200 whose body is cut-off JSON              empty      HTTP 200 with `choices: []`
  garbled    HTTP 200, valid JSON of the wrong shape (`usage.prompt_tokens: "many"`, bad logprobs)
  length     HTTP 200 with `finish_reason: "length"` and a half answer

The choice is a pure function of the seed, the request body and how many times the server has seen
that body, so a run is reproducible at any concurrency and a retry rolls again. `length` is the
exception: a real server truncates the same request the same way every time, so it depends on the
body alone and a retry never helps. An answer follows what the last message asks for, as the fake
backend's do (a verdict, a score, text in the tags it names), and carries a tag (the body's hash)
that tests can find again in the request cache. The server counts what it served.

Run it in a thread with `FaultServer(plan)` (a context manager), in its own process with
`running_server(...)` (a benchmark's client then does not share the server's interpreter), or as
`python -m rmboost.testing.fault_server`. Left out: streaming, tools, embeddings, any real auth.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rmboost.backends.fake import instructed_reply

TRANSIENT = ("429", "500", "503", "drop", "timeout", "malformed", "garbled", "empty")
FAULTS = (*TRANSIENT, "length")
MODEL = "fault-model"


@dataclass
class FaultPlan:
    """How often each fault happens (a probability per request), and how the faults behave."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    retry_after: str = "0.2"  # the Retry-After header sent with a 429 (seconds, or an HTTP date)
    hang: float = 2.0  # how long a `timeout` holds the connection before closing it
    latency: float = 0.0  # delay before every answer: a model's time, or a run slow enough to interrupt
    echo_auth: bool = False  # error bodies quote the Authorization header, as careless proxies do

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
        if sum(self.rates.get(k, 0.0) for k in TRANSIENT) > 1.0:
            raise ValueError("the transient fault rates add up to more than 1")

    @classmethod
    def uniform(cls, total: float, kinds: tuple[str, ...] = FAULTS, **kw: Any) -> FaultPlan:
        """`total` spread evenly over `kinds`."""
        return cls(rates={k: total / len(kinds) for k in kinds} if total else {}, **kw)

    def choose(self, key: str, attempt: int) -> str:
        """The outcome for the `attempt`-th sighting (0-based) of the body hashed to `key`."""
        roll, edge = _unit(self.seed, key, attempt), 0.0
        for kind in TRANSIENT:
            edge += self.rates.get(kind, 0.0)
            if roll < edge:
                return kind
        return "length" if _unit(self.seed, key, "length") < self.rates.get("length", 0.0) else "ok"


def _unit(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def body_key(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def answer_text(key: str, messages: list[Any]) -> str:
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    return instructed_reply(str(last.get("content", "")), key)


def completion(body: dict[str, Any], key: str, text: str, finish: str) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) + 4 for m in body["messages"] if isinstance(m, dict))
    return {
        "id": f"chatcmpl-{key[:12]}", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                  "total_tokens": prompt_tokens + len(text.split())},
    }


@dataclass(frozen=True, slots=True)
class Served:
    at: float  # time.monotonic() when the outcome was decided
    key: str
    attempt: int
    outcome: str


@dataclass
class Reply:
    status: int = 200
    payload: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False  # close the connection (after the reply, or instead of one when payload is empty)


class FaultServer:
    """The server on its own event loop in a background thread, on a free loopback port; `url` is
    its `/v1` base URL. `plan` may be replaced while it runs."""

    def __init__(self, plan: FaultPlan | None = None, port: int = 0) -> None:
        self.plan = plan or FaultPlan()
        self.served: Counter[str] = Counter()
        self.log: list[Served] = []
        self.peer_ports: set[int] = set()  # one per TCP connection the chat requests came on
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-server", daemon=True)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"

    @property
    def requests(self) -> int:
        return sum(self.served.values())

    def record(self, key: str, peer_port: int = 0) -> str:
        with self._lock:
            self.peer_ports.add(peer_port)
            attempt = self._seen[key]
            self._seen[key] += 1
            outcome = self.plan.choose(key, attempt)
            self.served[outcome] += 1
            self.log.append(Served(time.monotonic(), key, attempt, outcome))
        return outcome

    def answered(self) -> Counter[str]:
        """How many times each body got a usable HTTP 200 answer (`ok` or `length`)."""
        with self._lock:
            return Counter(s.key for s in self.log if s.outcome in ("ok", "length"))

    def error(self, status: int, message: str, auth: str | None, headers: dict[str, str] | None = None) -> Reply:
        if self.plan.echo_auth:
            message += f" (request had Authorization: {auth})"
        body = {"error": {"message": message, "type": "server_error", "code": status}}
        return Reply(status, json.dumps(body).encode(), headers or {})

    async def chat(self, raw: bytes, auth: str | None, peer_port: int) -> Reply:
        try:
            body = json.loads(raw)
            messages = list(body["messages"])
        except (ValueError, KeyError, TypeError):
            return self.error(400, "body must be JSON with 'messages'", auth)
        plan, key = self.plan, body_key(body)
        outcome = self.record(key, peer_port)
        if outcome == "drop":
            return Reply(close=True)
        if outcome == "timeout":
            await asyncio.sleep(plan.hang)
            return Reply(close=True)
        if outcome == "429":
            return self.error(429, "rate limited", auth, {"Retry-After": plan.retry_after})
        if outcome in ("500", "503"):
            return self.error(int(outcome), "injected server error", auth)
        if outcome == "malformed":
            return Reply(payload=b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"index": 0, "mess')
        if outcome == "empty":
            return Reply(payload=json.dumps({**completion(body, key, "", "stop"), "choices": []}).encode())
        text = answer_text(key, messages)
        if outcome == "garbled":
            garbled = completion(body, key, text, "stop")
            garbled["usage"]["prompt_tokens"] = "many"
            garbled["choices"][0]["logprobs"] = {"content": [{"token": 1, "logprob": "x"}]}
            return Reply(payload=json.dumps(garbled).encode())
        if plan.latency:
            await asyncio.sleep(plan.latency)
        finish = "stop"
        if outcome == "length":
            text, finish = text[: len(text) // 2], "length"
        return Reply(payload=json.dumps(completion(body, key, text, finish)).encode())

    async def route(self, method: str, path: str, raw: bytes, headers: dict[str, str], peer_port: int) -> Reply:
        if method == "GET" and path.rstrip("/").endswith("/models"):
            return Reply(payload=json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode())
        if method == "POST" and path.rstrip("/").endswith("/chat/completions"):
            return await self.chat(raw, headers.get("authorization"), peer_port)
        return self.error(404, f"no route {path}", headers.get("authorization"))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_port = int((writer.get_extra_info("peername") or ("", 0))[1])
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, path, _ = head[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in head[1:] if ln)}
                raw = await reader.readexactly(int(headers.get("content-length") or 0))
                reply = await self.route(method, path, raw, headers, peer_port)
                if reply.payload or not reply.close:
                    extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
                    writer.write(f"HTTP/1.1 {reply.status} X\r\ncontent-type: application/json\r\n"
                                 f"content-length: {len(reply.payload)}\r\n{extra}\r\n".encode() + reply.payload)
                    await writer.drain()
                if reply.close:
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def start(self) -> FaultServer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.handle, "127.0.0.1", self._port, backlog=1024), self._loop)
        self._server = started.result(timeout=10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running_server(rate: float = 0.0, latency: float = 0.0, seed: int = 0) -> Iterator[str]:
    """The server in its own process; yields its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "rmboost.testing.fault_server", "--rate", str(rate),
                             "--latency", str(latency), "--seed", str(seed)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def generate_argv(url: str, inp: object, out: object, *extra: str, concurrency: int = 2) -> list[str]:
    """The `rmboost generate` command line the reliability tests run against this server, in a
    fresh Python process (so it can be killed or run beside another)."""
    return [
        sys.executable, "-c", "import sys; from rmboost.cli import main; sys.exit(main())",
        "generate", "--input", str(inp), "--output", str(out), "--backend", "openai", "--base-url", url,
        "--model", MODEL, "--task", "chat", "--concurrency", str(concurrency), "--no-progress", *extra,
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fault-injecting OpenAI-compatible API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rate", type=float, default=0.2, help="total fault rate, spread evenly over the faults")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    server = FaultServer(FaultPlan.uniform(args.rate, seed=args.seed, latency=args.latency), args.port).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(json.dumps(dict(server.served)), flush=True)


if __name__ == "__main__":
    main()
