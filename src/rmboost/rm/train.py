"""Train a reward model of any kind on one or more pair files. Several files are simply concatenated
(that is how Real+Syn mixtures are made); the kind's trainer shuffles with the seed. Each kind's
defaults live in its own module; this one only loads, mixes and dispatches."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rmboost.data.formats import load_pairs
from rmboost.data.qa_feedback import Split
from rmboost.errors import UserError
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair
from rmboost.rm.base import RewardModel, kind_class


def load_training_pairs(
    files: Sequence[str | Path], fmt: str = "trl", counter: SkipCounter | None = None, split: Split = "all"
) -> list[Pair]:
    """All pairs of `files`, in order. A pair whose chosen and rejected are equal teaches nothing
    and is dropped. `split` applies to the QA-Feedback format only."""
    counter = counter or SkipCounter()
    out: list[Pair] = []
    for f in files:
        out.extend(p for p in load_pairs(f, fmt, counter, split) if p.chosen != p.rejected)
    if not out:
        raise UserError(f"no usable pairs in {', '.join(map(str, files))}")
    return out


def train_reward_model(pairs: Sequence[Pair], kind: str, seed: int = 0, **overrides: Any) -> RewardModel:
    """Train a reward model of `kind` (`embed-linear`, `minilm`, `smollm2` or `hf:PATH`)."""
    return kind_class(kind).train(pairs, kind, seed, **overrides)
