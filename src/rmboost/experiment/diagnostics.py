"""Diagnostics of a pair file: what a reward model trained on it could learn besides quality.

Label balance, lengths and the length bias (how often the chosen response is the longer one),
lexical diversity (distinct-1/2), embedding diversity (mean cosine distance between responses,
all-MiniLM-L6-v2), duplicates, tokens per pair, the failure rate (from the failures file beside
the pairs), the aspect histogram, and, given a reference reward model trained on real data, the
share of pairs it orders the same way (an estimate of label agreement with real preferences).
Plotting is in `stats_plot.py`; this module only computes. Words, distinct-n and the length bias
are counted by `rmboost.measure.words`, the rules the HTML report (`report/set_stats.py`) uses too.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rmboost.data.row_loop import parsed_rows
from rmboost.data.trl_pairs import parse_row
from rmboost.io.output import output_paths
from rmboost.io.rows import SkipCounter, read_rows
from rmboost.measure.outcomes import pairwise_accuracy
from rmboost.measure.words import distinct_n, length_bias
from rmboost.methods.checks import normalise
from rmboost.records import Pair


@dataclass
class PairStats:
    """A file's measures; a measure of the pairs is None (n/a) when the file holds no pair, never 0."""

    file: str
    pairs: int
    failures: int
    failure_rate: float | None
    better_share: float | None
    chosen_words: float | None
    rejected_words: float | None
    chosen_longer_share: float | None
    distinct_1: float | None
    distinct_2: float | None
    embedding_diversity: float | None
    duplicate_share: float | None
    tokens_per_pair: float | None
    aspects: dict[str, int] = field(default_factory=dict)
    reference_agreement: float | None = None
    failure_reasons: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)  # rows left out by the pair-row rule, by reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"

        def num(x: float | None, digits: int = 1) -> str:
            return "n/a" if x is None else f"{x:.{digits}f}"

        rows = [
            ("pairs", str(self.pairs)),
            ("failures", f"{self.failures} ({pct(self.failure_rate)} of prompts)"),
            ("label BETTER share", pct(self.better_share)),
            ("mean words chosen / rejected",
             "n/a" if self.chosen_words is None else f"{num(self.chosen_words)} / {num(self.rejected_words)}"),
            ("chosen is longer (length bias)", pct(self.chosen_longer_share)),
            ("distinct-1 / distinct-2",
             "n/a" if self.distinct_1 is None else f"{num(self.distinct_1, 3)} / {num(self.distinct_2, 3)}"),
            ("embedding diversity (mean cosine distance)", num(self.embedding_diversity, 3)),
            ("duplicate pairs", pct(self.duplicate_share)),
            ("tokens per pair", num(self.tokens_per_pair, 0)),
            ("reference RM agrees", pct(self.reference_agreement)),
            ("aspects", ", ".join(f"{k} {v}" for k, v in sorted(self.aspects.items(), key=lambda kv: -kv[1])) or "n/a"),
        ]
        rows += [(f"left out: {reason}", str(n)) for reason, n in self.left_out.items()]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def embedding_diversity(texts: list[str], sample: int = 400, seed: int = 0) -> float | None:
    """Mean pairwise cosine distance between (a sample of) the responses' MiniLM embeddings."""
    if len(texts) < 2:
        return None
    from rmboost.rm.embed_linear import MiniLMEmbedder

    picked = random.Random(seed).sample(texts, min(sample, len(texts)))
    emb = MiniLMEmbedder.shared(max_length=128).embed(picked)
    sims = emb @ emb.T
    n = len(picked)
    mean_sim = (float(sims.sum()) - float(sims.diagonal().sum())) / (n * (n - 1))
    return 1.0 - mean_sim


def _failures(pairs_file: Path) -> tuple[int, Counter[str]]:
    failures_file = output_paths(pairs_file)["failures"]
    reasons: Counter[str] = Counter()
    if failures_file.exists():
        for _, row in read_rows(failures_file, SkipCounter("skip")):
            if isinstance(row, dict):
                reasons[f"{row.get('stage', '?')}: {row.get('reason', '?')}"[:80]] += 1
    return sum(reasons.values()), reasons


def compute_stats(pairs_file: str | Path, reference_rm: str | Path | None = None,
                  embeddings: bool = True) -> PairStats:
    path = Path(pairs_file)
    counter = SkipCounter()

    def row_and_pair(row: Any, source: str, line: int) -> tuple[dict[str, Any], Pair]:
        return row, parse_row(row, source, line)

    kept = parsed_rows(path, row_and_pair, counter)
    rows, pairs = [r for r, _ in kept], [p for _, p in kept]
    n = len(pairs)
    labels = [r.get("label") for r in rows if r.get("label") in ("BETTER", "WORSE")]
    chosen_words, rejected_words, chosen_longer = length_bias([p.chosen for p in pairs], [p.rejected for p in pairs])
    responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    # A duplicate pair repeats another pair's (chosen, rejected) texts; human data re-pairs the same
    # responses, so single responses repeating is normal and is not counted.
    keys = Counter((normalise(p.chosen), normalise(p.rejected)) for p in pairs)
    duplicates = sum(c - 1 for c in keys.values() if c > 1)
    usages = [u for u in (r.get("usage") for r in rows) if isinstance(u, dict)]
    token_counts = [t for t in (u.get("prompt_tokens", 0) + u.get("completion_tokens", 0) for u in usages) if t > 0]
    aspects: Counter[str] = Counter(a for r in rows for a in (r.get("aspects") or []))
    failures, reasons = _failures(path)
    agreement = None
    if reference_rm is not None and pairs:
        from rmboost.rm.base import RewardModel

        chosen, rejected = RewardModel.load(reference_rm).score_pairs(pairs)
        agreement = pairwise_accuracy(chosen, rejected)  # a tie counts half, as in every accuracy
    return PairStats(
        file=str(path),
        pairs=n,
        failures=failures,
        failure_rate=failures / (n + failures) if n + failures else None,
        better_share=labels.count("BETTER") / len(labels) if labels else None,
        chosen_words=chosen_words,
        rejected_words=rejected_words,
        chosen_longer_share=chosen_longer,
        distinct_1=distinct_n(responses, 1),
        distinct_2=distinct_n(responses, 2),
        embedding_diversity=embedding_diversity(responses) if embeddings else None,
        duplicate_share=duplicates / n if n else None,
        tokens_per_pair=sum(token_counts) / len(token_counts) if token_counts else None,
        aspects=dict(aspects),
        reference_agreement=agreement,
        failure_reasons=dict(reasons.most_common(10)),
        left_out=dict(counter.left_out),
    )
