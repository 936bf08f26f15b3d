"""Where a run's results go: the pairs file, the failures file beside it, and the writer lock.

Every record is appended as one JSON line and flushed at once, so a killed run keeps all it made.
On open, a torn last line (a write cut by kill -9) is cut off: its prompt was never acknowledged
and will be made again. Parquet output is written from the JSONL journal when the run ends, since
a Parquet file cannot be appended to. Files are never rewritten while a run is under way.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rmboost.errors import UserError


def output_paths(output: str | Path, fmt: str = "jsonl") -> dict[str, Path]:
    out = Path(output)
    stem = out.with_suffix("") if out.suffix in (".jsonl", ".parquet", ".json") else out
    journal = out if fmt == "jsonl" else Path(f"{out}.journal.jsonl")
    return {
        "output": out,
        "journal": journal,
        "failures": Path(f"{stem}.failures.jsonl"),
        "summary": Path(f"{stem}.summary.json"),
        # Named after the stem, like the failures file: `pairs.jsonl` and `pairs.parquet` share that
        # file, so they must share one writer too.
        "lock": Path(f"{stem}.lock"),
    }


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
        pos = size - 1
        chunk = 65536
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            block = f.read(pos - start)
            nl = block.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        else:
            keep = 0
        f.truncate(keep)
        return size - keep


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of one of our own output files; a line that is not a JSON object is an error, since
    only a torn tail can be damaged by us and that is repaired before reading."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise UserError(f"{path}:{line_no}: existing output line is not valid JSON ({e}); "
                                "fix or move the file before resuming") from e
            if not isinstance(row, dict) or "id" not in row:
                raise UserError(f"{path}:{line_no}: field 'id': existing output row has no id")
            yield line_no, row


def finished_ids(*paths: Path) -> set[str]:
    return {str(row["id"]) for p in paths for _, row in iter_jsonl(p)}


class WriterLock:
    """An exclusive flock on `<stem>.lock`: a second run on the same output is refused, and a
    lock left by a killed process is released by the kernel, so it never blocks the next run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(
                f"{self.path}: another rmboost run is writing this output; "
                "wait for it or choose another --output"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class JsonlAppender:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(path)
        self.path = path
        self._f: IO[str] = path.open("a", encoding="utf-8")
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._f.flush()
        self.count += 1

    def close(self) -> None:
        self._f.close()


def write_parquet(journal: Path, output: Path) -> int:
    """Write the journal's rows to `output` as Parquet (atomically, via a temporary file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [row for _, row in iter_jsonl(journal)]
    tmp = output.with_name(output.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, output)
    return len(rows)
