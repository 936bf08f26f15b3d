"""Backends by name. Each backend is one module, imported only when asked for, so an optional
dependency (llama-cpp-python, openai, vllm) is needed only by whoever uses that backend."""

from __future__ import annotations

import importlib
from typing import Any

from rmboost.backends.base import Backend, BackendError, Capabilities, ChatRequest, Completion
from rmboost.errors import UsageError, UserError

BACKENDS = {
    "llamacpp": "rmboost.backends.llamacpp:LlamaCppBackend",
    "openai": "rmboost.backends.openai_backend:OpenAIBackend",
    "fake": "rmboost.backends.fake:FakeBackend",
    "vllm": "rmboost.backends.vllm_backend:VLLMBackend",
}


def backend_class(name: str) -> type[Backend]:
    """The class of a backend by name (`llamacpp`, `openai`, `fake`, `vllm`) or `module:Class`."""
    target = BACKENDS.get(name, name)
    if ":" not in target:
        raise UsageError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)} or give module:Class")
    module_name, cls_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UserError(f"backend {name!r} needs a package that is not installed: {e}") from e
    return getattr(module, cls_name)  # type: ignore[no-any-return]


def create_backend(name: str, **options: Any) -> Backend:
    """Build a backend by name with `options`; an option the backend does not take is an error."""
    cls = backend_class(name)
    given = {k: v for k, v in options.items() if v is not None}
    known = cls.option_names()
    unknown = sorted(set(given) - known) if known is not None else []
    if unknown:
        raise UsageError(f"backend {name!r} takes no option {', '.join(unknown)}; "
                         f"it takes: {', '.join(sorted(known or ()))}")
    return cls(**given)


__all__ = ["Backend", "BackendError", "Capabilities", "ChatRequest", "Completion", "backend_class", "create_backend",
           "BACKENDS"]
