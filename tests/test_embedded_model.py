"""The real embedded model: in-process through llama-cpp-python, and behind llama-cpp-python's
OpenAI-compatible server on loopback through the `openai` backend. Small and greedy, so it is fast
and comparable; these are the integration tests of issue 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.backends.gguf_weights import weights_copy
from rmboost.backends.llamacpp import DEFAULT_WEIGHTS, LlamaCppBackend, packaged_gguf
from rmboost.backends.openai_backend import OpenAIBackend
from rmboost.errors import InputError
from rmboost.generation.config import GenerateConfig

pytestmark = pytest.mark.slow

PROMPTS = [
    {"id": "bloom", "prompt": "When did Bloom by Troye Sivan come out?",
     "context": "Bloom is the second studio album by Troye Sivan, released on 31 August 2018."},
    {"id": "paris", "prompt": "What is the capital of France?",
     "context": "Paris is the capital and largest city of France."},
    # Greedy rewrites of a 135M model often repeat y1 or comment on it: four prompts, so that one at
    # least makes a pair with either weight format (measured: one of four with Q4_1 and with Q8_0).
    {"id": "bees", "prompt": "What do bees make?",
     "context": "Honey bees make honey from the nectar of flowers and store it in wax combs."},
    {"id": "spider", "prompt": "How many legs does a spider have?",
     "context": "Spiders are arachnids: they have eight legs and two body parts."},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = log_path.open("wb")
    # The file the in-process backend runs by default (the Q8_0 copy of the shipped model), so both
    # sides of the comparison below compute with the same weights.
    model = weights_copy(packaged_gguf(), DEFAULT_WEIGHTS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "server did not start:\n" + log_path.read_text(errors="replace")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def cfg(inp: Path, out: Path, backend: str, **kw: object) -> GenerateConfig:
    return GenerateConfig(input=str(inp), output=str(out), backend=backend, temperature=0.0, max_tokens=96,
                          seed=1, progress=False, **kw)  # type: ignore[arg-type]


def test_in_process_and_server_pairs_look_alike(tmp_path: Path, server_url: str) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", PROMPTS)
    local = generate(cfg(inp, tmp_path / "local.jsonl", "llamacpp"))
    # llama.cpp's server adds a repeat penalty of 1.1 by default; the in-process decoder has none.
    # One request at a time: llama-cpp-python's server answered a rewrite with y1 again when
    # requests overlapped (measured here; it serves one Llama object to every connection).
    remote = generate(cfg(inp, tmp_path / "server.jsonl", "openai", base_url=server_url, concurrency=1,
                          backend_arg=['extra_body={"repeat_penalty": 1.0}']))
    assert local.pairs + local.failures == len(PROMPTS) and remote.pairs + remote.failures == len(PROMPTS)
    assert remote.calls_sent == local.calls_sent and remote.prompt_tokens > 0
    local_rows = {r["id"]: r for r in read_jsonl(tmp_path / "local.jsonl")}
    remote_rows = {r["id"]: r for r in read_jsonl(tmp_path / "server.jsonl")}
    # Greedy decoding of the same GGUF: the same prompts make pairs either way, and at least one does,
    # so the comparison below compares something.
    assert set(local_rows) == set(remote_rows) and local_rows, (local_rows, remote_rows)
    for pid, row in remote_rows.items():
        twin = local_rows[pid]
        assert row["backend"] == "openai" and twin["backend"] == "llamacpp" and row["model"]
        # Same prompt layout, label and aspects: the pair is built the same way whatever serves it.
        assert (row["prompt"], row["label"], row["aspects"]) == (twin["prompt"], twin["label"], twin["aspects"])
        # y1 (the response kept as is) is the same text.
        y1_local = twin["rejected"] if twin["label"] == "BETTER" else twin["chosen"]
        y1_remote = row["rejected"] if row["label"] == "BETTER" else row["chosen"]
        assert y1_local == y1_remote


def test_openai_backend_without_model_uses_the_servers_model(server_url: str) -> None:
    import asyncio

    from rmboost.backends.base import ChatRequest

    backend = OpenAIBackend(base_url=server_url)
    request = ChatRequest.of([{"role": "user", "content": "Say hi."}], max_tokens=8, temperature=0.0)
    completion = asyncio.run(backend.complete([request]))[0]
    assert backend.model and completion.completion_tokens > 0 and completion.finish_reason in ("stop", "length")


def test_seeded_sampling_is_repeatable_in_process() -> None:
    import asyncio

    from rmboost.backends.base import ChatRequest

    # No prefix reuse: every call computes its prompt from nothing, so the repeat is computed exactly as
    # the first was (a reused prefix changes the logits in the last bits: test_llamacpp_batch.py).
    backend = LlamaCppBackend(prefix_reuse=False)
    request = ChatRequest.of([{"role": "user", "content": "Name a colour."}], max_tokens=16, temperature=0.9, seed=7)
    first = asyncio.run(backend.complete([request]))[0].text
    asyncio.run(backend.complete([ChatRequest.of([{"role": "user", "content": "Other."}], max_tokens=8, seed=3)]))
    assert asyncio.run(backend.complete([request]))[0].text == first


def test_prompt_over_the_context_window_is_an_input_error(tmp_path: Path) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "long", "prompt": "q", "context": "word " * 3000}])
    with pytest.raises(InputError, match=r"in.jsonl:1: field 'context'.*1024 tokens"):
        generate(cfg(inp, tmp_path / "out.jsonl", "llamacpp", backend_arg=["n_ctx=1024"]))
