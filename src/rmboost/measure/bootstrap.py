"""The percentile bootstrap over clusters (questions), the one source of every interval rmboost
reports: a question's pairs share its responses, so they are not independent, and the bootstrap
resamples whole questions with replacement; with one pair per question it is the ordinary pair
bootstrap.

One seed rule for every bootstrap: the resampling generator is `numpy.random.default_rng(seed)`,
seeded with the caller's seed as it is, so an interval depends only on the values, the clusters,
`n_boot`, `seed` and `level`. Two estimates with the same seed over the same clusters draw the
same resamples, which is what makes a paired difference's interval agree with its two accuracies'.

Left out: how a record becomes a value or a cluster key (the caller's), and how an estimate is
shown (`interval_text.py`; `rm/evaluate.py`'s table, `data/shares.py`'s line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Share:
    """A mean of per-pair values with its percentile interval; `n` values were counted."""

    share: float
    ci_low: float
    ci_high: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resampling_generator(seed: int) -> np.random.Generator:
    """The generator of every bootstrap: the one seed rule."""
    return np.random.default_rng(seed)


def cluster_index(clusters: Sequence[Any], n: int) -> tuple[np.ndarray, int]:
    """(each value's cluster number, the number of clusters); clusters are compared as text."""
    if len(clusters) != n:
        raise ValueError(f"one cluster per value: {n} values, {len(clusters)} clusters")
    _, index = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)
    return index.reshape(-1), int(index.max()) + 1


def cluster_draws(k: int, n_boot: int, seed: int) -> np.ndarray:
    """`n_boot` resamples of `k` clusters with replacement: an (n_boot, k) array of cluster numbers."""
    return resampling_generator(seed).integers(0, k, size=(n_boot, k))


def percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` interval of the resampled estimates; nan without any."""
    if not len(boot):
        return NAN, NAN
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return float(low), float(high)


def cluster_bootstrap(values: ArrayLike, clusters: Sequence[Any], n_boot: int = 2000, seed: int = 0,
                      level: float = 0.95) -> Share:
    """The mean of `values` with a percentile bootstrap interval that resamples whole clusters;
    nan with n = 0 without values."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if not len(v):
        return Share(NAN, NAN, NAN, 0)
    index, k = cluster_index(clusters, len(v))
    sums, counts = np.bincount(index, weights=v, minlength=k), np.bincount(index, minlength=k).astype(float)
    draws = cluster_draws(k, n_boot, seed)
    low, high = percentile_interval(sums[draws].sum(axis=1) / counts[draws].sum(axis=1), level)
    return Share(float(v.mean()), low, high, len(v))


def stratified_cluster_bootstrap(values: ArrayLike, strata: Sequence[np.ndarray], clusters: Sequence[Any],
                                 n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Share:
    """The mean over `strata` (boolean masks of the values) of each stratum's mean, with the same
    cluster bootstrap as `cluster_bootstrap` (a resample where a stratum is empty is left out).
    Every stratum weighs the same whatever its size: the length-balanced accuracy. nan when a
    stratum is empty; `n` counts the values in some stratum."""
    v = np.asarray(values, dtype=float).reshape(-1)
    masks = [np.asarray(m, dtype=bool).reshape(-1) for m in strata]
    n = int(np.logical_or.reduce(masks).sum()) if masks else 0
    if not masks or not all(m.any() for m in masks):
        return Share(NAN, NAN, NAN, n)
    point = sum(v[m].mean() for m in masks) / len(masks)
    index, k = cluster_index(clusters, len(v))
    sums = [np.bincount(index, weights=v * m, minlength=k) for m in masks]
    counts = [np.bincount(index, weights=m.astype(float), minlength=k) for m in masks]
    draws = cluster_draws(k, n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = sum(s[draws].sum(1) / c[draws].sum(1) for s, c in zip(sums, counts, strict=True)) / len(masks)
    boot = np.asarray(boot)
    low, high = percentile_interval(boot[np.isfinite(boot)], level)
    return Share(float(point), low, high, n)
