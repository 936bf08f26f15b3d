"""Did a rewrite obey its label? RMBoost's pairs against the human corrections of the responses
they rewrote, with no reward model in between.

A correction (`rmboost data qa-feedback --as corrections`: chosen = the corrected text, rejected =
`prediction 1`, label BETTER; a WORSE row is read the other way round) is what a human made of a
response. An RMBoost pair rewrites y1 into y2 with a label: y1 is its `rejected` when the label is
BETTER and its `chosen` when WORSE. Where y1 is a corrected response (the same question, see
`human_labels.py`, and the same text), the pair's direction matches its label when a BETTER y2 is
more similar to the correction than y1 is, and a WORSE y2 less similar. Similarity is ROUGE-L F1
over words (lower-cased `\\w+`): the longest common subsequence, so an edit that moves text towards
the correction in order counts, and a y2 that merely reuses the correction's words shuffled does
not count fully. Equal similarity is a tie, left out and counted. Controls (tests): the correction
itself as a BETTER y2 matches every time, the same pair labelled WORSE never.

Pairs without a BETTER/WORSE label are not rewrites and are counted apart; rewrites of a response
no human corrected are counted as unmatched, each with its line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.data.human_labels import Miss, PairRow, collapse, read_pair_rows
from rmboost.data.shares import Share, cluster_share
from rmboost.measure.words import words

MEASURE = "ROUGE-L F1 over words, to the human correction"


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 of two texts' words: 1 for the same words in the same order, 0 with none in common."""
    a, b = words(candidate), words(reference)
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for k, y in enumerate(b):
            current.append(previous[k] + 1 if x == y else max(previous[k + 1], current[k]))
        previous = current
    common = previous[-1]
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def rewrite_sides(pair: PairRow) -> tuple[str, str, str] | None:
    """(label, y1, y2) of a rewrite pair, or None for a pair with no BETTER/WORSE label."""
    label = pair.row.get("label")
    if label == "BETTER":
        return label, pair.rejected, pair.chosen
    if label == "WORSE":
        return label, pair.chosen, pair.rejected
    return None


@dataclass
class Corrections:
    """The corrections of one file: question key -> {original response (collapsed): (question, correction)}."""

    path: str
    by_key: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> Corrections:
        out = cls(str(path))
        for row in read_pair_rows(path):
            sides = rewrite_sides(row) or ("BETTER", row.rejected, row.chosen)
            _, original, corrected = sides
            question = str(row.row.get("question_id") or row.row.get("id") or row.line)
            for key in row.keys():
                out.by_key.setdefault(key, {})[collapse(original)] = (question, corrected)
        return out

    def of(self, pair: PairRow, y1: str) -> tuple[str, str] | None:
        for key in pair.keys():
            found = self.by_key.get(key, {}).get(collapse(y1))
            if found is not None:
                return found
        return None


@dataclass
class DirectionAgreement:
    corrections_file: str
    rewrites: int = 0
    not_rewrites: int = 0
    matched: int = 0
    ties: int = 0
    misses: list[Miss] = field(default_factory=list)
    share: Share | None = None
    measure: str = MEASURE

    def to_dict(self) -> dict[str, Any]:
        return {"corrections_file": self.corrections_file, "measure": self.measure, "rewrites": self.rewrites,
                "not_rewrites": self.not_rewrites, "matched": self.matched, "ties_left_out": self.ties,
                "unmatched": len(self.misses), "unmatched_first": [m.to_dict() for m in self.misses[:5]],
                "direction_matches_label": None if self.share is None else self.share.to_dict()}


def direction_agreement(pairs: list[PairRow], corrections: Corrections, n_boot: int = 2000,
                        seed: int = 0) -> DirectionAgreement:
    """The share of rewrites of a corrected response whose direction matches their label."""
    result = DirectionAgreement(corrections.path)
    outcomes: list[float] = []
    clusters: list[str] = []
    for pair in pairs:
        sides = rewrite_sides(pair)
        if sides is None:
            result.not_rewrites += 1
            continue
        result.rewrites += 1
        label, y1, y2 = sides
        found = corrections.of(pair, y1)
        if found is None:
            field_name = "rejected" if label == "BETTER" else "chosen"
            result.misses.append(Miss(pair.line, field_name, f"y1 is no response corrected in {corrections.path}"))
            continue
        question, corrected = found
        result.matched += 1
        moved = rouge_l(y2, corrected) - rouge_l(y1, corrected)
        if moved == 0:
            result.ties += 1
            continue
        outcomes.append(1.0 if (moved > 0) == (label == "BETTER") else 0.0)
        clusters.append(question)
    result.share = cluster_share(outcomes, clusters, n_boot, seed)
    return result
