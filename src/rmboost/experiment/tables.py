"""The experiment's markdown: the accuracy table, the paired differences, and what generation cost.

Pure functions of the rows `experiment.py` keeps in `results.json`; they read no file and train
nothing, so a table can be rebuilt from a saved `results.json`.
"""

from __future__ import annotations

from typing import Any

from rmboost.experiment.summary import MIN_EFFECT
from rmboost.generation.summary import method_stats_text


def results_markdown(results: list[dict[str, Any]], title: str) -> str:
    kinds = list(dict.fromkeys(r["rm"] for r in results))
    sets = list(dict.fromkeys(r["train_set"] for r in results))
    by = {(r["train_set"], r["rm"]): r for r in results}
    lines = [f"# {title}", "", "Pairwise accuracy on human-labelled test pairs, 95% bootstrap CI.", "",
             "| train set | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for s in sets:
        cells = []
        for k in kinds:
            r = by.get((s, k))
            twin = f", same pairs as {r['same_model_as']}" if r and r.get("same_model_as") else ""
            spread = (f", {len(r['seed_accuracies'])} seeds {min(r['seed_accuracies']):.3f}-"
                      f"{max(r['seed_accuracies']):.3f}") if r and r.get("seed_accuracies") else ""
            cells.append(f"{r['accuracy']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}] "
                         f"(n_train={r['train_pairs']}{twin}{spread})" if r else "")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if results:
        b = results[0].get("baselines", {})
        lines += ["", "Trivial baselines on the same test pairs: " + ", ".join(
            f"{k} {v['accuracy']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]" for k, v in b.items() if v)]
    return "\n".join(lines) + "\n"


def differences_markdown(rows: list[dict[str, Any]]) -> str:
    """The paired differences as a table: one row per comparison, one column per kind."""
    if not rows:
        return ""
    kinds = list(dict.fromkeys(r["rm"] for r in rows))
    by = {(r["a"], r["b"], r["rm"]): r for r in rows}
    lines = ["", "## Paired differences", "",
             "Accuracy of A minus accuracy of B on the same test pairs, with a 95% bootstrap CI of the "
             "difference (resampling prompts). An interval without 0 is a difference this test set can see.",
             "", "| A - B | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for a, b in dict.fromkeys((r["a"], r["b"]) for r in rows):
        cells = [by.get((a, b, k)) for k in kinds]
        lines.append(f"| {a} - {b} | " + " | ".join(
            f"{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]" if r else "" for r in cells) + " |")
    return "\n".join(lines) + "\n"


def generation_markdown(rows: list[dict[str, Any]]) -> str:
    """What making each Syn set cost in this invocation (a rerun shows its cache hits and resumed pairs)."""
    if not rows:
        return "\n## Generation in this invocation\n\nNone: the config names no method.\n"
    lines = ["", "## Generation in this invocation", "",
             "| set | pairs made | failures | resumed | calls sent | from cache | calls/pair | prompt tok/pair "
             "| completion tok/pair | wall s | method stats |", "|---|" + "---|" * 10]
    for r in rows:
        p = r["per_pair"]
        extra = method_stats_text(r["method_stats"])
        cells = [r["set"], r["pairs"], r["failures"], r["skipped_done"], r["calls_sent"], r["cache_hits"],
                 f"{p['calls']:.2f}", f"{p['prompt_tokens']:.0f}", f"{p['completion_tokens']:.0f}",
                 f"{r['wall_seconds']:.0f}", extra]
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
    """The controls in words: does the yardstick tell the known-good pairs from their flipped copy?"""
    if not section.get("rows"):
        return f"\nControls: {section.get('note', 'not trained yet')}.\n"
    lines = ["", "## Controls", "",
             f"oracle-rewrite: {section['pairs']} human corrections of the training questions (corrected text "
             "chosen over prediction 1); oracle-rewrite-flipped: the same pairs with chosen and rejected swapped. "
             "If the yardstick works, the difference is clearly positive (its interval above 0, and at least "
             f"{MIN_EFFECT} of accuracy).", ""]
    for r in section["rows"]:
        lines.append(f"- {r['rm']}: oracle-rewrite - oracle-rewrite-flipped = {r['difference']:+.3f} "
                     f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]: {r['verdict']}.")
    return "\n".join(lines) + "\n"
