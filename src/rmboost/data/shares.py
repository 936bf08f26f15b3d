"""A share of pairs (an agreement rate) with a 95% bootstrap interval that resamples questions, not
pairs: a question's comparisons share its responses, so they are not independent. The same
percentile cluster bootstrap as `rm/evaluate.py`'s accuracy, here a layer below the reward models
for the measures that need none (`agreement.py`, `rewrite_direction.py`); its generator's seed is
derived from the caller's seed with SHA-256, like every random choice of rmboost.

Also the word-level rules those measures share: the words of a text (lower-cased `\\w+`), the
`overlap` share (as `rm/lexical.py` computes it) and a pairwise outcome (1, 0, or 0.5 on a tie).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Share:
    share: float
    ci_low: float
    ci_high: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def words(text: str) -> list[str]:
    """The lower-cased `\\w+` words of `text`, in order."""
    return _WORD.findall(text.lower())


def overlap_share(prompt_text: str, response: str) -> float:
    """The share of the response's words (with repeats) found anywhere in the prompt; 0 without words."""
    found = set(words(prompt_text))
    said = words(response)
    return sum(w in found for w in said) / len(said) if said else 0.0


def outcome(preferred: float, other: float) -> float:
    """1 when a rule scores the preferred response higher, 0 when lower, 0.5 on a tie."""
    return 1.0 if preferred > other else 0.0 if preferred < other else 0.5


def cluster_share(outcomes: Sequence[float], clusters: Sequence[str], n_boot: int = 2000, seed: int = 0,
                  level: float = 0.95) -> Share | None:
    """The mean of `outcomes` with a percentile bootstrap interval over whole clusters (questions);
    None when there is nothing to count."""
    if not outcomes:
        return None
    if len(outcomes) != len(clusters):
        raise ValueError(f"one cluster per outcome: {len(outcomes)} outcomes, {len(clusters)} clusters")
    values = np.asarray(outcomes, dtype=float)
    _, index = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)
    sums, counts = np.bincount(index, weights=values), np.bincount(index).astype(float)
    digest = hashlib.sha256(f"{seed}:cluster-bootstrap".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    draws = rng.integers(0, len(sums), size=(n_boot, len(sums)))
    boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2])
    return Share(float(values.mean()), float(low), float(high), len(values))


def share_text(share: Share | None) -> str:
    """`0.612  [0.550, 0.671]     88`, or `n/a` when there was nothing to count."""
    if share is None or math.isnan(share.share):
        return f"{'n/a':>8}"
    return f"{share.share:>8.3f}   [{share.ci_low:.3f}, {share.ci_high:.3f}] {share.n:>6d}"
