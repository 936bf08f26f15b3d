"""`rmboost data SOURCE ...`: turn public human-labelled data sets into rmboost's files, one subcommand
per data set (the formats with a converter in `data/formats.py`).

`data qa-feedback FILE --split {train,test,all} --as {prompts,pairs,corrections} --output OUT [--format parquet]`
writes QA-Feedback questions as prompt records (for generation), its human comparisons as TRL
pairs (for training and evaluation), or its human corrections as known-good pairs (corrected
text over `prediction 1`, see `data/qa_corrections.py`), with the same question-level split.
`--as prompts --with-responses all` gives each prompt its four predictions and six labelled
comparisons, for the methods over given responses and `rmboost agree`.
`data tldr FILE|FOLDER... --split {train,valid1,valid2,all} --as {pairs,prompts} --output OUT`
reads OpenAI's TL;DR comparison files (`comparisons/*.json`; a folder stands for its `*.json`
files) into TRL pairs (one per pair of summaries, by majority vote of the workers) or prompt
records (the post as context; `--with-responses all` adds the compared summaries). A `--split` the
files do not hold is a usage error (exit 2) naming the splits they do hold.
`data ultrafeedback FILE --as {pairs,prompts} --output OUT` reads raw or binarized UltraFeedback
rows.

The rules and counts are the loaders' (`data/qa_feedback.py`, `data/qa_corrections.py`,
`data/tldr.py`, `data/ultrafeedback.py`, which also refuse `--with-responses` without `--as
prompts`); this module parses the options and prints one line of what was kept and left out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any, Literal, get_args

from rmboost.cli import add_option, argument
from rmboost.data.qa_feedback import Split
from rmboost.data.tldr import TLDRSplit
from rmboost.io.rows import OnError, SkipCounter
from rmboost.options import add_dataclass_args, from_args, on_error_option, option


def output_option() -> Any:
    return option("", "where to write (JSONL, or Parquet)", required=True)


def format_option() -> Any:
    return option("jsonl", "output file format", choices=["jsonl", "parquet"])


@dataclass
class QAFeedbackConfig:
    file: str = argument("dev_feedback.json (a JSON list of questions)")
    output: str = output_option()
    split: Split = option("all", "questions to keep; the split is by a hash of the question",
                          choices=list(get_args(Split)))
    as_: Literal["prompts", "pairs", "corrections"] = option(
        "prompts", "prompt records {id, prompt, context, task}, human-labelled TRL pairs, or the human "
        "corrections as pairs (corrected text chosen over prediction 1; default: prompts)",
        choices=["prompts", "pairs", "corrections"], cli=False)
    format: str = format_option()
    with_response: int | None = option(None, "with --as prompts: give each prompt prediction N (1-4) as its "
                                       "`response`, which RMBoost rewrites instead of making y1")
    with_responses: str | None = option(None, "with --as prompts: 'all' gives each prompt its four predictions as "
                                        "`responses`, the six comparisons the humans labelled as `pairs` and "
                                        "their labels as `human` (for rlaif, west-of-n, rmboost and rmboost agree)",
                                        choices=["all"])
    on_error: OnError = on_error_option("question")


@dataclass
class TLDRConfig:
    files: list[str] = argument("comparison files (JSON lines, one comparison a line), or a folder of them (its "
                                "*.json files, e.g. the official comparisons/ folder)")
    output: str = output_option()
    split: TLDRSplit = option("all", "comparisons to keep, by the file's own `split` field (evaluation uses valid2)",
                              choices=list(get_args(TLDRSplit)))
    as_: Literal["pairs", "prompts"] = option(
        "pairs", "TRL pairs (one per pair of summaries, by majority vote) or prompt records "
        "{id, prompt, context: the post, task} (default: pairs)", choices=["pairs", "prompts"], cli=False)
    with_responses: str | None = option(None, "with --as prompts: give each post the summaries its comparisons "
                                        "show, as `responses` (and the compared `pairs`)", choices=["all"])
    format: str = format_option()
    on_error: OnError = on_error_option("comparison")


@dataclass
class UltraFeedbackConfig:
    file: str = argument("raw rows (openbmb/UltraFeedback) or binarized rows (HuggingFaceH4/ultrafeedback_binarized), "
                         "JSONL or Parquet")
    output: str = output_option()
    as_: Literal["pairs", "prompts"] = option(
        "pairs", "TRL pairs (raw rows: the highest over the lowest mean rating) or prompt records "
        "{id, prompt, task} (default: pairs)", choices=["pairs", "prompts"], cli=False)
    with_responses: str | None = option(None, "with --as prompts: give each prompt its completions as "
                                        "`responses`", choices=["all"])
    format: str = format_option()
    on_error: OnError = on_error_option("row")


def report(n: int, what: str, output: str, counter: SkipCounter, unit: str = "") -> None:
    """One line: what was written, and every count of a rule (of `unit`s) or a skipped malformed row."""
    left = "".join(f", left out {k}{unit}: {reason}" for reason, k in counter.left_out.items())
    notes = "".join(f", {k} {reason}" for reason, k in counter.notes.items())
    skipped = f", skipped {counter.skipped} malformed" if counter.skipped else ""
    print(f"wrote {n} {what} to {output}{left}{notes}{skipped}", file=sys.stderr)


def _qa_feedback(args: argparse.Namespace) -> int:
    from rmboost.data.qa_corrections import export_corrections
    from rmboost.data.qa_feedback import export
    from rmboost.errors import UsageError

    cfg = from_args(QAFeedbackConfig, args)
    counter = SkipCounter(on_error=cfg.on_error)
    as_ = cfg.as_
    # Checked here, not only by `export`: the corrections' loader takes no responses and does not check.
    if cfg.with_response is not None and as_ != "prompts":
        raise UsageError("--with-response applies to --as prompts only")
    if cfg.with_responses is not None and as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")
    if as_ == "corrections":
        n = export_corrections(cfg.file, cfg.output, cfg.split, cfg.format, counter)
    else:
        n = export(cfg.file, cfg.output, cfg.split, as_, cfg.format, counter, cfg.with_response,
                   cfg.with_responses == "all")
    report(n, as_, cfg.output, counter, unit=" questions")
    return 0


def _tldr(args: argparse.Namespace) -> int:
    from rmboost.data.tldr import export

    cfg = from_args(TLDRConfig, args)
    counter = SkipCounter(on_error=cfg.on_error)
    n = export(cfg.files, cfg.output, cfg.split, cfg.as_, cfg.format, counter, cfg.with_responses)
    report(n, f"{cfg.as_} (split {cfg.split})", cfg.output, counter)
    return 0


def _ultrafeedback(args: argparse.Namespace) -> int:
    from rmboost.data.ultrafeedback import export

    cfg = from_args(UltraFeedbackConfig, args)
    counter = SkipCounter(on_error=cfg.on_error)
    n = export(cfg.file, cfg.output, cfg.as_, cfg.format, counter, cfg.with_responses)
    report(n, cfg.as_, cfg.output, counter)
    return 0


def add_source(sources: argparse._SubParsersAction, name: str, help_text: str, config: type, files: str,
               **how: Any) -> argparse.ArgumentParser:
    """One data set's subcommand: its file argument(s) `files`, `--as`, then the rest of its config."""
    source: argparse.ArgumentParser = sources.add_parser(name, help=help_text)
    add_option(source, config, files, **how)
    add_option(source, config, "as_", "--as")
    add_dataclass_args(source, config)
    return source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="convert public human-labelled data sets")
    sources = parser.add_subparsers(dest="data_command", required=True, metavar="SOURCE")
    add_source(sources, "qa-feedback", "QA-Feedback dev_feedback.json as prompt records or TRL pairs",
               QAFeedbackConfig, "file").set_defaults(func=_qa_feedback)
    add_source(sources, "tldr", "OpenAI's TL;DR comparisons (comparisons/batch*.json) as TRL pairs or prompt records",
               TLDRConfig, "files", nargs="+", metavar="FILE").set_defaults(func=_tldr)
    add_source(sources, "ultrafeedback", "UltraFeedback rows (raw or binarized) as TRL pairs or prompt records",
               UltraFeedbackConfig, "file").set_defaults(func=_ultrafeedback)
