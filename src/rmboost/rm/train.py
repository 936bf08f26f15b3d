"""Train a reward model of any kind on one or more pair files. Several files are simply concatenated
(that is how Real+Syn mixtures are made); the kind's trainer shuffles with the seed. Unless the
caller passes validation pairs, a share of the training questions (`validation_fraction`, by
question: `validation.py`) is held out, and the kind keeps its best checkpoint on them. Each kind's
defaults live in its own module; this one only loads, mixes, holds out and dispatches."""

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
from rmboost.rm.training_loop import Progress
from rmboost.rm.validation import split_by_question

# The kind `rmboost train` trains without --rm: the highest measured sensitivity (accuracy trained
# on Real minus trained on all-flipped Real) on QA-Feedback's human test pairs among the kinds that
# train within 20 minutes on 2 CPU cores (configs/calibration.yaml, docs/RESULTS.md): features-sim
# +0.165, features +0.164 (a tie; `features` needs no encoder), embed-linear +0.034, maxsim +0.075.
DEFAULT_KIND = "features-sim"
VALIDATION_FRACTION = 0.2


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


def check_kind(kind: str) -> None:
    """Refuse an unknown kind, or an `hf:PATH` whose folder is no checkpoint, before any data is
    read or model loaded (a one-line `UserError`)."""
    kind_class(kind).check(kind)


def train_reward_model(
    pairs: Sequence[Pair],
    kind: str = DEFAULT_KIND,
    seed: int = 0,
    *,
    validation: Sequence[Pair] | None = None,
    on_progress: Progress | None = None,
    **overrides: Any,
) -> RewardModel:
    """Train a reward model of `kind` (`features-sim`, `features`, `maxsim`, `minilm`, `embed-linear`,
    `smollm2` or `hf:PATH`).
    Without `validation`, `overrides["validation_fraction"]` (default 0.2; 0 = none) of the
    questions of `pairs` are held out for model selection and the rest trained on."""
    check_kind(kind)
    fraction = overrides.pop("validation_fraction", None)
    fraction = VALIDATION_FRACTION if fraction is None else float(fraction)
    if validation is None:
        pairs, validation = split_by_question(pairs, fraction)
    return kind_class(kind).train(pairs, kind, seed, validation=validation, on_progress=on_progress, **overrides)


def untrained_reward_model(kind: str = DEFAULT_KIND, seed: int = 0, **overrides: Any) -> RewardModel:
    """A model of `kind` as its training would start (step 0), for the calibration's untrained score."""
    overrides.pop("validation_fraction", None)
    return kind_class(kind).untrained(kind, seed, **overrides)
