"""Backends by name. Each backend is one module, imported only when asked for, so an optional
dependency (llama-cpp-python, openai, vllm) is needed only by whoever uses that backend."""

from __future__ import annotations

import importlib
from typing import Any

from rmboost.backends.base import Backend, BackendError, ChatRequest, Completion
from rmboost.errors import UserError

BACKENDS = {
    "llamacpp": "rmboost.backends.llamacpp:LlamaCppBackend",
    "openai": "rmboost.backends.openai_backend:OpenAIBackend",
    "fake": "rmboost.backends.fake:FakeBackend",
    "vllm": "rmboost.backends.vllm_backend:VLLMBackend",
}


def create_backend(name: str, **options: Any) -> Backend:
    """Build a backend by name (`llamacpp`, `openai`, `fake`, `vllm`) or `module:Class`."""
    target = BACKENDS.get(name, name)
    if ":" not in target:
        raise UserError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)} or give module:Class")
    module_name, cls_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UserError(f"backend {name!r} needs a package that is not installed: {e}") from e
    cls = getattr(module, cls_name)
    return cls(**{k: v for k, v in options.items() if v is not None})  # type: ignore[no-any-return]


__all__ = ["Backend", "BackendError", "ChatRequest", "Completion", "create_backend", "BACKENDS"]
