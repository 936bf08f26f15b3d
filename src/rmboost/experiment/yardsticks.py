"""The yardsticks a reward model of the experiment is scored on: human-labelled pairs of the test
questions, each kind of label a yardstick of its own.

- `human-pairs`: the test questions' human comparisons (QA-Feedback, TL;DR, HH, TRL files).
- `confident-human-pairs`: the human pairs whose labellers said they preferred one side strongly,
  for the data sets that record it (TL;DR's `extra.confidence`: a pair's `strength`, `data/tldr.py`,
  at least the format's `confident_at`, `data/formats.py`). Chosen from the distribution of
  strengths on the official files (docs/DATASETS.md), not from any model's accuracy: the upper half
  of the 1-4 scale.
- `gpt4-pairs`: UltraFeedback's test comparisons, made from GPT-4's ratings: not a human yardstick.
- `human-corrections`: for QA-Feedback, the test questions' human corrections, as pairs (the corrected
  prediction 1 chosen over prediction 1). The corrections mostly shorten answers, so "always the
  shorter" does well here: read its length-balanced accuracy.

Each yardstick reports raw accuracy with its interval, the length-balanced accuracy
(`rm.evaluate.length_balanced`: the mean of the accuracies on pairs whose chosen side is the longer
and the shorter, so any length-only rule scores 0.5), and the `longer`/`shorter`, `overlap` and
`first` baselines on the same pairs. Which data set offers which yardsticks is its registration's
(`data/formats.py`); loading the pairs is `dataset.py`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rmboost.data.formats import (
    CONFIDENT_HUMAN_PAIRS,
    GPT4_PAIRS,
    HUMAN_CORRECTIONS,
    HUMAN_PAIRS,
    data_format,
)
from rmboost.data.tldr import CONFIDENT_STRENGTH
from rmboost.records import Pair

YARDSTICKS = (HUMAN_PAIRS, CONFIDENT_HUMAN_PAIRS, HUMAN_CORRECTIONS, GPT4_PAIRS)
TEST_PAIRS = (HUMAN_PAIRS, GPT4_PAIRS)  # the data's own test comparisons, by who labelled them
WHAT = {HUMAN_PAIRS: "the test questions' human comparisons",
        CONFIDENT_HUMAN_PAIRS: "the test questions' human comparisons with a strong preference (strength "
                               f">= {CONFIDENT_STRENGTH:g} of 4)",
        HUMAN_CORRECTIONS: "the test questions' human corrections (corrected prediction 1 over prediction 1)",
        GPT4_PAIRS: "the test prompts' comparisons by GPT-4's ratings (UltraFeedback: not human labels)"}


def offered(data_format_name: str) -> tuple[str, ...]:
    """The yardsticks a data format's test side gives (its registration, `data/formats.py`)."""
    return data_format(data_format_name).yardsticks


def confident(pairs: Sequence[Pair], data_format_name: str) -> list[Pair]:
    """The pairs whose `strength` is at least the format's confident level (none without one)."""
    at = data_format(data_format_name).confident_at
    return [p for p in pairs if at is not None and p.extra.get("strength") is not None and p.extra["strength"] >= at]


def _lb_dict(wins: Sequence[float], pairs: Sequence[Pair], n_boot: int, seed: int) -> dict[str, Any]:
    from dataclasses import asdict

    from rmboost.rm.evaluate import length_balanced

    return asdict(length_balanced(wins, pairs, n_boot, seed))


# Per yardstick (by identity) and bootstrap setting: the baselines, which read no model.
_BASELINES: dict[tuple[int, int, int, int], tuple[Any, dict[str, Any]]] = {}


def _baselines(pairs: Sequence[Pair], n_boot: int, seed: int) -> tuple[Any, dict[str, Any]]:
    from rmboost.rm.evaluate import baseline_outcomes, baselines_of

    key = (id(pairs), len(pairs), n_boot, seed)
    if key not in _BASELINES:
        lb_base: dict[str, Any] = {}
        if pairs:
            rules = baseline_outcomes(pairs)
            lb_base = {name: _lb_dict(wins.tolist(), pairs, n_boot, seed)
                       for name in ("overlap", "first") if (wins := rules[name]) is not None}
        _BASELINES[key] = (pairs, {"plain": baselines_of(pairs, n_boot, seed), "length_balanced": lb_base})
    return _BASELINES[key]


def report(chosen: Sequence[float], rejected: Sequence[float], pairs: Sequence[Pair], n_boot: int,
           seed: int) -> tuple[dict[str, Any], list[float]]:
    """(the yardstick's row, per-pair outcomes) for a model's scores of `pairs`."""
    from rmboost.rm.evaluate import evaluate_scores

    _, base = _baselines(pairs, n_boot, seed)
    rep = evaluate_scores(pairs, chosen, rejected, n_boot, seed, baselines=base["plain"])
    row = rep.to_dict()
    row["length_balanced"] = _lb_dict(rep.wins, pairs, n_boot, seed)
    row["length_balanced_baselines"] = base["length_balanced"]
    return row, list(rep.wins)


def score_all(model: Any, yardsticks: dict[str, list[Pair]], n_boot: int,
              seed: int) -> tuple[dict[str, dict[str, Any]], dict[str, list[float]]]:
    """Score `model` on every yardstick in one batch; (rows, outcomes), both by yardstick name."""
    every = [p for pairs in yardsticks.values() for p in pairs]
    chosen, rejected = model.score_pairs(every) if every else ([], [])
    rows: dict[str, dict[str, Any]] = {}
    wins: dict[str, list[float]] = {}
    start = 0
    for name, pairs in yardsticks.items():
        end = start + len(pairs)
        rows[name], wins[name] = report(chosen[start:end], rejected[start:end], pairs, n_boot, seed)
        start = end
    return rows, wins
