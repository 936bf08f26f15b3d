"""Pairwise accuracy of a reward model on held-out pairs, with a bootstrap confidence interval, the
trivial baselines on the same pairs, and a per-`subset` breakdown.

A pair is won when the chosen response scores higher, lost when lower, and counts half on a tie.
The 95% interval is a percentile bootstrap that resamples prompts, not pairs: QA-Feedback has up to
six pairs per question, and those are not independent. With one pair per prompt it is the ordinary
pair bootstrap. Baselines: `longer` always prefers the longer response (in characters);
`overlap` prefers the response with the larger share of its words found in the prompt
(`measure.words.overlap_share`: lower-cased `\\w+` words, a conversation read as its text), the lexical
faithfulness rule a reward model should beat; `first` always prefers the response listed first in
the source comparison, known only when pairs carry `chosen_listed_first` (QA-Feedback does),
otherwise reported as unavailable. Every baseline counts a tie as half.
Scoring is the model's job; counting is `rmboost.measure`'s (outcomes, the bootstrap, words): this
module turns pairs into outcomes and cluster keys (a pair's cluster is its prompt) and reports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rmboost.measure.bootstrap import cluster_bootstrap, stratified_cluster_bootstrap
from rmboost.measure.outcomes import pair_outcomes
from rmboost.measure.words import overlap_share, word_count
from rmboost.prompts.prompt_text import prompt_text
from rmboost.records import Pair

if TYPE_CHECKING:
    from rmboost.rm.base import RewardModel


@dataclass(frozen=True, slots=True)
class Accuracy:
    accuracy: float
    ci_low: float
    ci_high: float
    n: int


@dataclass(slots=True)
class EvalReport:
    accuracy: float
    ci_low: float
    ci_high: float
    n: int
    baselines: dict[str, Accuracy | None]
    subsets: dict[str, Accuracy] = field(default_factory=dict)
    wins: list[float] = field(default_factory=list)  # per pair, in input order; for paired comparisons

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "baselines": {k: asdict(v) if v else None for k, v in self.baselines.items()},
            "subsets": {k: asdict(v) for k, v in self.subsets.items()},
        }


def bootstrap_accuracy(
    wins: np.ndarray, clusters: Sequence[str], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> Accuracy:
    """Mean of `wins` with a percentile bootstrap interval that resamples whole clusters
    (`measure.bootstrap.cluster_bootstrap`)."""
    s = cluster_bootstrap(wins, clusters, n_boot, seed, level)
    return Accuracy(s.share, s.ci_low, s.ci_high, s.n)


def _cluster(pair: Pair) -> str:
    return json.dumps(pair.prompt, sort_keys=True, ensure_ascii=False)


def baseline_outcomes(pairs: Sequence[Pair]) -> dict[str, np.ndarray | None]:
    """Each trivial rule's per-pair outcomes on `pairs` (`first` None unless every pair says which
    response its source listed first): the one place the baselines' rules are written."""
    longer = pair_outcomes([len(p.chosen) for p in pairs], [len(p.rejected) for p in pairs])
    texts = [prompt_text(p.prompt) for p in pairs]  # the words said, as `rmboost agree`'s overlap reads them
    overlap = pair_outcomes(
        [overlap_share(t, p.chosen) for t, p in zip(texts, pairs, strict=True)],
        [overlap_share(t, p.rejected) for t, p in zip(texts, pairs, strict=True)],
    )
    first = None
    if pairs and all("chosen_listed_first" in p.extra for p in pairs):
        first = np.array([1.0 if p.extra["chosen_listed_first"] else 0.0 for p in pairs])
    return {"longer": longer, "shorter": 1.0 - longer, "overlap": overlap, "first": first}


def baselines_of(pairs: Sequence[Pair], n_boot: int = 2000, seed: int = 0) -> dict[str, Accuracy | None]:
    """The trivial rules' accuracies on `pairs` (they read no model, so callers may reuse them)."""
    clusters = [_cluster(p) for p in pairs]
    return {name: None if wins is None else bootstrap_accuracy(wins, clusters, n_boot, seed)
            for name, wins in baseline_outcomes(pairs).items()}


def evaluate_scores(
    pairs: Sequence[Pair],
    chosen: Sequence[float],
    rejected: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    baselines: dict[str, Accuracy | None] | None = None,
) -> EvalReport:
    """The report for scores already computed (one chosen and one rejected score per pair);
    `baselines`, when the caller has them for these pairs already, are not computed again."""
    clusters = [_cluster(p) for p in pairs]
    wins = pair_outcomes(chosen, rejected)
    main = bootstrap_accuracy(wins, clusters, n_boot, seed)
    if baselines is None:
        baselines = baselines_of(pairs, n_boot, seed)
    subsets = {}
    names = sorted({str(p.extra["subset"]) for p in pairs if "subset" in p.extra})
    for name in names:
        idx = [i for i, p in enumerate(pairs) if str(p.extra.get("subset")) == name]
        subsets[name] = bootstrap_accuracy(wins[idx], [clusters[i] for i in idx], n_boot, seed)
    return EvalReport(main.accuracy, main.ci_low, main.ci_high, main.n, baselines, subsets, wins.tolist())


def outcome_accuracy(wins: Sequence[float], pairs: Sequence[Pair], n_boot: int = 2000, seed: int = 0) -> Accuracy:
    """Accuracy of per-pair outcomes computed elsewhere (e.g. averaged over several trainings),
    with the same interval as `evaluate` (resampling prompts)."""
    if len(wins) != len(pairs):
        raise ValueError(f"accuracy needs one outcome per pair: {len(wins)}, {len(pairs)}")
    return bootstrap_accuracy(np.asarray(wins, dtype=float), [_cluster(p) for p in pairs], n_boot, seed)


def paired_difference(
    wins_a: Sequence[float], wins_b: Sequence[float], pairs: Sequence[Pair], n_boot: int = 2000, seed: int = 0
) -> Accuracy:
    """Accuracy of model A minus model B on the same pairs, with a 95% interval from one bootstrap
    of the per-pair differences (resampling prompts, as for accuracy). Tighter than comparing two
    separate intervals, because both models face the same hard and easy pairs."""
    if not len(wins_a) == len(wins_b) == len(pairs):
        raise ValueError(f"paired difference needs one outcome per pair: {len(wins_a)}, {len(wins_b)}, {len(pairs)}")
    diff = np.asarray(wins_a, dtype=float) - np.asarray(wins_b, dtype=float)
    return outcome_accuracy(diff.tolist(), pairs, n_boot, seed)


def length_strata(pairs: Sequence[Pair]) -> np.ndarray:
    """Per pair: 1 when the chosen response has more words than the rejected, 0 when fewer, -1 when
    both have the same number of words."""
    c = np.array([word_count(p.chosen) for p in pairs])
    r = np.array([word_count(p.rejected) for p in pairs])
    return np.where(c > r, 1, np.where(c < r, 0, -1))


@dataclass(frozen=True, slots=True)
class LengthBalanced:
    """Accuracy with length controlled: the mean of the accuracy on the pairs whose chosen response
    is the longer (in words) and the accuracy on those whose chosen is the shorter; pairs of equal
    length are left out and counted. Any rule that reads only length ("always the longer", "always
    the shorter") scores exactly 0.5, whatever share of the pairs the longer side wins. Undefined
    (nan) when either stratum is empty."""

    accuracy: float
    ci_low: float
    ci_high: float
    chosen_longer: int
    chosen_shorter: int
    equal_length: int


def length_balanced(
    wins: Sequence[float], pairs: Sequence[Pair], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> LengthBalanced:
    """The length-balanced accuracy of per-pair outcomes, with a bootstrap over prompts (as `evaluate`)."""
    strata = length_strata(pairs)
    longer, shorter = strata == 1, strata == 0
    counts = (int(longer.sum()), int(shorter.sum()), int((strata == -1).sum()))
    s = stratified_cluster_bootstrap(wins, [longer, shorter], [_cluster(p) for p in pairs], n_boot, seed, level)
    return LengthBalanced(s.share, s.ci_low, s.ci_high, *counts)


def evaluate(model: RewardModel, pairs: Sequence[Pair], n_boot: int = 2000, seed: int = 0) -> EvalReport:
    """Score every pair with `model` and report accuracy, interval, baselines and subsets."""
    chosen, rejected = model.score_pairs(pairs)
    return evaluate_scores(pairs, chosen, rejected, n_boot, seed)


def format_table(report: EvalReport) -> str:
    """The report as an aligned text table for the terminal."""

    def row(name: str, a: Accuracy | None) -> str:
        if a is None:
            return f"{name:<28} {'n/a (source order unknown)':>34}"
        return f"{name:<28} {a.accuracy:>8.3f}   [{a.ci_low:.3f}, {a.ci_high:.3f}] {a.n:>7d}"

    lines = [f"{'':<28} {'accuracy':>8}   {'95% CI':<16} {'n':>7}"]
    lines.append(row("reward model", Accuracy(report.accuracy, report.ci_low, report.ci_high, report.n)))
    lines.append(row("baseline: longer response", report.baselines.get("longer")))
    if "shorter" in report.baselines:
        lines.append(row("baseline: shorter response", report.baselines["shorter"]))
    lines.append(row("baseline: word overlap", report.baselines.get("overlap")))
    lines.append(row("baseline: first listed", report.baselines.get("first")))
    for name, a in report.subsets.items():
        lines.append(row(f"subset {name}", a))
    return "\n".join(lines)
