"""vLLM's offline engine (`vllm.LLM`) in-process, for a machine or a Ray worker that owns a GPU.

vLLM is imported when the backend is built, never before, and a missing vLLM or a missing GPU is a
`UserError` saying so. The model is loaded on first use. The engine hands requests over one at a
time, but vLLM is fast only on many sequences at once; so requests that arrive while a `chat`
call runs wait, and the next call takes all of them: one `LLM.chat` call per batch, with one
`SamplingParams` per request (seed included), run in a worker thread to keep the event loop free.

Left out: streaming, LoRA, and tensor parallelism across nodes (pass `tensor_parallel_size` through
`--backend-arg` for the GPUs of one node; across nodes, serve vLLM and use the openai backend).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from typing import Any

from rmboost.backends.base import Backend, BackendError, Capabilities, ChatRequest, Completion
from rmboost.errors import UserError

INT_OPTIONS = ("tensor_parallel_size", "max_model_len", "max_num_seqs", "seed")
FLOAT_OPTIONS = ("gpu_memory_utilization",)


def import_vllm() -> Any:
    try:
        return importlib.import_module("vllm")
    except ImportError as e:
        raise UserError("the vllm backend needs vLLM and a CUDA GPU: pip install vllm (on a GPU machine); "
                        "without a GPU, use --backend openai against a vLLM server elsewhere, "
                        "or llamacpp") from e


def require_gpu() -> None:
    try:
        import torch
    except ImportError as e:
        raise UserError("the vllm backend needs torch with CUDA (vLLM installs it)") from e
    if not torch.cuda.is_available():
        raise UserError("the vllm backend needs a CUDA GPU and torch.cuda.is_available() is False here; "
                        "use --backend openai against a vLLM server elsewhere, or llamacpp")


def engine_options(options: dict[str, Any]) -> dict[str, Any]:
    """`--backend-arg` values arrive as strings; give vLLM the types it expects."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in INT_OPTIONS:
            out[key] = int(value)
        elif key in FLOAT_OPTIONS:
            out[key] = float(value)
        elif isinstance(value, str) and value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
        else:
            out[key] = value
    return out


class VLLMBackend(Backend):
    name = "vllm"
    capabilities = Capabilities(logprobs=True, in_process=True, gpu=True)
    max_parallel = 256
    output_options = None  # any option goes to vLLM's engine, and dtype or quantization change answers

    def __init__(self, model: str = "HuggingFaceTB/SmolLM2-135M-Instruct", **options: Any) -> None:
        self._vllm = import_vllm()
        require_gpu()
        self.model = model
        self.options = engine_options(options)
        self._llm: Any = None
        self._waiting: list[tuple[ChatRequest, asyncio.Future[Completion]]] = []
        self._running = False
        self.batches: list[int] = []  # size of each chat() call, for tests and tuning

    def _load(self) -> Any:
        if self._llm is None:
            self._llm = self._vllm.LLM(model=self.model, **self.options)
        return self._llm

    def sampling_params(self, request: ChatRequest) -> Any:
        return self._vllm.SamplingParams(
            temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens,
            seed=request.seed, stop=list(request.stop or ()) or None, logprobs=request.logprobs or None,
        )

    def _chat(self, requests: list[ChatRequest]) -> list[Completion]:
        outputs = self._load().chat(
            [r.message_dicts for r in requests], [self.sampling_params(r) for r in requests], use_tqdm=False,
        )
        return [to_completion(out) for out in outputs]

    def _chat_batch(self, requests: list[ChatRequest]) -> list[Completion | BackendError]:
        """One call for the batch; when it fails (vLLM rejects the whole call for one prompt that is
        too long), each request alone, so only the bad one fails."""
        try:
            return list(self._chat(requests))
        except Exception as e:  # vLLM raises ValueError, RuntimeError...
            if len(requests) == 1:
                return [BackendError(f"vllm: {type(e).__name__}: {e}", retryable=False)]
        return [self._chat_batch([r])[0] for r in requests]

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        loop = asyncio.get_running_loop()
        futures = []
        for request in requests:
            future: asyncio.Future[Completion] = loop.create_future()
            self._waiting.append((request, future))
            futures.append(future)
        if not self._running:
            self._running = True
            loop.create_task(self._drain())
        return list(await asyncio.gather(*futures))

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # let the requests scheduled with this one join its batch
            while self._waiting:
                batch, self._waiting = self._waiting, []
                self.batches.append(len(batch))
                results = await asyncio.to_thread(self._chat_batch, [r for r, _ in batch])
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # cancelled while waiting
                        continue
                    if isinstance(result, BackendError):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._running = False

    async def aclose(self) -> None:
        self._llm = None  # vLLM frees the GPU when the engine is collected


def to_completion(output: Any) -> Completion:
    """A `vllm.RequestOutput` as a `Completion`."""
    first = output.outputs[0]
    top = None
    if first.logprobs:
        top = [{(lp.decoded_token or str(tok)): float(lp.logprob) for tok, lp in position.items()}
               for position in first.logprobs]
    return Completion(
        text=first.text,
        finish_reason=str(first.finish_reason or "stop"),
        prompt_tokens=len(output.prompt_token_ids or ()),
        completion_tokens=len(first.token_ids or ()),
        top_logprobs=top,
    )
