"""How `data/`'s measures (`agreement.py`, `rewrite_direction.py`) report a share of pairs: None
when there is nothing to count, and the aligned line of `rmboost agree`'s table.

The counting is `rmboost.measure`'s: the share and its interval are `measure.bootstrap`'s cluster
bootstrap over questions (the one seed rule of every interval), the outcome and the words are
`measure.outcomes`' and `measure.words`'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rmboost.measure.bootstrap import Share, cluster_bootstrap

__all__ = ["Share", "cluster_share", "share_text"]


def cluster_share(outcomes: Sequence[float], clusters: Sequence[str], n_boot: int = 2000, seed: int = 0,
                  level: float = 0.95) -> Share | None:
    """The mean of `outcomes` with a percentile bootstrap interval over whole clusters (questions);
    None when there is nothing to count."""
    return cluster_bootstrap(outcomes, clusters, n_boot, seed, level) if outcomes else None


def share_text(share: Share | None) -> str:
    """`0.612  [0.550, 0.671]     88`, or `n/a` when there was nothing to count."""
    if share is None or math.isnan(share.share):
        return f"{'n/a':>8}"
    return f"{share.share:>8.3f}   [{share.ci_low:.3f}, {share.ci_high:.3f}] {share.n:>6d}"
