"""What a report is made from: the pair sets found at a path, each with its failures and summary.

A path is either one pairs file (its `<stem>.failures.jsonl` and `<stem>.summary.json` beside it,
named by `io.output.output_paths`) or an experiment output folder: every `pairs/<set>.jsonl` (not
the `<set>.synN.jsonl` copies cut to the training size, which are subsets of it), the Real pairs
in `data/real_train.jsonl`, and `results.json`. The human test pairs (`data/test_pairs.jsonl`)
are the yardstick, not training data, and are left out. A failure's prompt is read back from the
input file it names (`source`, `line`) when that file is still there.

A row is a pair by the rule every reader of pairs shares (`data.trl_pairs.parse_row`, read in
`data.row_loop`'s loop, as `train`, `eval`, `score`, `agree` and `export` read); a row that breaks
it (a field missing, of the wrong type, not JSON) is left out of the page and its measures, counted,
and its error (file, line, field) shown, on the page and as a warning of the `rmboost.report`
logger (the command prints it on stderr); so is a pair its rule leaves out (two conversations that
differ before the last reply), with its reason. A pairs file with rows but not one pair is refused
with the first row's error.

This module only reads; what the page shows of the rows is `payload.py`'s business.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.data.row_loop import parsed_rows
from rmboost.data.trl_pairs import parse_row
from rmboost.errors import UserError
from rmboost.io.output import output_paths
from rmboost.io.row_kinds import PAIRS, expect_rows
from rmboost.io.rows import SkipCounter, is_parquet, read_rows

LOG = logging.getLogger("rmboost.report")
CUT_COPY = re.compile(r"\.syn\d+$")
REAL_SET = ("real", Path("data") / "real_train.jsonl")


@dataclass
class PairSet:
    name: str
    path: Path
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    bad_rows: int = 0  # rows of the pairs file that are no pair, lines of the failures file that are no object
    not_pairs: int = 0  # rows of the pairs file that are no pair
    row_errors: list[str] = field(default_factory=list)  # the first few of them, as a loader says them
    failure_prompts: dict[int, str] = field(default_factory=dict)  # failure index -> its input prompt


@dataclass
class ReportInput:
    kind: str  # "pairs" or "experiment"
    source: Path
    sets: list[PairSet]
    results: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _objects(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The rows of `path` that are JSON objects, and how many lines were not."""
    counter = SkipCounter("skip")
    rows = [row for _, row in read_rows(path, counter)]
    objects = [row for row in rows if isinstance(row, dict)]
    return objects, counter.skipped + len(rows) - len(objects)


def _as_written(row: Any, source: str, line: int) -> dict[str, Any]:
    """A pair row as it is in the file, once `parse_row` has found it a pair."""
    parse_row(row, source, line)
    return row  # an object: parse_row refuses anything else


def _pair_rows(path: Path) -> tuple[list[dict[str, Any]], SkipCounter]:
    """The rows of a pairs file that are pairs (as they are in the file), and the counter of the rest."""
    counter = SkipCounter("skip")
    return parsed_rows(path, _as_written, counter), counter


def _json_document(path: Path) -> dict[str, Any] | None:
    """A JSON object file (a summary, results.json), or None when it is missing or unreadable."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def load_set(name: str, pairs_path: Path) -> PairSet:
    paths = output_paths(pairs_path, "parquet" if is_parquet(pairs_path) else "jsonl")
    rows, counter = _pair_rows(pairs_path)
    not_pairs = bad = counter.skipped + sum(counter.left_out.values())
    errors = counter.first_errors + [f"{pairs_path}: {n} rows left out: {why}" for why, n in counter.left_out.items()]
    failures: list[dict[str, Any]] = []
    if paths["failures"].is_file():
        failures, bad_failures = _objects(paths["failures"])
        bad += bad_failures
    pair_set = PairSet(name, pairs_path, rows, failures, _json_document(paths["summary"]), bad, not_pairs, errors)
    pair_set.failure_prompts = failure_prompts(failures, pairs_path.parent)
    return pair_set


def as_text(value: Any) -> str:
    """A prompt or response as text: a string as it is; a one-message list as that message's
    content; a conversation as its turns, each under its role; anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(m, dict) and isinstance(m.get("content"), str)
                                                 for m in value):
        if len(value) == 1:
            return str(value[0]["content"])
        return "\n\n".join(f"[{m.get('role', '?')}]\n{m['content']}" for m in value)
    return json.dumps(value, ensure_ascii=False)


def record_text(record: dict[str, Any]) -> str:
    """An input prompt record as one text: its context (the passages) if any, then its prompt last,
    as the policy saw it."""
    prompt = as_text(record.get("prompt"))
    context = record.get("context")
    return f"{context}\n\n--- prompt ---\n{prompt}" if isinstance(context, str) and context else prompt


def _source_file(source: str, beside: Path) -> Path | None:
    for candidate in (Path(source), beside / Path(source).name, beside.parent / "data" / Path(source).name):
        if candidate.is_file():
            return candidate
    return None


def failure_prompts(failures: list[dict[str, Any]], beside: Path) -> dict[int, str]:
    """For each failure naming an input file and line that still hold a record with its id, that
    record's text. An input file that moved is looked for beside the pairs file and in the
    experiment's `data/` folder (where an experiment writes its training prompts)."""
    wanted: dict[str, dict[int, list[int]]] = {}
    for i, row in enumerate(failures):
        source, line = row.get("source"), row.get("line")
        if isinstance(source, str) and source and isinstance(line, int) and line > 0:
            wanted.setdefault(source, {}).setdefault(line, []).append(i)
    found: dict[int, str] = {}
    for source, lines in wanted.items():
        path = _source_file(source, beside)
        if path is None:
            continue
        last = max(lines)
        try:
            for line_no, record in read_rows(path, SkipCounter("skip")):
                if line_no > last:
                    break
                if line_no in lines and isinstance(record, dict):
                    for i in lines[line_no]:
                        if str(record.get("id", failures[i].get("id"))) == str(failures[i].get("id")):
                            found[i] = record_text(record)
        except UserError:
            continue
    return found


def is_experiment(path: Path) -> bool:
    return path.is_dir() and ((path / "results.json").is_file() or (path / "pairs").is_dir())


def experiment_set_files(folder: Path, results: dict[str, Any] | None) -> list[tuple[str, Path]]:
    """(set name, pairs file) of an experiment folder, in the config's method order when known."""
    pairs_dir = folder / "pairs"
    files = {}
    if pairs_dir.is_dir():
        for p in sorted(pairs_dir.glob("*.jsonl")):
            stem = p.name[: -len(".jsonl")]
            if not (stem.endswith((".failures", ".journal")) or CUT_COPY.search(stem)):
                files[stem] = p
    order = []
    methods = ((results or {}).get("config") or {}).get("methods") or []
    for m in methods:
        name = m.get("name") if isinstance(m, dict) else m
        if isinstance(name, str) and name in files:
            order.append(name)
    out = [(name, files[name]) for name in order + sorted(set(files) - set(order))]
    real = folder / REAL_SET[1]
    if real.is_file():
        out.append((REAL_SET[0], real))
    return out


def row_notes(sets: list[PairSet]) -> list[str]:
    """What the page says of each set's rows that are no pair: how many, and the first errors."""
    return [f"{s.path}: {s.not_pairs} rows are no pair and are left out of this report, e.g. "
            + "; ".join(s.row_errors[:3]) for s in sets if s.not_pairs]


def said(notes: list[str]) -> list[str]:
    """`notes`, also said on the `rmboost.report` logger, so the terminal tells what the page tells."""
    for note in notes:
        LOG.warning(note)
    return notes


def load(path: str | Path) -> ReportInput:
    p = Path(path)
    if p.is_file():
        expect_rows(p, PAIRS, "rmboost report")
        name = p.with_suffix("").name if p.suffix in (".jsonl", ".parquet", ".pq", ".json") else p.name
        pair_set = load_set(name, p)
        if pair_set.row_errors and not pair_set.rows:  # a file of rows, not one of them a pair
            raise UserError(pair_set.row_errors[0])
        return ReportInput("pairs", p, [pair_set], notes=said(row_notes([pair_set])))
    if is_experiment(p):
        results = _json_document(p / "results.json")
        notes = [] if results is not None else ["results.json is missing or unreadable (is the run unfinished?): "
                                                "the report shows the pairs only"]
        sets = [load_set(name, f) for name, f in experiment_set_files(p, results)]
        return ReportInput("experiment", p, sets, results, notes + said(row_notes(sets)))
    if p.is_dir():
        raise UserError(f"{p}: not an experiment output folder (no results.json, no pairs/); "
                        "give a pairs file or an experiment folder")
    raise UserError(f"{p}: no such file or folder")
