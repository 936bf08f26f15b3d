"""The experiment's data, from the config's `data` section: the training prompts the methods answer,
the Real pairs (the training rows), the test pairs (the yardsticks), and, for QA-Feedback, the
training questions' human corrections (the controls). Written under `<output>/data/`, with one line
for the log and the tables.

How a data set is read and split into sides is its format's (`data/formats.py`: the split rules are
`data/splits.py`'s and `data/tldr_sides.py`'s); a split that leaves a side empty is a `UserError`
there, before any generation. This module cuts the test pairs to `test_pairs`, writes the files the
variants over given responses need, and makes each yardstick's pairs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.data.formats import data_format
from rmboost.data.qa_corrections import load_corrections
from rmboost.data.qa_feedback import prompt_records
from rmboost.errors import UserError
from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.log import log
from rmboost.experiment.yardsticks import CONFIDENT_HUMAN_PAIRS, HUMAN_CORRECTIONS, TEST_PAIRS, confident
from rmboost.io.rows import SkipCounter, write_rows
from rmboost.records import Pair


@dataclass
class Prepared:
    prompts: Path
    real: Path
    real_pairs: int
    test: list[Pair]
    corrections: list[Pair] | None  # None: the data has no known-good pairs
    info: dict[str, Any]
    yardsticks: dict[str, list[Pair]]  # name -> test pairs, in the config's order (`yardsticks.py`)


def write_pairs(path: Path, rows: list[Any]) -> Path:
    write_rows(path, [p.to_dict() if hasattr(p, "to_dict") else p for p in rows])
    return path


def prepare(c: ExperimentConfig, out: Path) -> Prepared:
    counter = SkipCounter(on_error=c.data.on_error)  # type: ignore[arg-type]
    split_rule = data_format(c.data.format).sides
    assert split_rule is not None  # the config check refuses a format the experiment cannot split
    sides = split_rule(c.data, c.train_prompts, c.task, counter)
    if counter.notes:  # what the loaders counted inside rows (stripped texts, ids made from the text)
        log("data: " + "; ".join(f"{n} {reason}" for reason, n in counter.notes.items()))
    if not sides.real:
        raise UserError(f"{c.data.file}: the training prompts have no Real pair (every comparison is a tie?)")
    test = sides.test
    available_test = len(test)
    if c.test_pairs is not None and len(test) > c.test_pairs:
        test = sorted(random.Random(c.seed).sample(test, c.test_pairs), key=lambda p: p.id)
    corrections = None
    if sides.questions is not None and c.controls:
        kept = {q.id for q in sides.questions}
        corrections = [p for p in load_corrections(c.data.file, "all" if c.data.test_path else "train")
                       if p.extra["question_id"] in kept]
    prompts = write_pairs(out / "data" / "train_prompts.jsonl", sides.records)
    for n in sorted({int(v.options["given_response"]) for v in c.methods if "given_response" in v.options}):
        # The same prompts, each with the data set's prediction n as the response RMBoost rewrites.
        assert sides.questions is not None  # the config allows given responses on qa-feedback only
        write_pairs(given_prompts(out, n), prompt_records(sides.questions, with_response=n))
    if any("given_responses" in v.options for v in c.methods):
        # The training questions with their responses, the pairs humans compared and their labels
        # (QA-Feedback's four predictions and six pairs; TL;DR's compared summaries): the pool the
        # given-response variants draw on, and the human file of `rmboost agree`.
        assert sides.pool is not None or sides.questions is not None  # the config allows these two
        write_pairs(pool_prompts(out), sides.pool if sides.pool is not None else
                    prompt_records(sides.questions or [], with_responses=True))
    if sides.questions is not None and any("given_responses" in v.options or "given_response" in v.options
                                           for v in c.methods):
        # What a rewrite of a given prediction is checked against (`agreement_table.py`); TL;DR has
        # no corrections, so no file and no rewrite direction there.
        kept = {q.id for q in sides.questions}
        write_pairs(training_corrections(out), [p for p in load_corrections(c.data.file, "all" if c.data.test_path
                                                                               else "train")
                                                 if p.extra["question_id"] in kept])
    real = write_pairs(out / "data" / "real_train.jsonl", sides.real)
    write_pairs(out / "data" / "test_pairs.jsonl", test)
    yardsticks = _yardsticks(c, test, out)
    info = {"format": c.data.format, "path": c.data.file, "test_path": c.data.test_path, "split": sides.split,
            "task": c.task, "train_prompts": len(sides.records), "train_prompts_available": sides.available_prompts,
            "real_pairs": len(sides.real), "test_pairs": len(test), "test_pairs_available": available_test,
            "left_out": dict(counter.left_out), "skipped_malformed": counter.skipped,
            "has_controls": sides.questions is not None}
    if corrections is not None:
        info["corrections"] = len(corrections)
    info["yardsticks"] = {name: len(pairs) for name, pairs in yardsticks.items()}
    log(f"data: {describe(info)}")
    return Prepared(prompts, real, len(sides.real), test, corrections, info, yardsticks)


def _yardsticks(c: ExperimentConfig, test: list[Pair], out: Path) -> dict[str, list[Pair]]:
    """The config's yardsticks: the test pairs, those with a confident label (TL;DR), and for
    QA-Feedback the test questions' corrections."""
    made: dict[str, list[Pair]] = {}
    for name in c.yardstick_names:
        if name in TEST_PAIRS:
            made[name] = test
        elif name == CONFIDENT_HUMAN_PAIRS:
            made[name] = confident(test, c.data.format)
            if not made[name]:  # a file without confidences: refused if asked for, else left out
                if c.yardsticks:
                    raise UserError(f"{c.data.file}: field 'yardsticks': no test pair has a confident human label "
                                    "(extra.confidence); leave confident-human-pairs out")
                del made[name]
                log(f"data: no test pair has a confident human label; {name} left out")
                continue
            write_pairs(out / "data" / f"test_{name}.jsonl", made[name])
        elif name == HUMAN_CORRECTIONS:
            if c.data.test_path:
                rows = load_corrections(c.data.test_path, "all")
            else:
                rows = load_corrections(c.data.file, "test")
            if c.test_pairs is not None and len(rows) > c.test_pairs:  # the same cut as the test pairs
                rows = sorted(random.Random(c.seed).sample(rows, c.test_pairs), key=lambda p: p.id)
            made[name] = rows
            write_pairs(out / "data" / f"test_{name}.jsonl", rows)
    return made


def pool_prompts(out: Path) -> Path:
    """The training prompts with all four predictions as `responses` (a `given_responses` variant)."""
    return out / "data" / "train_prompts_pool.jsonl"


def training_corrections(out: Path) -> Path:
    return out / "data" / "train_corrections.jsonl"


def given_prompts(out: Path, n: int) -> Path:
    """The training prompts with prediction `n` as each one's `response` (a `given_response` variant)."""
    return out / "data" / f"train_prompts_given{n}.jsonl"


def describe(info: dict[str, Any]) -> str:
    """One line naming the data set and its split sizes, for the log and the tables."""
    left = "".join(f"; {n} rows left out: {reason}" for reason, n in info.get("left_out", {}).items())
    skipped = f"; {info['skipped_malformed']} malformed rows skipped" if info.get("skipped_malformed") else ""
    test_from = f", test {info['test_path']}" if info.get("test_path") else ""
    yard = "".join(f", {n} {name}" for name, n in info.get("yardsticks", {}).items() if name not in TEST_PAIRS)
    return (f"{info['format']} {info['path']}{test_from} ({info['split']}): {info['train_prompts']} training "
            f"prompts, {info['real_pairs']} Real pairs, {info['test_pairs']} test pairs{yard}{left}{skipped}")
