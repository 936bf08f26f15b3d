"""The experiment's markdown: the accuracy table, the paired differences, and what generation cost.

Pure functions of the rows `experiment.py` keeps in `results.json`; they read no file and train
nothing, so a table can be rebuilt from a saved `results.json`.
"""

from __future__ import annotations

from typing import Any

from rmboost.experiment.yardsticks import WHAT
from rmboost.generation.summary import method_stats_text
from rmboost.measure.interval_text import difference_text, interval_text


def _cell(y: dict[str, Any] | None) -> str:
    if not y or y.get("accuracy") is None:
        return ""
    lb = (y.get("length_balanced") or {}).get("accuracy")
    lb_text = f"; LB {lb:.3f}" if isinstance(lb, float) and lb == lb else ""
    seeds = [a for a in y.get("seed_accuracies") or [] if isinstance(a, float)]
    spread = f", {len(seeds)} seeds {min(seeds):.3f}-{max(seeds):.3f}" if len(seeds) > 1 else ""
    return f"{interval_text(y['accuracy'], y['ci_low'], y['ci_high'])}{lb_text}{spread}"


def _baselines(y: dict[str, Any]) -> str:
    lb = y.get("length_balanced_baselines", {})
    parts = []
    for k, v in (y.get("baselines") or {}).items():
        if v:
            extra = f", LB {lb[k]['accuracy']:.3f}" if lb.get(k) and lb[k]["accuracy"] == lb[k]["accuracy"] else ""
            parts.append(f"{k} {interval_text(v['accuracy'], v['ci_low'], v['ci_high'])}{extra}")
    return ", ".join(parts)


def results_markdown(results: list[dict[str, Any]], yardsticks: list[str]) -> str:
    """One table per yardstick: train sets by reward-model kind, accuracy [95% CI]; LB = length-balanced."""
    kinds = list(dict.fromkeys(r["rm"] for r in results))
    sets = list(dict.fromkeys(r["train_set"] for r in results))
    by = {(r["train_set"], r["rm"]): r for r in results}
    lines = []
    for y in yardsticks:
        lines += ["", f"## Accuracy on {y}", "",
                  f"{WHAT.get(y, y)}; 95% bootstrap CI over test questions; LB = length-balanced accuracy (the "
                  "mean of the accuracies on pairs whose chosen side is the longer and the shorter: any "
                  "length-only rule scores 0.5).", "",
                  "| train set | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
        for s in sets:
            cells = []
            for k in kinds:
                r = by.get((s, k))
                yard = (r.get("yardsticks") or {}).get(y) if r else None
                twin = f" (same pairs as {r['same_model_as']})" if r and r.get("same_model_as") else ""
                n_train = f" n_train={r['train_pairs']}" if r and r.get("train_pairs") else ""
                cells.append(_cell(yard) + (n_train + twin if yard else ""))
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
        first = next((r["yardsticks"][y] for r in results if y in (r.get("yardsticks") or {})), None)
        if first:
            lines += ["", "Baselines on the same pairs: " + _baselines(first) + "."]
    return "\n".join(lines) + "\n"


def differences_markdown(rows: list[dict[str, Any]]) -> str:
    """The paired differences, one table per yardstick: the difference [95% CI] and its verdict."""
    if not rows:
        return ""
    lines = ["", "## Paired differences", "",
             "Accuracy of A minus accuracy of B on the same test pairs, with a 95% bootstrap CI of the difference "
             "(resampling questions). A verdict is given only where the calibration found the reward model "
             "readable on that yardstick, and only for a difference at least the smallest readable one."]
    for y in dict.fromkeys(r["yardstick"] for r in rows):
        lines += ["", f"On {y}:", "", "| A - B | reward model | difference [95% CI] | verdict |", "|---|---|---|---|"]
        for r in rows:
            if r["yardstick"] == y:
                d = interval_text(r['difference'], r['ci_low'], r['ci_high'], signed=True)
                lines.append(f"| {r['a']} - {r['b']} | {r['rm']} | {d} | {r['verdict']} |")
    return "\n".join(lines) + "\n"


def generation_markdown(rows: list[dict[str, Any]]) -> str:
    """What making each Syn set cost in this invocation (a rerun shows its cache hits and resumed pairs)."""
    if not rows:
        return "\n## Generation in this invocation\n\nNone: the config names no method.\n"
    lines = ["", "## Generation in this invocation", "",
             "| set | pairs made | failures | resumed | calls sent | from cache | calls/pair | prompt tok/pair "
             "| completion tok/pair | wall s | method stats |", "|---|" + "---|" * 10]
    for r in rows:
        # A set that made no pair has no per-pair figure (a results.json written before that rule
        # holds the totals there, divided by 1).
        p = r["per_pair"] if r["pairs"] else {}
        per = [f"{v:.{digits}f}" if isinstance(v := p.get(key), (int, float)) else "n/a"
               for key, digits in (("calls", 2), ("prompt_tokens", 0), ("completion_tokens", 0))]
        extra = method_stats_text(r["method_stats"])
        cells = [r["set"], r["pairs"], r["failures"], r["skipped_done"], r["calls_sent"], r["cache_hits"],
                 *per, f"{r['wall_seconds']:.0f}", extra]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def data_markdown(description: str, sizes: dict[str, Any]) -> str:
    """The data set and its split sizes, and each Syn set's size and the prompts it took."""
    lines = ["", f"Data: {description}."]
    sets = sizes.get("sets", {})
    if sets:
        lines += ["", "Syn sets (pairs made, from how many prompts; pairs kept after the cut): " + ", ".join(
            f"{k} {s['made']} from {s['prompts']} prompts, {s['kept']} kept" for k, s in sets.items()) + "."]
    lines += [f"- {note}" for note in sizes.get("notes", [])]
    return "\n".join(lines) + "\n"


def controls_markdown(section: dict[str, Any]) -> str:
    """The controls in words: does each readable (kind, yardstick) tell the known-good pairs from
    their flipped copy, weighing every control row?"""
    if not section.get("verdicts"):
        return f"\nControls: {section.get('note', 'not trained yet')}.\n"
    lines = ["", "## Controls", "",
             f"oracle-rewrite: {section['pairs']} human corrections of the training questions (corrected text "
             "chosen over prediction 1); oracle-rewrite-flipped: the same pairs with chosen and rejected swapped. "
             "A yardstick sees the known-good data when oracle-rewrite - oracle-rewrite-flipped is above 0 and "
             "at least the smallest readable difference, and no control row lies clearly below 0.", ""]
    for v in section["verdicts"]:
        rows = "; ".join(difference_text(r) for r in v["rows"])
        lines.append(f"- {v['rm']} on {v['yardstick']}: {v['verdict']} ({rows}).")
    return "\n".join(lines) + "\n"
