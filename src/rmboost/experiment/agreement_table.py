"""Label quality measured directly, with no reward model in between: for every Syn set made over the
data set's own responses (a `given_responses` or `given_response` variant), the share of its pairs
oriented as the humans labelled the same two responses, and for RMBoost rewrites of a corrected
response, the share whose direction matches the label (`rmboost.data.agreement`). Real's own labels
agree with themselves by construction and are not listed.

The training questions' human file and corrections are written by `dataset.py`; this module only
measures and renders (`results.json` "agreement", the results.md table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.dataset import pool_prompts, training_corrections
from rmboost.measure.interval_text import interval_text

COLUMNS = (("labels", "labels agree with humans"), ("first", "rule: first listed"),
           ("longer", "rule: longer"), ("overlap", "rule: overlap"),
           ("rlaif_first_order", "rlaif: first order"), ("rlaif_both_orders_agree", "rlaif: both orders agree"),
           ("rlaif_order_averaged", "rlaif: order-averaged"), ("direction", "rewrite direction matches label"))


def agreement_section(config: ExperimentConfig, out: Path, made: dict[str, Path]) -> dict[str, Any]:
    from rmboost.data.agreement import agreement_report

    human = pool_prompts(out) if pool_prompts(out).is_file() else None
    # Written by `dataset.prepare` for every given variant of data with corrections (not TL;DR's).
    corrections = training_corrections(out) if training_corrections(out).is_file() else None
    given = [v for v in config.methods if v.name in made and
             ("given_responses" in v.options or "given_response" in v.options)]
    rows = []
    for v in given:
        if made[v.name].stat().st_size == 0:  # a method that made no pair has nothing to agree or disagree
            rows.append({"set": v.name, "method": v.method, "pairs": 0})
            continue
        labels = human if (human is not None and v.method != "rmboost") else None
        report = agreement_report(made[v.name], labels, corrections if v.method == "rmboost" else None,
                                  config.bootstrap, config.seed)
        rows.append({"set": v.name, "method": v.method, **report.row()})
    return {"rows": rows, "human_file": str(human) if human else None,
            "corrections_file": str(corrections) if corrections else None}


def agreement_markdown(section: dict[str, Any]) -> str:
    rows = section.get("rows") or []
    if not rows:
        return ""
    cols = [(k, label) for k, label in COLUMNS if any(k in r for r in rows)]
    lines = ["", "## Label agreement with humans (training prompts, no reward model)", "",
             "Share of each set's pairs oriented as the data set's annotators labelled the same two responses "
             "(human ties left out), with the first/longer/overlap rules on the same pairs; for RMBoost on data with "
             "human corrections (QA-Feedback), the share of rewrites of a corrected prediction whose direction "
             "(closer to or further from the correction, ROUGE-L F1) matches their label. "
             "95% intervals resample prompts.", "",
             "| set | pairs | matched (ties) | " + " | ".join(label for _, label in cols) + " |",
             "|---|---|---|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for k, _ in cols:
            cells.append(f"{interval_text(r[k], r[f'{k}_low'], r[f'{k}_high'])} (n={r[f'{k}_n']})" if k in r else "")
        ties = r.get("human_ties", r.get("direction_ties", 0))
        matched = f"{r.get('matched', r.get('rewrites_matched', '-'))} ({ties})"
        lines.append(f"| {r['set']} | {r['pairs']} | {matched} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
