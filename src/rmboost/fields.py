"""Dataclass fields that carry their CLI help, shared by every command's config (`cli/options.py`
turns them into argparse options)."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def option(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with CLI metadata: `help`, and optionally `choices` and `required`."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **meta})
    return field(default=default, metadata={"help": help, **meta})


def on_error_option(what: str = "row") -> Any:
    """`--on-error raise|skip` for commands that read human-labelled data."""
    return option("raise", f"a malformed {what} stops the run, or is skipped and counted", choices=["raise", "skip"])
