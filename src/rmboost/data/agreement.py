"""Label agreement with humans: how often a method's pairs are oriented as the humans labelled the
same two responses, measured directly, with no reward model in between (`rmboost agree`).

For a pair file whose pairs are over responses a human file labels (`human_labels.py`): the share
of pairs whose chosen response is the one the humans preferred, with a 95% interval that resamples
questions (`shares.py`). Human ties are left out and counted; pairs about no human label are
counted (the first few with their line, field and reason), never dropped in silence. Beside it, on
the same pairs: the `first` rule (the response the comparison lists first; known when the human
file says), `longer` (more characters) and `overlap` (more of its words in the prompt), each
counting a tie as half, as `rmboost eval` counts its baselines. For RLAIF pairs (they carry
`verdicts`) also the label each judge decision rule would give: the first order alone (needs
`given_pair`, which pairs over given responses record), the pairs whose two orders agree, and the
order-averaged verdict (`confidence` above or below 0.5); and the two-order disagreement rate over
the file, with the comparisons its failures file says failed for `judges disagree` (one failure a
comparison, as one pair a comparison).
For RMBoost rewrites, `rewrite_direction.py` checks the label against a human correction.
`agreement_report` is the one call for the command and the experiment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.data.human_labels import HumanLabel, HumanLabels, Miss, PairRow, collapse, read_pair_rows
from rmboost.data.rewrite_direction import Corrections, DirectionAgreement, direction_agreement
from rmboost.data.shares import Share, cluster_share, share_text
from rmboost.errors import InputError
from rmboost.io.output import output_paths
from rmboost.io.row_kinds import PAIRS, expect_rows
from rmboost.io.rows import SkipCounter, read_rows
from rmboost.measure.outcomes import pair_outcome as outcome
from rmboost.measure.words import overlap_share
from rmboost.prompts.prompt_text import prompt_text

# name -> what the table calls it, in the order it lists them
ROWS = {
    "labels": "the file's labels",
    "first": "rule: first listed",
    "longer": "rule: longer response",
    "overlap": "rule: word overlap",
    "rlaif_first_order": "rlaif: first order alone",
    "rlaif_both_orders_agree": "rlaif: both orders agree",
    "rlaif_order_averaged": "rlaif: order-averaged",
}
Matched = tuple[PairRow, HumanLabel]


def picks_preferred(pick: str, label: HumanLabel) -> float:
    texts = label.texts()
    assert texts is not None
    return 1.0 if collapse(pick) == collapse(texts[0]) else 0.0


def first_order_pick(pair: PairRow) -> str | None:
    """The response the judge's first order (y1 shown as A) picked, when the pair says which was y1."""
    verdict = (pair.row.get("verdicts") or {}).get("ab")
    listed, chosen_index = pair.row.get("given_pair"), pair.row.get("chosen_index")
    if verdict not in ("A", "B") or not isinstance(listed, list) or chosen_index is None:
        return None
    y1 = pair.chosen if chosen_index == listed[0] else pair.rejected
    return y1 if verdict == "A" else (pair.rejected if y1 == pair.chosen else pair.chosen)


def averaged_pick(pair: PairRow) -> str | None:
    confidence = pair.row.get("confidence")
    if not isinstance(confidence, int | float) or confidence == 0.5:
        return None
    return pair.chosen if confidence > 0.5 else pair.rejected


RULES: dict[str, Callable[[PairRow, HumanLabel], float | None]] = {
    "labels": lambda p, h: picks_preferred(p.chosen, h),
    "first": lambda p, h: (1.0 if h.preferred == 1 else 0.0) if h.listed_known else None,
    "longer": lambda p, h: outcome(*(len(t) for t in h.texts() or ("", ""))),
    "overlap": lambda p, h: outcome(*(overlap_share(prompt_text(p.prompt), t) for t in h.texts() or ("", ""))),
    "rlaif_first_order": lambda p, h: None if (k := first_order_pick(p)) is None else picks_preferred(k, h),
    "rlaif_both_orders_agree": lambda p, h: picks_preferred(p.chosen, h) if p.row.get("agree") is True else None,
    "rlaif_order_averaged": lambda p, h: None if (k := averaged_pick(p)) is None else picks_preferred(k, h),
}


@dataclass
class LabelAgreement:
    human_file: str
    pairs: int = 0
    matched: int = 0
    ties: int = 0
    misses: list[Miss] = field(default_factory=list)
    rows: dict[str, Share | None] = field(default_factory=dict)
    disagreement: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"human_file": self.human_file, "pairs": self.pairs, "matched": self.matched,
                "human_ties_left_out": self.ties, "unmatched": len(self.misses),
                "unmatched_first": [m.to_dict() for m in self.misses[:5]],
                "agreement": {k: None if v is None else v.to_dict() for k, v in self.rows.items()},
                "two_order_disagreement": self.disagreement}


def label_agreement(pairs: list[PairRow], labels: HumanLabels, failures: Path | None = None, n_boot: int = 2000,
                    seed: int = 0) -> LabelAgreement:
    result = LabelAgreement(labels.path, pairs=len(pairs))
    matched: list[Matched] = []
    for pair in pairs:
        found = labels.match(pair)
        if isinstance(found, Miss):
            result.misses.append(found)
            continue
        result.matched += 1
        if found.preferred == 0:
            result.ties += 1
        else:
            matched.append((pair, found))
    judged = any(p.row.get("method") == "rlaif" and "verdicts" in p.row for p in pairs)
    for name, rule in RULES.items():
        if name.startswith("rlaif") and not judged:
            continue
        scored = [(value, h.question) for p, h in matched if (value := rule(p, h)) is not None]
        result.rows[name] = cluster_share([v for v, _ in scored], [q for _, q in scored], n_boot, seed)
    if judged:
        result.disagreement = disagreement(pairs, failures)
    return result


def disagreement(pairs: list[PairRow], failures: Path | None) -> dict[str, Any]:
    """RLAIF's two-order disagreement over the file: pairs whose two readable verdicts differ, plus
    the comparisons that failed for it (the default decision keeps no such pair)."""
    both = [p for p in pairs if all((p.row.get("verdicts") or {}).get(o) in ("A", "B") for o in ("ab", "ba"))]
    differ = sum(p.row.get("agree") is False for p in both)
    failed = 0
    if failures is not None and failures.is_file():
        failed = sum(1 for _, row in read_rows(failures)
                     if isinstance(row, dict) and row.get("reason") == "judges disagree")
    judged = len(both) + failed
    return {"pairs_with_both_verdicts": len(both), "pairs_disagreeing": differ, "failures_judges_disagree": failed,
            "rate": (differ + failed) / judged if judged else None}


@dataclass
class AgreementReport:
    pairs_file: str
    pairs: int
    labels: LabelAgreement | None = None
    direction: DirectionAgreement | None = None
    left_out: dict[str, int] = field(default_factory=dict)  # rows of the pair file left out by rule, by reason

    def to_dict(self) -> dict[str, Any]:
        return {"pairs_file": self.pairs_file, "pairs": self.pairs, "left_out": self.left_out,
                "labels": None if self.labels is None else self.labels.to_dict(),
                "direction": None if self.direction is None else self.direction.to_dict()}

    def asked(self) -> list[tuple[int, list[Miss], str]]:
        """(matched, misses, file) of each measure asked for."""
        out: list[tuple[int, list[Miss], str]] = []
        if self.labels is not None:
            out.append((self.labels.matched, self.labels.misses, self.labels.human_file))
        if self.direction is not None:
            out.append((self.direction.matched, self.direction.misses, self.direction.corrections_file))
        return out

    def require_matches(self) -> None:
        """An `InputError` naming the first pair's line and field when no measure asked for matched a
        pair. With both asked, one that fits none of the file's pairs (a label agreement of rewrites
        of no human response, the direction of pairs that are no rewrite) is said in the table, not an
        error: each method's pairs fit one of them."""
        asked = self.asked()
        if any(matched for matched, _, _ in asked):
            return
        _, misses, source = asked[0]
        miss = misses[0] if misses else Miss(1, "label", "is BETTER or WORSE on no pair: no rewrite to check")
        raise InputError(self.pairs_file, miss.line, miss.field,
                         f"{miss.reason} (no pair of the file is about one in {source})")

    def table(self) -> str:
        return format_table(self)

    def row(self) -> dict[str, Any]:
        """The numbers as one flat row (for a table with a row per method): `<measure>` share,
        `<measure>_low`, `<measure>_high`, `<measure>_n` for each agreement row and for `direction`,
        with the counts beside them; a measure not computed is absent."""
        out: dict[str, Any] = {"pairs": self.pairs}
        shares: dict[str, Share | None] = {}
        if self.labels is not None:
            out.update(matched=self.labels.matched, human_ties=self.labels.ties, unmatched=len(self.labels.misses))
            shares.update(self.labels.rows)
            if self.labels.disagreement is not None:
                out["two_order_disagreement"] = self.labels.disagreement["rate"]
        if self.direction is not None:
            out.update(rewrites=self.direction.rewrites, rewrites_matched=self.direction.matched,
                       direction_ties=self.direction.ties)
            shares["direction"] = self.direction.share
        for name, share in shares.items():
            if share is not None:
                out.update({name: share.share, f"{name}_low": share.ci_low, f"{name}_high": share.ci_high,
                            f"{name}_n": share.n})
        return out


def agreement_report(pairs_file: str | Path, human_file: str | Path | None = None,
                     corrections_file: str | Path | None = None, n_boot: int = 2000, seed: int = 0) -> AgreementReport:
    """Label agreement of `pairs_file` with the humans of `human_file`, and the direction of its
    rewrites against the corrections of `corrections_file`; a measure whose file is None is left out.
    Each file must hold the kind of rows it is read as (`io/row_kinds.py`), checked before any is read."""
    expect_rows(pairs_file, PAIRS, "rmboost agree PAIRS")
    if human_file is not None:
        expect_rows(human_file, ("pairs", "prompts"), "rmboost agree --human")
    if corrections_file is not None:
        expect_rows(corrections_file, ("pairs",), "rmboost agree --corrections")
    counter = SkipCounter()
    pairs = read_pair_rows(pairs_file, counter)
    report = AgreementReport(str(pairs_file), len(pairs), left_out=dict(counter.left_out))
    if human_file is not None:
        failures = output_paths(pairs_file)["failures"]
        report.labels = label_agreement(pairs, HumanLabels(human_file), failures, n_boot, seed)
    if corrections_file is not None:
        report.direction = direction_agreement(pairs, Corrections.read(corrections_file), n_boot, seed)
    return report


def format_table(report: AgreementReport) -> str:
    lines = [f"{report.pairs_file}: {report.pairs} pairs"]
    lines += [f"  left out: {n} row{'' if n == 1 else 's'} ({reason})" for reason, n in report.left_out.items()]
    labels = report.labels
    if labels is not None:
        lines.append(f"against the human labels of {labels.human_file}: {labels.matched} pairs about a human label "
                     f"({labels.ties} of them human ties, left out), {len(labels.misses)} about none")
        lines.append(f"{'':<34} {'agrees':>8}   {'95% CI':<16} {'n':>6}")
        lines += [f"{ROWS[name]:<34} {share_text(share)}" for name, share in labels.rows.items()]
        if labels.disagreement is not None:
            d = labels.disagreement
            rate = "n/a" if d["rate"] is None else f"{d['rate']:.3f}"
            lines.append(f"rlaif two-order disagreement: {rate} ({d['pairs_disagreeing']} of "
                         f"{d['pairs_with_both_verdicts']} pairs with both verdicts, and "
                         f"{d['failures_judges_disagree']} comparisons that failed for it)")
    direction = report.direction
    if direction is not None:
        lines.append(f"rewrites against the corrections of {direction.corrections_file}: {direction.rewrites} "
                     f"rewrites, {direction.matched} of a corrected response ({direction.ties} ties, left out), "
                     f"{len(direction.misses)} of another; {direction.not_rewrites} pairs are no rewrite")
        lines.append(f"{'direction matches label':<34} {share_text(direction.share)}   ({direction.measure})")
    for matched, _, source in report.asked():
        if not matched:
            lines.append(f"  not measured: no pair of {report.pairs_file} is about one in {source}")
    for measure in (labels, direction):
        for miss in (measure.misses[:3] if measure is not None else []):
            lines.append(f"  about none: {report.pairs_file}:{miss.line}: field '{miss.field}' {miss.reason}")
    return "\n".join(lines)
