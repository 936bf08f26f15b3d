"""`rmboost data ...`: turn public human-labelled data sets into rmboost's files.

`data qa-feedback FILE --split {train,test,all} --as {prompts,pairs,corrections} --output OUT [--format parquet]`
writes QA-Feedback questions as prompt records (for generation), its human comparisons as TRL
pairs (for training and evaluation), or its human corrections as known-good pairs (corrected
text over `prediction 1`, see `data/qa_corrections.py`), with the same question-level split.
`--as prompts --with-responses all` gives each prompt its four predictions and six labelled
comparisons, for the methods over given responses and `rmboost agree`.
`data tldr` and `data ultrafeedback` (the paper's other two data sets) are `cli/data_paper.py`'s.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

from rmboost.options import add_dataclass_args, from_args, on_error_option, option


@dataclass
class QAFeedbackConfig:
    file: str = field(metadata={"cli": False})
    output: str = option("", "where to write (JSONL, or Parquet)", required=True)
    split: str = option("all", "questions to keep; the split is by a hash of the question",
                        choices=["train", "test", "all"])
    as_: str = field(default="prompts", metadata={"cli": False})
    format: str = option("jsonl", "output file format", choices=["jsonl", "parquet"])
    with_response: int | None = option(None, "with --as prompts: give each prompt prediction N (1-4) as its "
                                       "`response`, which RMBoost rewrites instead of making y1")
    with_responses: str | None = option(None, "with --as prompts: 'all' gives each prompt its four predictions as "
                                        "`responses`, the six comparisons the humans labelled as `pairs` and "
                                        "their labels as `human` (for rlaif, west-of-n, rmboost and rmboost agree)",
                                        choices=["all"])
    on_error: str = on_error_option("question")


def _qa_feedback(args: argparse.Namespace) -> int:
    from rmboost.data.qa_corrections import export_corrections
    from rmboost.data.qa_feedback import export
    from rmboost.errors import UsageError
    from rmboost.io.rows import SkipCounter

    cfg = from_args(QAFeedbackConfig, args)
    counter = SkipCounter(on_error=cfg.on_error)  # type: ignore[arg-type]
    if cfg.with_response is not None and cfg.as_ != "prompts":
        raise UsageError("--with-response applies to --as prompts only")
    if cfg.with_responses is not None and cfg.as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")
    if cfg.as_ == "corrections":
        n = export_corrections(cfg.file, cfg.output, cfg.split, cfg.format, counter)  # type: ignore[arg-type]
    else:
        n = export(cfg.file, cfg.output, cfg.split, cfg.as_, cfg.format, counter,  # type: ignore[arg-type]
                   cfg.with_response, cfg.with_responses == "all")
    skipped = f", skipped {counter.skipped} malformed" if counter.skipped else ""
    left = "".join(f", left out {k} questions: {reason}" for reason, k in counter.left_out.items())
    print(f"wrote {n} {cfg.as_} to {cfg.output}{left}{skipped}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="convert public human-labelled data sets")
    sub = parser.add_subparsers(dest="data_command", required=True, metavar="SOURCE")
    qa = sub.add_parser("qa-feedback", help="QA-Feedback dev_feedback.json as prompt records or TRL pairs")
    qa.add_argument("file", help="dev_feedback.json (a JSON list of questions)")
    qa.add_argument(
        "--as",
        dest="as_",
        choices=["prompts", "pairs", "corrections"],
        default="prompts",
        help="prompt records {id, prompt, context, task}, human-labelled TRL pairs, or the human "
        "corrections as pairs (corrected text chosen over prediction 1; default: prompts)",
    )
    add_dataclass_args(qa, QAFeedbackConfig)
    qa.set_defaults(func=_qa_feedback)
    from rmboost.cli.data_paper import register as register_paper_data

    register_paper_data(sub)  # tldr, ultrafeedback
