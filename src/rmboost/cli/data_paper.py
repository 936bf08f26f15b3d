"""`rmboost data tldr ...` and `rmboost data ultrafeedback ...`: the RMBoost paper's other two data
sets (beside QA-Feedback, `cli/data.py`) as rmboost's files.

`data tldr FILE|FOLDER... --split {train,valid1,valid2,all} --as {pairs,prompts} --output OUT`
reads OpenAI's TL;DR comparison files (`comparisons/*.json`; a folder stands for its `*.json`
files) into TRL pairs (one per pair of summaries, by majority vote of the workers) or prompt
records (the post as context; `--with-responses all` adds the compared summaries). A `--split` the
files do not hold is a usage error (exit 2) naming the splits they do hold.
`data ultrafeedback FILE --as {pairs,prompts} --output OUT` reads raw or binarized UltraFeedback
rows. The rules and counts are the loaders' (`data/tldr.py`, `data/ultrafeedback.py`); this module
parses the options and prints what was kept and left out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

from rmboost.io.rows import SkipCounter
from rmboost.options import add_dataclass_args, from_args, on_error_option, option


@dataclass
class TLDRConfig:
    files: list[str] = field(metadata={"cli": False})
    output: str = option("", "where to write (JSONL, or Parquet)", required=True)
    split: str = option("all", "comparisons to keep, by the file's own `split` field (evaluation uses valid2)",
                        choices=["train", "valid1", "valid2", "all"])
    as_: str = field(default="pairs", metadata={"cli": False})
    with_responses: str | None = option(None, "with --as prompts: give each post the summaries its comparisons "
                                        "show, as `responses` (and the compared `pairs`)", choices=["all"])
    format: str = option("jsonl", "output file format", choices=["jsonl", "parquet"])
    on_error: str = on_error_option("comparison")


@dataclass
class UltraFeedbackConfig:
    file: str = field(metadata={"cli": False})
    output: str = option("", "where to write (JSONL, or Parquet)", required=True)
    as_: str = field(default="pairs", metadata={"cli": False})
    with_responses: str | None = option(None, "with --as prompts: give each prompt its completions as "
                                        "`responses`", choices=["all"])
    format: str = option("jsonl", "output file format", choices=["jsonl", "parquet"])
    on_error: str = on_error_option("row")


def report(n: int, what: str, output: str, counter: SkipCounter) -> None:
    """One line: what was written, and every count of a rule or a skipped malformed row."""
    left = "".join(f", left out {k}: {reason}" for reason, k in counter.left_out.items())
    notes = "".join(f", {k} {reason}" for reason, k in counter.notes.items())
    skipped = f", skipped {counter.skipped} malformed" if counter.skipped else ""
    print(f"wrote {n} {what} to {output}{left}{notes}{skipped}", file=sys.stderr)


def _check(cfg: TLDRConfig | UltraFeedbackConfig) -> None:
    from rmboost.errors import UsageError

    if cfg.with_responses is not None and cfg.as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")


def _tldr(args: argparse.Namespace) -> int:
    from rmboost.data.tldr import export

    cfg = from_args(TLDRConfig, args)
    _check(cfg)
    counter = SkipCounter(on_error=cfg.on_error)  # type: ignore[arg-type]
    n = export(cfg.files, cfg.output, cfg.split, cfg.as_, cfg.format, counter,  # type: ignore[arg-type]
               cfg.with_responses)
    report(n, f"{cfg.as_} (split {cfg.split})", cfg.output, counter)
    return 0


def _ultrafeedback(args: argparse.Namespace) -> int:
    from rmboost.data.ultrafeedback import export

    cfg = from_args(UltraFeedbackConfig, args)
    _check(cfg)
    counter = SkipCounter(on_error=cfg.on_error)  # type: ignore[arg-type]
    n = export(cfg.file, cfg.output, cfg.as_, cfg.format, counter, cfg.with_responses)  # type: ignore[arg-type]
    report(n, cfg.as_, cfg.output, counter)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `tldr` and `ultrafeedback` to the `rmboost data` subcommands."""
    tldr = sub.add_parser("tldr", help="OpenAI's TL;DR comparisons (comparisons/batch*.json) as TRL pairs or "
                          "prompt records")
    tldr.add_argument("files", nargs="+", metavar="FILE", help="comparison files (JSON lines, one comparison a line), "
                      "or a folder of them (its *.json files, e.g. the official comparisons/ folder)")
    tldr.add_argument("--as", dest="as_", choices=["pairs", "prompts"], default="pairs",
                      help="TRL pairs (one per pair of summaries, by majority vote) or prompt records "
                      "{id, prompt, context: the post, task} (default: pairs)")
    add_dataclass_args(tldr, TLDRConfig)
    tldr.set_defaults(func=_tldr)
    uf = sub.add_parser("ultrafeedback", help="UltraFeedback rows (raw or binarized) as TRL pairs or prompt records")
    uf.add_argument("file", help="raw rows (openbmb/UltraFeedback) or binarized rows "
                    "(HuggingFaceH4/ultrafeedback_binarized), JSONL or Parquet")
    uf.add_argument("--as", dest="as_", choices=["pairs", "prompts"], default="pairs",
                    help="TRL pairs (raw rows: the highest over the lowest mean rating) or prompt records "
                    "{id, prompt, task} (default: pairs)")
    add_dataclass_args(uf, UltraFeedbackConfig)
    uf.set_defaults(func=_ultrafeedback)
