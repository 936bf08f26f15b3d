"""The one place rows (dicts) are read from and written to files: JSONL (one JSON value a line), a
`.json` file holding a list, or Parquet (`.parquet` or `.pq`). A `.json` file that does not open
with `[` is JSON lines under another name (OpenAI's TL;DR `batch*.json`, `datasets`' `to_json`), or
one pretty-printed object (one row).
Rows carry their 1-based line (row, for Parquet) number, so a bad one can be named. What a row must
contain is the loaders' business.

One schema for Parquet: a column whose values are mappings (`params`, `usage`, ...) is stored as
JSON text, since Parquet cannot store an empty struct and wants one type per column; the file's
metadata lists those columns and `read_rows` turns them back into mappings. Lists of messages stay
lists of structs. Reading streams (JSONL a line at a time, Parquet a batch at a time).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from rmboost.errors import InputError, UserError

OnError = Literal["raise", "skip"]
T = TypeVar("T")
JSON_COLUMNS_KEY = b"rmboost.json_columns"


@dataclass(slots=True)
class SkipCounter:
    """How a loader treats a malformed row: raise `InputError` (the default) or skip and count it.
    `left_out` counts well-formed rows a loader's documented rule leaves out (not errors), by reason;
    `notes` counts what a rule changed or left out inside a row that is itself counted (a stripped
    text, an unrated completion), so rows read = kept + left out + skipped still holds."""

    on_error: OnError = "raise"
    skipped: int = 0
    first_errors: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1

    def note(self, reason: str, n: int = 1) -> None:
        if n:
            self.notes[reason] = self.notes.get(reason, 0) + n

    def bad(self, error: InputError) -> None:
        if self.on_error == "raise":
            raise error
        self.skipped += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(str(error))


def is_parquet(path: str | Path) -> bool:
    return str(path).endswith((".parquet", ".pq"))


# JSON can spell a lone UTF-16 surrogate as an escape; the string it makes cannot be written as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def decode_json_line(raw: bytes, source: str, line_no: int) -> Any:
    """One JSON value from one line (or a whole file); `InputError` if it is not UTF-8, not JSON,
    nested too deeply to parse, or holds a lone surrogate. A UTF-8 byte order mark is ignored."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(source, line_no, None, f"is not valid UTF-8 (byte {e.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(source, line_no, None, f"is not valid JSON: {e}") from None
    except RecursionError:
        raise InputError(source, line_no, None, "is not valid JSON: nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(source, line_no, None, "holds a lone surrogate escape such as \\ud800, "
                             "which is not valid Unicode") from None
    return value


def _parquet_rows(path: Path) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several unrelated types for a bad file
        raise UserError(f"{path}: not a readable Parquet file: {e}") from e
    meta = parquet.schema_arrow.metadata or {}
    json_columns = set(json.loads(meta[JSON_COLUMNS_KEY])) if JSON_COLUMNS_KEY in meta else set()
    row_no = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            row_no += 1
            for name in json_columns & row.keys():
                if isinstance(row[name], str):
                    row[name] = json.loads(row[name])
            yield row_no, row


def _opens_a_list(path: Path) -> bool:
    """Whether a `.json` file's first character (after blanks and a byte order mark) is `[`; an
    empty or blank file counts as a list, so it is refused as one."""
    with path.open("rb") as f:
        while chunk := f.read(4096):
            text = chunk.lstrip(b" \t\r\n\xef\xbb\xbf")
            if text:
                return text[:1] == b"["
    return True


def _one_document(path: Path) -> dict[str, Any] | None:
    """A `.json` file that holds one object spread over several lines (pretty-printed), or None when
    its first line is a row of its own (JSON lines) or the whole is no JSON object."""
    with path.open("rb") as f:
        first = next((raw for raw in f if raw.strip()), b"")
    try:
        json.loads(first.decode("utf-8-sig"))
        return None  # a whole row on the first line: JSON lines
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        try:
            value = decode_json_line(path.read_bytes(), str(path), 0)
        except InputError:
            return None
    return value if isinstance(value, dict) else None


def iter_rows(path: str | Path) -> Iterator[tuple[int, Any | InputError]]:
    """`(line, row)` for each row, with a row that cannot be decoded given as its `InputError`, in
    place, so that a caller can stop at it or go on. A missing file is a `UserError`; a `.json`
    file that is not a readable list raises its `InputError`."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{path}: no such file")
    if is_parquet(p):
        yield from _parquet_rows(p)
        return
    if p.suffix == ".json" and _opens_a_list(p):
        # A whole-file document that cannot be read is no row to skip: it is raised.
        data = decode_json_line(p.read_bytes(), str(path), 0)
        if not isinstance(data, list):
            raise InputError(str(path), 0, None, "a .json file must hold a list of rows")
        yield from enumerate(data, start=1)
        return
    if p.suffix == ".json":
        one = _one_document(p)
        if one is not None:  # a pretty-printed object: one row over many lines
            yield 1, one
            return
    # Bytes, split at \n only: text mode would also split at a lone \r inside a row, and would
    # raise on the first invalid UTF-8 byte instead of naming the line.
    with p.open("rb") as f:
        for i, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                yield i, decode_json_line(raw, str(path), i)
            except InputError as e:
                yield i, e


def require_rows(path: str | Path, what: str = "rows") -> None:
    """A `UserError` when `path` is missing or holds no row at all: an empty input is a mistake,
    not a run with nothing to do. Reads only up to the first row."""
    for _ in iter_rows(path):
        return
    raise UserError(f"{path}: no {what} in the file (it is empty)")


def read_rows(path: str | Path, counter: SkipCounter | None = None) -> Iterator[tuple[int, Any]]:
    """`(line, row)` for each decodable row; one that is not goes through `counter` (raise or skip)."""
    counter = counter or SkipCounter()
    for line, row in iter_rows(path):
        if isinstance(row, InputError):
            counter.bad(row)
            continue
        yield line, row


def require_fields(row: dict[str, Any], names: Iterable[str], source: str, line: int) -> None:
    """The one rule for a field a row must have, in every reader of pairs: absent, or null (how
    Parquet stores a column a row lacks), is an `InputError` that says it is missing."""
    for name in names:
        if row.get(name) is None:
            raise InputError(source, line, name, "is missing")


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


def encode_row(row: Any) -> str:
    """A row as one JSONL line, without the newline."""
    return json.dumps(row, ensure_ascii=False)


def write_parquet(path: str | Path, rows: list[dict[str, Any]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    json_columns = sorted({k for r in rows for k, v in r.items() if isinstance(v, dict)})
    table = pa.Table.from_pylist(
        [{k: encode_row(v) if k in json_columns and v is not None else v for k, v in r.items()} for r in rows])
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           JSON_COLUMNS_KEY: json.dumps(json_columns).encode()})
    tmp = Path(f"{path}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return len(rows)


def cannot_write(path: str | Path, error: OSError) -> UserError:
    """The one line for an output that the system refuses (a parent that is a file, no permission,
    a read-only disk), instead of a traceback."""
    return UserError(f"{path}: cannot write this output: {error.strerror or error}")


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]], fmt: str | None = None) -> int:
    """Write rows as JSONL (default) or Parquet (`fmt="parquet"` or a Parquet name), replacing the
    file atomically (via a temporary file); return the count."""
    p = Path(path)
    rows = list(rows)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet" or (fmt is None and is_parquet(p)):
            return write_parquet(p, rows)
        tmp = Path(f"{p}.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(encode_row(r) + "\n")
        os.replace(tmp, p)
    except OSError as e:
        raise cannot_write(p, e) from e
    return len(rows)


class JsonlAppender:
    """Appends rows to a JSONL file, one flushed line each, so a killed run keeps every row it wrote.
    A torn last line (a write cut by kill -9) is cut off first."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            repair_torn_tail(path)
            self._f: IO[str] = path.open("a", encoding="utf-8")
        except OSError as e:
            raise cannot_write(path, e) from e
        self.path = path
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self._f.write(encode_row(row) + "\n")
        self._f.flush()
        self.count += 1

    def close(self) -> None:
        self._f.close()


def repair_torn_tail(path: Path) -> int:
    """Cut a partial last line off `path`; return how many bytes were cut."""
    if not path.exists():
        return 0
    with path.open("r+b") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # Walk back to the last newline; the bytes after it are the torn record.
        pos, keep, chunk = size - 1, 0, 65536
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            nl = f.read(pos - start).rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        f.truncate(keep)
        return size - keep
