"""Pick a loader by format name, for the commands that take `--format trl|qa-feedback|hh|rewardbench`."""

from __future__ import annotations

from pathlib import Path

from rmboost.data.hh import load_hh
from rmboost.data.qa_feedback import Split, load_questions, pairs
from rmboost.data.rewardbench import load_rewardbench
from rmboost.data.trl_pairs import load_trl_pairs
from rmboost.data.ultrafeedback import load_ultrafeedback
from rmboost.io.row_kinds import PAIRS, expect_rows
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair

FORMATS = ("trl", "qa-feedback", "hh", "rewardbench")


def load_pairs(
    path: str | Path, fmt: str = "trl", counter: SkipCounter | None = None, split: Split = "all"
) -> list[Pair]:
    """Load preference pairs from `path` in format `fmt`. `split` applies to QA-Feedback only. A TRL
    file that is binarized UltraFeedback (its rows carry `score_chosen`) is read by the UltraFeedback
    loader, which leaves out ties (equal scores) as `rmboost data ultrafeedback` does."""
    if fmt == "trl":
        if Path(path).is_file() and expect_rows(path, PAIRS, "--format trl") == "ultrafeedback-binarized":
            return load_ultrafeedback(path, counter)
        return load_trl_pairs(path, counter)
    if fmt == "qa-feedback":
        return pairs(load_questions(path, split, counter))
    if fmt == "hh":
        return load_hh(path, counter)
    if fmt == "rewardbench":
        return load_rewardbench(path, counter)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
