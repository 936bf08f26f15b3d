"""A loopback OpenAI-compatible chat server that answers every request after a fixed delay.

It exists to measure orchestration: the answer costs no compute, so whatever a client achieves
above `concurrency / latency` is lost in the client. It serves `GET /v1/models` and
`POST /v1/chat/completions` over HTTP/1.1 keep-alive, and answers an RMBoost rewrite (a request
whose last message asks for `<response>` tags) with a tagged answer that differs from the first,
so rmboost makes a pair, not a failure. Left out: streaming, errors and faults (tests have their
own fault-injecting server), authentication.

Run: `python benchmarks/stub_server.py --port 0 --delay 0.05` prints `http://127.0.0.1:PORT/v1`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODELS = json.dumps(
    {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "bench"}]}
).encode()


def answer(body: dict) -> bytes:
    messages = body.get("messages") or [{}]
    last = str(messages[-1].get("content", ""))
    tag = hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:10]
    text = f"The answer, as the passages say, is {tag}."
    if "<response>" in last:
        text = f"<response>According to the passages the answer is {tag}, released in 2018.</response>"
    return json.dumps(
        {
            "id": "chatcmpl-" + tag,
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "stub"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112},
        }
    ).encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
            }
            raw = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "GET" and path.endswith("/models"):
                status, payload = "200 OK", MODELS
            elif method == "POST" and path.endswith("/chat/completions"):
                if delay:
                    await asyncio.sleep(delay)
                status, payload = "200 OK", answer(json.loads(raw))
            else:
                status, payload = "404 Not Found", b'{"error": {"message": "not found"}}'
            writer.write(
                f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(payload)}\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int, delay: float) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, delay), "127.0.0.1", port, backlog=1024)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1", flush=True)
    async with server:
        await server.serve_forever()


@contextmanager
def running_stub(delay: float) -> Iterator[str]:
    """Start the stub in its own process (so it does not share the client's event loop) and yield
    its base URL."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--port", "0", "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each chat answer")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.delay))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
