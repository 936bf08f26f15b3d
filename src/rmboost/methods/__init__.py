"""Methods by name; each method is one module, built from the task, sampling and its options."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from rmboost.errors import UsageError
from rmboost.methods.base import Method, SamplingConfig, WorkItem

METHODS = {
    "rmboost": "rmboost.methods.rmboost:RMBoost",
    "rlaif": "rmboost.methods.rlaif:RLAIF",
    "west-of-n": "rmboost.methods.west_of_n:WestOfN",
    "rlcd": "rmboost.methods.rlcd:RLCD",
}


def method_class(name: str) -> type[Method]:
    """The class of method `name`: the one check of a method's name (`rmboost generate --method`, an
    experiment's `methods`). An unknown name is a usage mistake, a one-line `UsageError`."""
    if name not in METHODS:
        raise UsageError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    module_name, cls_name = METHODS[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)  # type: ignore[no-any-return]


def create_method(name: str, **options: Any) -> Method:
    cls = method_class(name)
    # Every method gets the same option bag from the CLI; each takes the options it declares.
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in options.items() if k in accepted})  # type: ignore[no-any-return]


__all__ = ["Method", "SamplingConfig", "WorkItem", "create_method", "method_class", "METHODS"]
