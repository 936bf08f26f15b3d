"""Where a run's results go: the pairs file, the failures, summary and settings files beside it,
and the writer lock; and what a rerun learns from them (which ids are finished, what settings made
them). Comparing settings is `generation/settings.py`'s job; this module only reads and writes.

Every record is appended as one JSON line and flushed at once (`rows.JsonlAppender`), so a killed
run keeps all it made; Parquet output is written from the JSONL journal when the run ends, since a
Parquet file cannot be appended to. Files are never rewritten while a run is under way.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rmboost.errors import InputError, OutputLocked, UserError
from rmboost.io.rows import cannot_write, iter_rows, write_parquet, write_rows


def _nearest_existing(p: Path) -> Path:
    here = p.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def check_output(path: str | Path, what: str = "--output", folder: bool = False) -> None:
    """Refuse, before any work starts, an output that cannot be written: a parent that is a file, a
    folder given for a file (or a file for a folder), a place nobody may write to (`/proc/...`, a
    read-only disk). A `UserError` (exit 3) naming it; nothing is created. The check writes a
    temporary file into the nearest folder that exists and removes it, since permission bits do not
    tell what root may do, and a read-only mount says so only to a write."""
    p = Path(path)
    if p.exists() and folder != p.is_dir():
        kind, wanted = ("a file", "a folder") if folder else ("a folder", "a file name")
        raise UserError(f"{p}: {what} is {kind}; give {wanted}")
    base = _nearest_existing(p if folder else p.parent)
    if not base.is_dir():
        raise UserError(f"{p}: {what} cannot be created: {base} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=base, prefix=".rmboost-probe-")
        os.close(fd)
        os.remove(probe)
        if p.is_file() and not os.access(p, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        raise UserError(f"{p}: {what} cannot be written ({e.strerror or e} in {base})") from None


def output_paths(output: str | Path, fmt: str = "jsonl") -> dict[str, Path]:
    out = Path(output)
    stem = out.with_suffix("") if out.suffix in (".jsonl", ".parquet", ".json") else out
    journal = out if fmt == "jsonl" else Path(f"{out}.journal.jsonl")
    return {
        "output": out,
        "journal": journal,
        "failures": Path(f"{stem}.failures.jsonl"),
        "summary": Path(f"{stem}.summary.json"),
        "settings": Path(f"{stem}.settings.json"),
        # Named after the stem, like the failures file: `pairs.jsonl` and `pairs.parquet` share that
        # file, so they must share one writer too.
        "lock": Path(f"{stem}.lock"),
    }


def read_output_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of one of our own output files; a line that is not a JSON object with an id is an
    error, since only a torn tail can be damaged by us and that is repaired before reading."""
    if not path.exists():
        return
    for line_no, row in iter_rows(path):
        if isinstance(row, InputError):
            raise UserError(f"{path}:{line_no}: existing output line is not valid JSON ({row.message}); "
                            "fix or move the file before resuming")
        if not isinstance(row, dict) or "id" not in row:
            raise UserError(f"{path}:{line_no}: field 'id': existing output row has no id")
        yield line_no, row


def finished_ids(*paths: Path) -> set[str]:
    return {str(row["id"]) for p in paths for _, row in read_output_rows(p)}


def drop_retryable_failures(path: Path) -> int:
    """Rewrite the failures file without transient failures, so those prompts are tried again."""
    rows = [row for _, row in read_output_rows(path)]
    keep = [row for row in rows if not row.get("retryable")]
    if len(keep) < len(rows):
        write_rows(path, keep)
    return len(rows) - len(keep)


def read_settings(path: Path) -> dict[str, Any] | None:
    """The settings file beside an output (`<stem>.settings.json`), or None if there is none yet."""
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{path}: cannot read this settings file ({e}); restore it, or choose another --output") from e
    if not isinstance(saved, dict) or not isinstance(saved.get("settings"), dict) or "hash" not in saved:
        raise UserError(f"{path}: not a settings file rmboost wrote (it needs 'hash' and 'settings'); "
                        "restore it, or choose another --output")
    return saved


def write_text(path: str | Path, text: str) -> None:
    """Replace the file with `text` whole or not at all (a temporary file, then a rename), so a
    killed run leaves the old file or the new one; a refused write is `cannot_write`'s one line."""
    p = Path(path)
    tmp = Path(f"{p}.tmp")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise cannot_write(p, e) from e


def write_settings(path: Path, record: dict[str, Any]) -> None:
    """Replace the settings file atomically, so a killed run leaves the old one or the new one."""
    write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")


def journal_to_parquet(journal: Path, output: Path) -> int:
    """Write the journal's rows to `output` as Parquet (atomically)."""
    return write_parquet(output, [row for _, row in read_output_rows(journal)])


class WriterLock:
    """An exclusive flock on `<stem>.lock`: a second run on the same output is refused, and a
    lock left by a killed process is released by the kernel, so it never blocks the next run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise cannot_write(self.path, e) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputLocked(
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
