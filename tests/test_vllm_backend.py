"""The vLLM backend. Here (no GPU, no vLLM): the clear errors when either is missing, and, with a
stub `vllm` module, how requests become `LLM.chat` conversations and `SamplingParams`, batched into
one call, and how a bad prompt fails alone. Where vLLM and a CUDA GPU exist, one test runs a real
model; elsewhere it is reported as skipped, not passed."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from rmboost.backends import BackendError, ChatRequest, create_backend
from rmboost.backends.vllm_backend import VLLMBackend
from rmboost.errors import UserError


@dataclass
class Logprob:
    logprob: float
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    text: str
    token_ids: list[int]
    finish_reason: str
    logprobs: list[dict[int, Logprob]] | None = None


@dataclass
class RequestOutput:
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]


@dataclass
class StubLLM:
    """Records what vLLM would be given; answers each conversation with its last message, reversed."""

    model: str
    options: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[list[list[dict[str, str]]], list[Any], bool]] = field(default_factory=list)

    def chat(self, messages: list[list[dict[str, str]]], sampling_params: list[Any],
             use_tqdm: bool = True) -> list[RequestOutput]:
        self.calls.append((messages, sampling_params, use_tqdm))
        if any("too long" in m["content"] for conv in messages for m in conv):
            raise ValueError("prompt is longer than max_model_len")
        out = []
        for conv, params in zip(messages, sampling_params, strict=True):
            text = conv[-1]["content"][::-1]
            n = params.kwargs["max_tokens"]
            logprobs = [{7: Logprob(-0.5, "ab"), 8: Logprob(-1.5)}] if params.kwargs["logprobs"] else None
            out.append(RequestOutput(list(range(len(conv) * 3)), [CompletionOutput(
                text, list(range(min(n, 4))), "length" if n < 4 else "stop", logprobs)]))
        return out


@pytest.fixture
def stub_vllm(monkeypatch: pytest.MonkeyPatch) -> list[StubLLM]:
    engines: list[StubLLM] = []
    module = types.ModuleType("vllm")

    def make_llm(model: str, **options: Any) -> StubLLM:
        engines.append(StubLLM(model, options))
        return engines[-1]

    class SamplingParams:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

    module.LLM = make_llm  # type: ignore[attr-defined]
    module.SamplingParams = SamplingParams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    return engines


def test_missing_vllm_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # what `import vllm` meets where it is not installed
    with pytest.raises(UserError, match="needs vLLM and a CUDA GPU: pip install vllm"):
        create_backend("vllm", model="some/model")


def test_missing_gpu_is_a_clear_error(stub_vllm: list[StubLLM], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match=r"needs a CUDA GPU and torch.cuda.is_available\(\) is False"):
        create_backend("vllm", model="some/model")


def test_concurrent_requests_become_one_chat_call(stub_vllm: list[StubLLM]) -> None:
    backend = create_backend("vllm", model="org/model", tensor_parallel_size="2",
                             gpu_memory_utilization="0.8", enforce_eager="true")
    system = {"role": "system", "content": "Be brief."}
    requests = [ChatRequest.of([system, {"role": "user", "content": f"q{i}"}],
                               max_tokens=16 if i else 2, temperature=0.3, top_p=0.9, seed=100 + i,
                               stop=["\n\n"] if i == 1 else None, logprobs=3 if i == 2 else None)
                for i in range(5)]

    async def send_apart() -> list[Any]:
        # The engine sends requests one by one from concurrent prompts, as here.
        return await asyncio.gather(*(backend.complete([r]) for r in requests))

    completions = [c[0] for c in asyncio.run(send_apart())]
    (engine,) = stub_vllm
    assert engine.model == "org/model"
    assert engine.options == {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.8, "enforce_eager": True}
    assert isinstance(backend, VLLMBackend) and backend.batches == [5] and len(engine.calls) == 1
    messages, params, use_tqdm = engine.calls[0]
    assert not use_tqdm
    assert messages[3] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q3"}]
    assert params[1].kwargs == {"temperature": 0.3, "top_p": 0.9, "max_tokens": 16, "seed": 101,
                                "stop": ["\n\n"], "logprobs": None}
    assert params[0].kwargs["max_tokens"] == 2 and params[0].kwargs["stop"] is None
    assert params[2].kwargs["logprobs"] == 3
    assert [c.text for c in completions] == ["0q", "1q", "2q", "3q", "4q"]
    assert completions[0].finish_reason == "length" and completions[1].finish_reason == "stop"
    assert (completions[1].prompt_tokens, completions[1].completion_tokens) == (6, 4)
    assert completions[2].top_logprobs == [{"ab": -0.5, "8": -1.5}] and completions[1].top_logprobs is None


def test_a_prompt_vllm_rejects_fails_alone(stub_vllm: list[StubLLM]) -> None:
    backend = create_backend("vllm", model="org/model")
    texts = ["fine", "this one is too long", "also fine"]
    requests = [ChatRequest.of([{"role": "user", "content": t}], seed=1) for t in texts]

    async def send_apart() -> list[Any]:
        return await asyncio.gather(*(backend.complete([r]) for r in requests), return_exceptions=True)

    results = asyncio.run(send_apart())
    assert results[0][0].text == "enif" and results[2][0].text == "enif osla"
    assert isinstance(results[1], BackendError) and not results[1].retryable
    assert "max_model_len" in str(results[1])
    # one batched call, then each request alone to find the bad one
    assert [len(m) for m, _, _ in stub_vllm[0].calls] == [3, 1, 1, 1]


HAVE_VLLM_GPU = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


@pytest.mark.skipif(not HAVE_VLLM_GPU, reason="needs vLLM and a CUDA GPU; not run on this machine")
def test_real_vllm_answers_batched_seeded_requests() -> None:  # pragma: no cover - GPU machines only
    import os

    model = os.environ.get("RMBOOST_VLLM_TEST_MODEL", "HuggingFaceTB/SmolLM2-135M-Instruct")
    backend = create_backend("vllm", model=model, gpu_memory_utilization="0.3", max_model_len="2048")
    ask = [{"role": "user", "content": "Name a colour."}]
    requests = [ChatRequest.of(ask, max_tokens=32, temperature=0.8, seed=7),
                ChatRequest.of(ask, max_tokens=32, temperature=0.8, seed=7),
                ChatRequest.of(ask, max_tokens=1, temperature=0.8, seed=8, logprobs=2)]

    async def send_apart() -> list[Any]:
        try:
            return await asyncio.gather(*(backend.complete([r]) for r in requests))
        finally:
            await backend.aclose()

    same, twin, short = (c[0] for c in asyncio.run(send_apart()))
    assert same.text and same.text == twin.text  # the request's seed fixes the sample
    assert short.finish_reason == "length" and short.completion_tokens == 1
    assert short.top_logprobs and all(math.isfinite(v) for v in short.top_logprobs[0].values())
    assert same.prompt_tokens > 0
