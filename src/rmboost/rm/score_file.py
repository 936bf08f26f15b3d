"""Score a file of rows with a saved reward model into an output file that a rerun resumes: the
engine of `rmboost score` and `rmboost rerank`.

Rows are read in order and scored in batches (`batch_size` responses per call of the model); each
batch's rows are appended to the output and flushed, then `<stem>.settings.json` records how far
the input was read and how long the output then was. A rerun with the same model, input and
options cuts the output back to that length (a batch written but not recorded is dropped, a torn
line too) and goes on after that input line; a rerun with another model (its fingerprint, a digest
of its files), another input or other options is refused, so one output never mixes two models'
rewards. The writer lock (`<stem>.lock`) keeps two runs apart. A Parquet output is written from
its JSONL journal at the end, as `rmboost generate` does.

Left out: what a row holds and gets (`scoring.py`, `rerank.py`) and the model itself (`base.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rmboost.data.row_loop import LeftOut
from rmboost.errors import InputError, UsageError, UserError
from rmboost.io.output import WriterLock, check_output, output_paths, read_settings, write_settings
from rmboost.io.row_kinds import PAIRS, expect_rows
from rmboost.io.rows import JsonlAppender, SkipCounter, is_parquet, iter_rows, require_rows, write_parquet
from rmboost.progress_display import ProgressDisplay
from rmboost.records import Prompt
from rmboost.rm.base import RewardModel
from rmboost.rm.scoring import ResponseRows, RowKind, kind_of_rows, model_fingerprint

Job = tuple[int, dict[str, Any], Prompt, list[str]]  # input line, row, prompt, the responses to score
# Recorded, not compared: the same model or input reached by another path is the same (fingerprints).
WHERE = ("rm", "input")


@dataclass
class ScoreSummary:
    output: str
    kind: str
    rm_fingerprint: str
    rows_scored: int = 0  # in this run
    rows_before: int = 0  # scored by an earlier run of the same command
    rows_written: int = 0  # in this run
    skipped: int = 0  # malformed input rows skipped (on_error="skip")
    left_out: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_seconds: float = 0.0  # of `seconds`, loading the model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        scoring = self.seconds - self.load_seconds
        rate = self.rows_scored / scoring if scoring > 0 else 0.0
        parts = [f"scored {self.rows_scored} rows ({self.kind}) with reward model {self.rm_fingerprint} in "
                 f"{self.seconds:.1f}s ({self.load_seconds:.1f}s loading it, then {rate:.1f} rows/s); wrote "
                 f"{self.rows_written} to {self.output}"]
        if self.rows_before:
            parts.append(f"{self.rows_before} rows were scored by an earlier run and kept")
        if self.skipped:
            parts.append(f"skipped {self.skipped} malformed rows")
        parts += [f"left out {n}: {reason}" for reason, n in self.left_out.items()]
        return "; ".join(parts)


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        raise UserError(f"{path}: cannot read: {e.strerror or e}") from e
    return h.hexdigest()[:16]


def resume_point(paths: dict[str, Path], settings: dict[str, Any]) -> dict[str, int]:
    """Where an earlier run with these `settings` stopped (`line` read, `bytes` of output, `rows`
    scored); zeros for a new output. An output made otherwise is refused."""
    journal, settings_file, output = paths["journal"], paths["settings"], paths["output"]
    saved = read_settings(settings_file)
    size = journal.stat().st_size if journal.exists() else 0
    if saved is None:
        if size or (output.exists() and output.stat().st_size):
            raise UsageError(f"{output} exists and was not written by {settings['command']} (no {settings_file}); "
                             "choose another --output, or remove it")
        return {"line": 0, "bytes": 0, "rows": 0}
    old = saved["settings"]
    if old.get("command") != settings["command"]:
        raise UsageError(f"{output} was not written by {settings['command']} (its {settings_file} is "
                         f"{old.get('command') or 'rmboost generate'}'s); choose another --output")
    diffs = [f"{k}: {old.get(k, '(unset)')} -> {v}" for k, v in settings.items()
             if k not in WHERE and old.get(k, "(unset)") != v]
    if diffs:
        why = ("One output never mixes two models' rewards" if old.get("rm_fingerprint") != settings["rm_fingerprint"]
               else "One output holds rows scored one way")
        raise UsageError(f"{paths['output']} was made otherwise (see {settings_file}): {'; '.join(diffs)}. {why}: "
                         "write to another --output, or remove this one and its settings file to score again")
    done = saved.get("done") or {}
    point = {k: int(done.get(k, 0)) for k in ("line", "bytes", "rows")}
    if size < point["bytes"]:
        raise UserError(f"{journal} is shorter ({size} bytes) than {settings_file} records ({point['bytes']}): it "
                        "was changed outside rmboost; remove both to score again")
    return point


def record(paths: dict[str, Path], settings: dict[str, Any], point: dict[str, int], complete: bool) -> None:
    compared = {k: v for k, v in settings.items() if k not in WHERE}
    digest = hashlib.sha256(json.dumps(compared, sort_keys=True).encode()).hexdigest()[:16]
    write_settings(paths["settings"], {"hash": digest, "settings": settings, "done": point, "complete": complete})


def jobs(path: Path, kind: RowKind, counter: SkipCounter, after_line: int) -> Iterator[Job]:
    """The scoreable rows of `path` after `after_line`; a bad one raises or is skipped (`counter`)."""
    for line, row in iter_rows(path):
        if line <= after_line:
            continue
        try:
            if isinstance(row, InputError):
                raise row
            prompt, responses = kind.parse(row, str(path), line)
        except InputError as e:
            counter.bad(e)
            continue
        except LeftOut as e:
            kind.leave_out(str(e))
            continue
        yield line, row, prompt, responses


def count_checked(path: Path, kind: RowKind, on_error: str) -> int:
    """The rows of `path`. Unless malformed rows are to be skipped, the first is raised now, before
    any row is scored: fixing it changes the input, which a resumed run would refuse."""
    n = 0
    for line, row in iter_rows(path):
        n += 1
        if on_error == "raise":
            if isinstance(row, InputError):
                raise row
            try:
                kind.parse(row, str(path), line)
            except LeftOut:
                pass
    return n


def batches(items: Iterator[Job], size: int) -> Iterator[list[Job]]:
    """Consecutive jobs holding about `size` responses (a row is never split)."""
    batch: list[Job] = []
    n = 0
    for job in items:
        batch.append(job)
        n += len(job[3])
        if n >= size:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def score_batch(model: RewardModel, batch: list[Job]) -> list[list[float]]:
    """One call of the model for every response of `batch`; the rewards of each row."""
    prompts = [prompt for _, _, prompt, responses in batch for _ in responses]
    flat = [float(s) for s in model.score(prompts, [r for _, _, _, responses in batch for r in responses])]
    out, start = [], 0
    for _, _, _, responses in batch:
        out.append(flat[start : start + len(responses)])
        start += len(responses)
    return out


def checked_kind(input: Path, kind: RowKind | None, min_margin: float | None, batch_size: int) -> RowKind:
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    require_rows(input, "rows to score")
    expect_rows(input, ("prompts", *PAIRS) if kind is None else kind.reads, kind.command if kind else "rmboost score")
    if kind is None:
        first = next(iter(iter_rows(input)))[1]
        kind = kind_of_rows(None if isinstance(first, InputError) else first, min_margin)
    if isinstance(kind, ResponseRows) and kind.min_margin is not None:
        raise UsageError(f"--min-margin applies to pairs; {input} holds (prompt, response) rows, which have no margin")
    return kind


def score_file(rm: str | Path, input: str | Path, output: str | Path, kind: RowKind | None = None, *,
               min_margin: float | None = None, batch_size: int = 64, on_error: str = "raise",
               progress: bool = False) -> ScoreSummary:
    """Score every row of `input` with the reward model saved in `rm` into `output` (JSONL, or
    Parquet by its name). `kind` defaults to pairs or (prompt, response) rows, by the first row."""
    src, out = Path(input), Path(output)
    if src.resolve() == out.resolve():
        raise UsageError(f"--output {out} is the input: write the scored rows to another file")
    kind = checked_kind(src, kind, min_margin, batch_size)
    fingerprint = model_fingerprint(rm)
    check_output(out)
    paths = output_paths(out, "parquet" if is_parquet(out) else "jsonl")
    settings = {"rm": str(rm), "rm_fingerprint": fingerprint, "input": str(src), "input_digest": file_digest(src),
                **kind.options()}
    summary = ScoreSummary(str(out), kind.name, fingerprint)
    start = time.monotonic()
    with WriterLock(paths["lock"]):
        point = resume_point(paths, settings)
        summary.rows_before = point["rows"]
        if paths["journal"].exists():
            os.truncate(paths["journal"], point["bytes"])
        counter = SkipCounter(on_error=on_error)  # type: ignore[arg-type]
        total = count_checked(src, kind, on_error)
        display = ProgressDisplay("score", total, "row", enabled=progress)
        try:
            run_batches(rm, kind, jobs(src, kind, counter, point["line"]), batch_size, paths, settings, point,
                        summary, display)
        finally:
            display.close()
        record(paths, settings, point, complete=True)
        if is_parquet(out):
            try:
                write_parquet(out, [row for _, row in iter_rows(paths["journal"]) if isinstance(row, dict)])
            except (TypeError, ValueError) as e:  # pyarrow's ArrowTypeError / ArrowInvalid: mixed column types
                raise UserError(f"{out}: these rows cannot be one Parquet table ({e}); the scored rows are in "
                                f"{paths['journal']}, or write to a .jsonl --output") from e
    summary.skipped, summary.left_out = counter.skipped, dict(kind.left_out)
    summary.seconds = time.monotonic() - start
    return summary


def run_batches(rm: str | Path, kind: RowKind, work: Iterator[Job], batch_size: int, paths: dict[str, Path],
                settings: dict[str, Any], point: dict[str, int], summary: ScoreSummary,
                display: ProgressDisplay) -> None:
    """Score and append batch after batch, recording after each how far the input and output got."""
    model: RewardModel | None = None
    appender = JsonlAppender(paths["journal"])
    try:
        for batch in batches(work, batch_size):
            if model is None:  # loaded only when there is something to score
                start = time.monotonic()
                model = RewardModel.load(rm)
                model.score(["."], ["."])  # a kind's encoder loads on first use: count it as loading
                summary.load_seconds = time.monotonic() - start
            for (_, row, prompt, _), rewards in zip(batch, score_batch(model, batch), strict=True):
                written = kind.finish(row, prompt, rewards, summary.rm_fingerprint)
                if written is not None:
                    appender.write(written)
                    summary.rows_written += 1
            summary.rows_scored += len(batch)
            point.update(line=batch[-1][0], bytes=paths["journal"].stat().st_size, rows=point["rows"] + len(batch))
            record(paths, settings, point, complete=False)
            display.update(point["rows"], written=summary.rows_written)
    finally:
        appender.close()
