"""A fault-injecting OpenAI-compatible chat server on loopback, for reliability tests and benchmarks.

It serves `GET /v1/models` and `POST /v1/chat/completions`. Each request gets an answer or one of
these faults, each at its own rate (`FaultPlan.rates`; the rate of `length` is the share of answers
that are truncated):

  429        rate limited, with a `Retry-After` header        500 / 503  server errors
  drop       the connection is closed without a response       timeout    no answer for `hang` s
  malformed  HTTP 200 whose body is cut-off JSON              empty      HTTP 200 with `choices: []`
  garbled    HTTP 200, valid JSON of the wrong shape (`usage.prompt_tokens: "many"`, bad logprobs)
  length     HTTP 200 with `finish_reason: "length"` and a half answer

The choice is a pure function of the seed, the request body and how many times the server has seen
that body, so a run is reproducible at any concurrency and a retry rolls again. `length` is the
exception: a real server truncates the same request the same way every time, so it depends on the
body alone and a retry never helps. Answers carry a tag (the body's hash) that tests can find again
in the request cache. The server counts what it served (`served`, `log`).

Left out: streaming, tools, embeddings, and any real auth check. Run it in a thread with
`FaultServer(plan)` (a context manager), or as `python -m rmboost.testing.fault_server`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRANSIENT = ("429", "500", "503", "drop", "timeout", "malformed", "garbled", "empty")
FAULTS = (*TRANSIENT, "length")
WORDS = (
    "the passages name several candidates and the first release came out in nineteen ninety with "
    "a later remake by a different cast that most sources credit to the original writer"
).split()


@dataclass
class FaultPlan:
    """How often each fault happens (a probability per request), and how the faults behave."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    retry_after: str = "0.2"  # the Retry-After header sent with a 429 (seconds, or an HTTP date)
    hang: float = 2.0  # how long a `timeout` holds the connection before closing it
    latency: float = 0.0  # delay before every answer, so a run is slow enough to interrupt
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
        return cls(rates={k: total / len(kinds) for k in kinds}, **kw)

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


def answer_text(key: str, messages: list[dict[str, Any]]) -> str:
    """A deterministic answer tagged with the body's hash. A request that continues a conversation
    with an assistant turn is a rewrite, so its answer comes in the `<response>` tags RMBoost asks for."""
    n = 8 + int(key[:2], 16) % 20
    start = int(key[2:4], 16) % len(WORDS)
    body = " ".join(WORDS[(start + i) % len(WORDS)] for i in range(n))
    if any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        return f"<response>Revised answer {key[:12]}: {body}.</response>"
    return f"Answer {key[:12]}: {body}."


@dataclass(frozen=True, slots=True)
class Served:
    at: float  # time.monotonic() when the outcome was decided
    key: str
    attempt: int
    outcome: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so `drop` cuts a pooled connection as in real life
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        if self.server.owner.plan.echo_auth:
            message += f" (request had Authorization: {self.headers.get('Authorization')})"
        body = {"error": {"message": message, "type": "server_error", "code": status}}
        self._send(status, json.dumps(body).encode(), headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.rstrip("/").endswith("/models"):
            self._send(
                200,
                json.dumps({"object": "list", "data": [{"id": "fault-model", "object": "model"}]}).encode(),
            )
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
            messages = list(body["messages"])
        except (ValueError, KeyError, TypeError):
            self._error(400, "body must be JSON with 'messages'")
            return
        owner = self.server.owner
        plan = owner.plan
        key = body_key(body)
        outcome = owner.record(key, self.client_address[1])
        if outcome == "drop":
            self.close_connection = True
            return
        if outcome == "timeout":
            owner.stopping.wait(plan.hang)
            self.close_connection = True
            return
        if outcome == "429":
            self._error(429, "rate limited", {"Retry-After": plan.retry_after})
        elif outcome in ("500", "503"):
            self._error(int(outcome), "injected server error")
        elif outcome == "malformed":
            self._send(
                200, b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"index": 0, "mess'
            )
        elif outcome == "empty":
            self._send(200, json.dumps({**_completion(body, key, "", "stop"), "choices": []}).encode())
        elif outcome == "garbled":
            garbled = _completion(body, key, answer_text(key, messages), "stop")
            garbled["usage"]["prompt_tokens"] = "many"
            garbled["choices"][0]["logprobs"] = {"content": [{"token": 1, "logprob": "x"}]}
            self._send(200, json.dumps(garbled).encode())
        else:
            if plan.latency:
                time.sleep(plan.latency)
            text = answer_text(key, messages)
            finish = "stop"
            if outcome == "length":
                text, finish = text[: len(text) // 2], "length"
            self._send(200, json.dumps(_completion(body, key, text, finish)).encode())


def _completion(body: dict[str, Any], key: str, text: str, finish: str) -> dict[str, Any]:
    prompt_tokens = sum(
        len(str(m.get("content", "")).split()) + 4 for m in body["messages"] if isinstance(m, dict)
    )
    return {
        "id": f"chatcmpl-{key[:12]}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt_tokens + len(text.split()),
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultServer


class FaultServer:
    """The server in a background thread on a free loopback port; `url` is its `/v1` base URL."""

    def __init__(self, plan: FaultPlan | None = None, port: int = 0) -> None:
        self.plan = plan or FaultPlan()  # may be replaced while running
        self.served: Counter[str] = Counter()
        self.log: list[Served] = []
        self.peer_ports: set[int] = set()  # one per TCP connection the chat requests came on
        self.stopping = threading.Event()
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fault-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def record(self, key: str, peer_port: int = 0) -> str:
        with self._lock:
            self.peer_ports.add(peer_port)
            attempt = self._seen[key]
            self._seen[key] += 1
            outcome = self.plan.choose(key, attempt)
            self.served[outcome] += 1
            self.log.append(Served(time.monotonic(), key, attempt, outcome))
        return outcome

    @property
    def requests(self) -> int:
        return sum(self.served.values())

    def answered(self) -> Counter[str]:
        """How many times each body got a usable HTTP 200 answer (`ok` or `length`)."""
        with self._lock:
            return Counter(s.key for s in self.log if s.outcome in ("ok", "length"))

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def generate_argv(url: str, inp: object, out: object, *extra: str, concurrency: int = 2) -> list[str]:
    """The `rmboost generate` command line the reliability tests run against this server, in a
    fresh Python process (so it can be killed or run beside another)."""
    return [
        sys.executable, "-c", "import sys; from rmboost.cli import main; sys.exit(main())",
        "generate", "--input", str(inp), "--output", str(out), "--backend", "openai", "--base-url", url,
        "--model", "fault-model", "--task", "chat", "--concurrency", str(concurrency), "--no-progress", *extra,
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve a fault-injecting OpenAI-compatible API on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--rate", type=float, default=0.2, help="total fault rate, spread evenly over the faults"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    server = FaultServer(
        FaultPlan.uniform(args.rate, seed=args.seed, latency=args.latency), args.port
    ).start()
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
