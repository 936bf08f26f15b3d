"""The outcome of a preference and the accuracy of many: a pair is won (1) when the preferred
response scores higher, lost (0) when lower, and counts half (0.5) on a tie. Every accuracy of
rmboost (a reward model's, a trivial rule's, agreement with humans, a validation step's) counts
this way, so an untrained model that scores everything the same gets exactly 0.5.

Left out: intervals (`bootstrap.py`) and what the scores are (the caller's reward model or rule).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def pair_outcome(preferred: float, other: float) -> float:
    """1 when `preferred` scores higher than `other`, 0 when lower, 0.5 on a tie."""
    return 1.0 if preferred > other else 0.0 if preferred < other else 0.5


def pair_outcomes(chosen: ArrayLike, rejected: ArrayLike) -> np.ndarray:
    """Per pair: 1 where chosen scores higher, 0 where lower, 0.5 on a tie (a scalar `rejected`,
    e.g. 0 against margins, is compared with every chosen)."""
    c, r = np.asarray(chosen, dtype=float), np.asarray(rejected, dtype=float)
    return np.where(c > r, 1.0, np.where(c < r, 0.0, 0.5))


def pairwise_accuracy(chosen: ArrayLike, rejected: ArrayLike) -> float:
    """The mean outcome (the share of pairs won, a tie counting half); nan without pairs."""
    wins = pair_outcomes(chosen, rejected)
    return float(wins.mean()) if wins.size else float("nan")
