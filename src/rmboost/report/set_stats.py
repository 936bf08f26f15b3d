"""The few measures of a pair set that the report computes itself, from every row (before any
sampling): counts, label balance, the length bias, distinct-n, the aspects chosen, and the
failure reasons.

They follow `rmboost stats` by calling the same rules (`rmboost.measure.words`: words are
whitespace-separated; "chosen is longer" counts strictly longer chosen responses; a failure reason
is `stage: reason`), so a report and `stats.md` agree.
Measures that need a model (reference-RM agreement, embedding diversity) come from an
experiment's `results.json`, not from here.

Whether an aspects chart applies to a set: only when its rows chose aspects, that is, when the
rows' aspect lists are not all the same. West-of-N, RLCD and RLAIF record the task's full list on
every row, human pairs record none, so a chart of them would be one flat row of bars (or nothing)
that says nothing about the method; the page says in words which list every row carries instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rmboost.measure.words import distinct_n, length_bias
from rmboost.report.collect import PairSet, as_text

TOP_REASONS = 8


@dataclass
class SetStats:
    name: str
    pairs: int
    failures: int
    better: int = 0
    worse: int = 0
    chosen_words: float | None = None  # None (n/a) for a set without pairs, as every per-pair measure
    rejected_words: float | None = None
    chosen_longer_share: float | None = None
    distinct_1: float | None = None
    distinct_2: float | None = None
    aspects: dict[str, int] = field(default_factory=dict)
    aspects_vary: bool = False
    same_aspects: list[str] = field(default_factory=list)  # the one list every row carries, if so
    failure_reasons: dict[str, int] = field(default_factory=dict)
    bad_rows: int = 0  # rows of the pairs file that are no pair and lines of the failures file left out (`collect.py`)

    @property
    def failure_rate(self) -> float | None:
        total = self.pairs + self.failures
        return self.failures / total if total else None

    @property
    def better_share(self) -> float | None:
        labelled = self.better + self.worse
        return self.better / labelled if labelled else None

    def aspects_text(self) -> str:
        if self.aspects_vary:
            return f"chosen per pair ({len(self.aspects)} distinct)"
        if len(self.same_aspects) > 2:  # the names are on every card of the Pairs tab
            return f"the same {len(self.same_aspects)} on every pair"
        if self.same_aspects:
            return "every pair: " + ", ".join(self.same_aspects)
        return "none recorded"


def reason_key(row: dict[str, object]) -> str:
    return f"{row.get('stage', '?')}: {row.get('reason', '?')}"[:80]


def top_counts(counts: Counter[str], top: int = TOP_REASONS) -> dict[str, int]:
    """The `top` most common entries, the rest summed as one `other (N kinds)` entry."""
    kept = dict(counts.most_common(top))
    rest = [c for k, c in counts.items() if k not in kept]
    if rest:
        kept[f"other ({len(rest)} kinds)"] = sum(rest)
    return kept


def set_stats(pair_set: PairSet) -> SetStats:
    rows = pair_set.rows
    n = len(rows)
    stats = SetStats(pair_set.name, n, len(pair_set.failures), bad_rows=pair_set.bad_rows)
    labels = Counter(r.get("label") for r in rows)
    stats.better, stats.worse = labels.get("BETTER", 0), labels.get("WORSE", 0)
    if n:
        chosen, rejected = [as_text(r.get("chosen")) for r in rows], [as_text(r.get("rejected")) for r in rows]
        stats.chosen_words, stats.rejected_words, stats.chosen_longer_share = length_bias(chosen, rejected)
        stats.distinct_1, stats.distinct_2 = distinct_n(chosen + rejected, 1), distinct_n(chosen + rejected, 2)
    lists = [tuple(str(a) for a in r["aspects"]) if isinstance(r.get("aspects"), list) else () for r in rows]
    stats.aspects = dict(Counter(a for aspects in lists for a in aspects).most_common())
    distinct = {tuple(sorted(aspects)) for aspects in lists}
    stats.aspects_vary = len(distinct) > 1
    if len(distinct) == 1 and lists[0]:
        stats.same_aspects = list(lists[0])
    stats.failure_reasons = top_counts(Counter(reason_key(f) for f in pair_set.failures))
    return stats
