"""Config dataclasses whose fields carry their CLI help (`option(...)`), and the two-way bridge
between such a dataclass and argparse, as TRL does: one dataclass per command, built into options
by `add_dataclass_args` and back by `from_args`. Which commands exist is `cli/`'s business."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import field
from typing import Any, TypeVar

T = TypeVar("T")


def option(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with CLI metadata: `help`, and optionally `choices` and `required`, and
    what the option applies to, for the commands that refuse an option that would be ignored:
    `methods` (e.g. `("rmboost",)`) and `engines` (e.g. `("ray",)`)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **meta})
    return field(default=default, metadata={"help": help, **meta})


def on_error_option(what: str = "row") -> Any:
    """`--on-error raise|skip` for commands that read human-labelled data."""
    return option("raise", f"a malformed {what} stops the run, or is skipped and counted", choices=["raise", "skip"])


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def field_how(f: dataclasses.Field[Any]) -> dict[str, Any]:
    """What a field's metadata fixes of its argparse argument, for both ways an argument is made
    (`add_dataclass_args`, and `cli.add_option` for one field spelt otherwise): its choices, and
    that it is required, or else its default (a default factory called once)."""
    how: dict[str, Any] = {}
    if f.metadata.get("choices"):
        how["choices"] = f.metadata["choices"]
    if f.metadata.get("required"):
        how["required"] = True
    elif f.default is not dataclasses.MISSING:
        how["default"] = f.default
    elif f.default_factory is not dataclasses.MISSING:
        how["default"] = f.default_factory()
    return how


def add_dataclass_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or f.metadata.get("cli") is False:
            continue
        kind = hints[f.name]
        help_text = f.metadata.get("help", "")
        kwargs = field_how(f)
        # A help text that speaks of its default already names it (or says why there is none).
        said = "default" in help_text.lower()
        shown = "" if f.metadata.get("required") or said else f" (default: {kwargs.get('default')})"
        kwargs.update(dest=f.name, help=help_text + shown)
        origin = typing.get_origin(kind)
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        base = args[0] if origin in (typing.Union, types.UnionType) and len(args) == 1 else kind
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(base) is list:
            kwargs.update(action="append", default=None, type=typing.get_args(base)[0])
        else:
            kwargs["type"] = base if base in (int, float, str) else str
        parser.add_argument(_flag(f.name), **kwargs)


def from_args(cls: type[T], ns: argparse.Namespace, **overrides: Any) -> T:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if hasattr(ns, f.name):
            v = getattr(ns, f.name)
            if v is not None:
                values[f.name] = v
    values.update(overrides)
    return cls(**values)
