"""`rmboost eval --rm DIR --data FILE [--format trl|qa-feedback|hh|rewardbench] [--json]`: pairwise
accuracy of a saved reward model, with a 95% bootstrap interval, the trivial baselines and a
per-subset breakdown; a table on the terminal or JSON. Reading a format is the registry's
(`data/formats.py`), the accuracy and the baselines `rm/evaluate.py`'s; this module parses the
options, says what was skipped or left out, and prints."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import get_args

from rmboost.data.formats import named
from rmboost.data.qa_feedback import Split
from rmboost.io.rows import OnError
from rmboost.options import add_dataclass_args, from_args, on_error_option, option


@dataclass
class EvalConfig:
    rm: str = option("", "a directory saved by `rmboost train`", required=True)
    data: str = option("", "the pairs to score", required=True)
    format: str = option("trl", "format of --data", choices=named("load"))
    split: Split = option("all", "questions to use with --format qa-feedback", choices=list(get_args(Split)))
    json: bool = option(False, "print JSON instead of a table")
    n_boot: int = option(2000, "bootstrap resamples for the interval")
    seed: int = option(0, "seed of the bootstrap")
    on_error: OnError = on_error_option()


def _run(args: argparse.Namespace) -> int:
    from rmboost.data.formats import expect_format, load_pairs
    from rmboost.errors import UserError
    from rmboost.io.rows import SkipCounter
    from rmboost.rm.base import RewardModel
    from rmboost.rm.evaluate import evaluate, format_table

    cfg = from_args(EvalConfig, args)
    expect_format(cfg.data, cfg.format, "rmboost eval")
    counter = SkipCounter(on_error=cfg.on_error)
    pairs = load_pairs(cfg.data, cfg.format, counter, cfg.split)
    if not pairs:
        raise UserError(f"{cfg.data}: no pairs to evaluate")
    report = evaluate(RewardModel.load(cfg.rm), pairs, cfg.n_boot, cfg.seed)
    if counter.skipped:
        print(f"skipped {counter.skipped} malformed rows", file=sys.stderr)
    print("".join(f"left out {n} rows: {reason}\n" for reason, n in counter.left_out.items()), end="", file=sys.stderr)
    print(json.dumps(report.to_dict(), indent=2) if cfg.json else format_table(report))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="score a reward model on held-out pairs")
    add_dataclass_args(parser, EvalConfig)
    parser.set_defaults(func=_run)
