"""The one row-reading loop of every loader of rows (pairs, a data set's own rows, human labels):
open the file's rows with `io/rows.py`, parse each with the loader's own row parser, and count
what is not kept. A parser says what it does with a row by how it ends:

- it returns the parsed row: kept;
- it raises `LeftOut(reason)`: a well-formed row that the loader's documented rule leaves out (two
  conversations that differ before the last reply, a tie); counted under `reason` in the counter's
  `left_out`, never an error;
- it raises `InputError` (file, line, field): a malformed row, raised or skipped and counted as
  the counter's `--on-error` says (`io.rows.SkipCounter`), as is a line that is no JSON;
- it returns None: a row the parser has counted itself (a TL;DR line of another split).

Left out: what a row must hold (each loader's parser), requiring a non-empty file (the loaders
that do call `io.rows.require_rows` first), and how a loader lays out what it read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rmboost.io.rows import SkipCounter, parse_rows

T = TypeVar("T")


class LeftOut(Exception):
    """A well-formed row that a reader's documented rule leaves out: counted by reason, not an error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parsed_rows(path: str | Path, parse: Callable[[Any, str, int], T | None],
                counter: SkipCounter | None = None) -> list[T]:
    """`parse(row, source, line)` over every row of `path`, in file order: what it returns, with
    the rows it leaves out counted in `counter.left_out` and the malformed ones raised or skipped."""
    counted = counter or SkipCounter()

    def parse_or_leave_out(row: Any, source: str, line: int) -> T | None:
        try:
            return parse(row, source, line)
        except LeftOut as e:
            counted.leave_out(e.reason)
            return None

    return [item for item in parse_rows(path, parse_or_leave_out, counted) if item is not None]
