"""What kind of rows a file holds, told by the fields of its first row, so that a reader given the
wrong file (pairs where prompts belong, a data set's own format where pairs belong) stops at once
and says what the file looks like instead, rather than reading it wrongly in silence.

The kinds: `prompts` (prompt records: `prompt`, no `chosen`/`rejected`), `pairs` (TRL's `chosen`
and `rejected`, with or without `prompt`: what `rmboost generate` and `data ... --as pairs` write),
`ultrafeedback` (raw rows with `instruction` and `completions`), `ultrafeedback-binarized` (TRL
pairs that carry `score_chosen` or `prompt_id`: pairs, and UltraFeedback's), `qa-feedback` (its
`question`, `passages` and predictions), `tldr` (OpenAI's comparisons: `info`, `summaries`,
`choice`), `failures` (a generation's failures file: `stage` and `reason`). Left out: checking a
row in full, which each reader does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.errors import InputError, UserError
from rmboost.io.rows import iter_rows

WHAT = {
    "prompts": "prompt records ({prompt, context?, task?, ...}, as `rmboost data ... --as prompts` writes)",
    "pairs": "preference pairs ({prompt, chosen, rejected}, as `rmboost generate` and `rmboost data ... --as "
             "pairs` write)",
    "ultrafeedback": "raw UltraFeedback rows (instruction, completions), the data set's own format",
    "ultrafeedback-binarized": "binarized UltraFeedback pairs (prompt, chosen, rejected, score_chosen)",
    "qa-feedback": "QA-Feedback questions (question, passages, prediction 1-4), the data set's own format",
    "tldr": "TL;DR comparisons (info, summaries, choice), the data set's own format",
    "failures": "a generation's failures file (stage, reason), not pairs",
    "unknown": "rows of no kind rmboost reads",
}


# What a reader of pairs takes: any TRL pair file, binarized UltraFeedback included.
PAIRS = ("pairs", "ultrafeedback-binarized")


def kind_of_row(row: Any) -> str:
    """The kind of one decoded row (`WHAT`'s keys); `unknown` when none fits."""
    if not isinstance(row, dict):
        return "unknown"
    keys = set(row)
    if {"instruction", "completions"} & keys:
        return "ultrafeedback"
    if {"question", "passages"} <= keys or "prediction 1" in keys:
        return "qa-feedback"
    if {"summaries", "choice"} <= keys:
        return "tldr"
    if {"stage", "reason"} <= keys and "chosen" not in keys:
        return "failures"
    if {"chosen", "rejected"} & keys:  # a pair, even one that lacks a side (its reader names the field)
        return "ultrafeedback-binarized" if {"score_chosen", "prompt_id"} & keys else "pairs"
    if "prompt" in keys:
        return "prompts"
    return "unknown"


def expect_row(row: Any, wanted: tuple[str, ...], reader: str, source: str, line: int) -> str:
    """The kind of one row when it is one of `wanted` (or not an object: the reader names that);
    otherwise an `InputError` naming the line, what `reader` reads and what the row is instead."""
    kind = kind_of_row(row)
    if kind in wanted or not isinstance(row, dict) or not row:
        return kind
    fields = sorted(str(k) for k in row)
    shown = ", ".join(fields[:8]) + (", ..." if len(fields) > 8 else "")
    named = [k for k in wanted if k != "unknown"]  # a loader that checks odd rows itself takes "unknown" too
    raise InputError(source, line, None, f"{reader} reads {' or '.join(WHAT[k] for k in named)}; this file "
                     f"holds {WHAT[kind]} (the row's fields: {shown})")


def expect_rows(path: str | Path, wanted: tuple[str, ...], reader: str) -> str:
    """The kind of `path`'s first decodable row when it is one of `wanted`; otherwise an
    `InputError` (one line) that says what `reader` reads and what the file holds instead. A file
    with no decodable row passes: the reader's own errors name its first bad line. A missing file
    is a `UserError`."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such file")
    for line, row in iter_rows(path):
        if not isinstance(row, InputError):
            return expect_row(row, wanted, reader, str(path), line)
    return "unknown"
