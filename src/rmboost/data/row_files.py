"""Read and write rows (dicts) as JSONL, a JSON list, or Parquet, with the 1-based line or row number
of each row so that a bad row can be named. What a row must contain is the loaders' business.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from rmboost.errors import InputError, UserError
from rmboost.prompt_reader import decode_json_line

OnError = Literal["raise", "skip"]
T = TypeVar("T")


@dataclass(slots=True)
class SkipCounter:
    """How a loader treats a malformed row: raise `InputError` (the default) or skip and count it."""

    on_error: OnError = "raise"
    skipped: int = 0
    first_errors: list[str] = field(default_factory=list)

    def bad(self, error: InputError) -> None:
        if self.on_error == "raise":
            raise error
        self.skipped += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(str(error))


def is_parquet(path: str | Path) -> bool:
    return str(path).endswith((".parquet", ".pq"))


def read_rows(path: str | Path, counter: SkipCounter | None = None) -> Iterator[tuple[int, Any]]:
    """Yield `(line, row)` for each row. JSONL lines that are not JSON go through `counter`; a
    `.json` file holding a list yields its items numbered from 1; Parquet rows are numbered from 1."""
    counter = counter or SkipCounter()
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file")
    if is_parquet(p):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p)
        except Exception as e:  # pyarrow raises several unrelated types for a bad file
            raise UserError(f"{path}: not a readable Parquet file: {e}") from e
        for i, row in enumerate(table.to_pylist(), start=1):
            yield i, row
        return
    if p.suffix == ".json":
        data = decode_json_line(p.read_bytes(), str(path), 0)
        if isinstance(data, list):
            yield from enumerate(data, start=1)
            return
        raise InputError(str(path), 0, None, "a .json file must hold a list of rows")
    # Bytes, split at \n only: text mode would also split at a lone \r inside a row, and would
    # raise on the first invalid UTF-8 byte instead of naming the line.
    with p.open("rb") as f:
        for i, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                yield i, decode_json_line(raw, str(path), i)
            except InputError as e:
                counter.bad(e)


def parse_rows(path: str | Path, parse: Callable[[Any, str, int], T], counter: SkipCounter | None = None) -> list[T]:
    """`parse(row, source, line)` over every row of `path`; a bad row raises or is skipped and counted,
    as `counter` says. The one loop every pair loader shares."""
    counter = counter or SkipCounter()
    out = []
    for line, row in read_rows(path, counter):
        try:
            out.append(parse(row, str(path), line))
        except InputError as e:
            counter.bad(e)
    return out


def _parquet_safe(row: dict[str, Any]) -> dict[str, Any]:
    # Parquet cannot store an empty struct and needs one type per column, so free-form mappings
    # (params, usage, ...) are stored as JSON text.
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for k, v in row.items()}


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]], fmt: str | None = None) -> int:
    """Write rows as JSONL (default) or Parquet (`fmt="parquet"` or a `.parquet` name); return the count."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    if fmt == "parquet" or (fmt is None and is_parquet(p)):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([_parquet_safe(r) for r in rows]), p)
        return len(rows)
    with p.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)
