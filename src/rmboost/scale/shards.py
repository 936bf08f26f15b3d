"""How a run is cut into shards for the Ray engine: the folder layout, the manifest that fixes the
shard size, the driver's one pass over the input that plans every shard, and the reader that gives
a shard its records.

Shard `s` holds the valid input records whose index `i` (position among valid rows, counted as the
local engine counts it: bad rows do not count, repeated ids do) lies in
`[s * shard_size, (s + 1) * shard_size)`. Contiguous blocks rather than `i mod n` so that prompts
appended to the input later fill new shards and never move an id to another shard: a rerun finds
each shard's finished ids in that shard's own files. Each record keeps its global index, which
decides RMBoost's balanced labels. Only the driver's pass (`read_prompts`) decides which rows are
valid; a shard reads just the lines its plan lists, from the byte where its first one starts, so
reading the input costs one pass in total, not one per shard. Nothing here imports Ray.

Left out: running the shards (`ray_engine.py`) and writing them (`generation.run.write_pairs`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rmboost.errors import InputError, UserError
from rmboost.io.prompts import parse_row, read_prompts
from rmboost.io.rows import is_parquet, require_rows, write_rows
from rmboost.records import Failure, PromptRecord

DEFAULT_SHARD_SIZE = 1000
MANIFEST = "manifest.json"
INPUT_FAILURES = "input.failures.jsonl"


def shard_output(folder: Path, shard: int, fmt: str) -> Path:
    """The pair file of one shard; its failures, summary and lock sit beside it (`output_paths`)."""
    return folder / f"part-{shard:05d}.{'parquet' if fmt == 'parquet' else 'jsonl'}"


def shard_cache(cache_root: Path, shard: int) -> Path:
    return cache_root / f"part-{shard:05d}.sqlite"


def settle_shard_size(folder: Path, requested: int | None, fmt: str) -> int:
    """The shard size of `folder`: the one its first run wrote to the manifest, or `requested`
    (default 1000) for a new folder. A different size or format for an existing folder is refused,
    since it would move ids between shards and a rerun would make them again."""
    path = folder / MANIFEST
    if path.exists():
        manifest = json.loads(path.read_text())
        size, old_fmt = int(manifest["shard_size"]), manifest.get("format", "jsonl")
        if requested is not None and requested != size:
            raise UserError(f"{folder} was cut into shards of {size} prompts; rerun with --shard-size {size} "
                            "or choose another --output")
        if old_fmt != fmt:
            raise UserError(f"{folder} holds {old_fmt} shards; rerun with --format {old_fmt} "
                            "or choose another --output")
        return size
    size = requested or DEFAULT_SHARD_SIZE
    if size < 1:
        raise UserError(f"--shard-size must be at least 1, got {size}")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"shard_size": size, "format": fmt}, indent=2) + "\n")
    os.replace(tmp, path)
    return size


@dataclass
class ShardPlan:
    """What one shard makes: the input line (row, for Parquet) of each record and its global index,
    in input order; where its first line starts in a JSONL file; how many of its rows were left
    out because their id came first in an earlier shard (the local engine drops every repeat)."""

    shard: int
    lines: list[int] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    offset: int | None = None
    repeats: int = 0


@dataclass
class InputScan:
    """What the driver learns from its one pass over the input."""

    records: int = 0
    errors: list[InputError] = field(default_factory=list)
    plans: list[ShardPlan] = field(default_factory=list)


def _line_starts(path: Path) -> Iterator[tuple[int, int]]:
    """(line number, byte offset) of every line of a file."""
    with path.open("rb") as f:
        offset = 0
        for line_no, raw in enumerate(f, start=1):
            yield line_no, offset
            offset += len(raw)


def scan_input(path: str | Path, limit: int | None, on_error: str, shard_size: int) -> InputScan:
    """Count the valid records (up to `limit`), collect the bad rows and plan every shard. In `fail`
    mode the first bad row is raised here, before any shard starts: the local engine raises at the
    same row, but only after making the pairs above it."""
    p = Path(path)
    require_rows(p, "prompts")
    starts = None if is_parquet(p) else _line_starts(p)
    scan = InputScan()
    first_shard: dict[str, int] = {}
    for rec in read_prompts(p):
        if isinstance(rec, InputError):
            if on_error != "skip":
                raise rec
            scan.errors.append(rec)
            continue
        if limit is not None and scan.records >= limit:
            break
        index, scan.records = scan.records, scan.records + 1
        shard = index // shard_size
        if shard == len(scan.plans):
            scan.plans.append(ShardPlan(shard))
        plan = scan.plans[shard]
        if first_shard.setdefault(rec.id, shard) != shard:
            plan.repeats += 1
            continue
        if not plan.lines and starts is not None:
            plan.offset = next(offset for line_no, offset in starts if line_no == rec.line)
        plan.lines.append(rec.line)
        plan.indexes.append(index)
    return scan


def write_input_failures(folder: Path, errors: list[InputError]) -> None:
    """Rewrite the bad-row records in full, so a rerun does not repeat them."""
    write_rows(folder / INPUT_FAILURES, [
        Failure(id=f"{err.source}:{err.line}", stage="input", reason=str(err), source=err.source,
                line=err.line).to_dict() for err in errors])


class ShardReader:
    """One shard's records as `(global index, record)`, read from the lines its plan lists. The
    driver's pass found those rows valid, so they are parsed as `read_prompts` parses them."""

    def __init__(self, path: str | Path, plan: ShardPlan) -> None:
        self.path = Path(path)
        self.plan = plan

    def __iter__(self) -> Iterator[tuple[int, PromptRecord]]:
        wanted = dict(zip(self.plan.lines, self.plan.indexes, strict=True))
        if not wanted:
            return
        last = self.plan.lines[-1]
        if self.plan.offset is None:  # Parquet: no byte offsets, read the rows up to the last one
            for rec in read_prompts(self.path):
                if isinstance(rec, PromptRecord) and rec.line in wanted:
                    yield wanted[rec.line], rec
                if rec.line >= last:
                    return
            return
        source = str(self.path)
        with self.path.open("rb") as f:
            f.seek(self.plan.offset)
            for line_no, raw in enumerate(f, start=self.plan.lines[0]):
                if line_no in wanted:
                    yield wanted[line_no], parse_row(json.loads(raw.decode("utf-8-sig")), source, line_no)
                if line_no >= last:
                    return
