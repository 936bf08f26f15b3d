"""The calibration in words, table and chart: the sentence results.md and the report open with
(what the experiment can answer, as the calibrated numbers allow), the calibration table (per
kind and yardstick: untrained score, sensitivity, smallest readable difference, dose-response,
learning curve), and `calibration.png` (accuracy against the flipped fraction, one line per kind
and yardstick). Pure functions of `results.json`'s sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.data.qa_feedback import CONTROL_SETS
from rmboost.experiment.calibration import instrument_text
from rmboost.measure.interval_text import interval_text


def _instrument(r: dict[str, Any]) -> str:
    return f"{r['rm']} on {r['yardstick']} ({instrument_text(r)})"


def headline(summary: dict[str, Any]) -> str:
    """One sentence answering "which training data is better?" as far as the calibration allows."""
    cal = summary.get("calibration") or {}
    if not cal.get("enabled"):
        return ("No verdict: this run was not calibrated, so what its reward models can see is unknown "
                "(calibration: true in the config measures it).")
    rows = cal.get("rows", [])
    if not rows:
        return "No verdict yet: the calibration's models are not trained yet."
    readable = [r for r in rows if r["readable"]]
    if not readable:
        return ("No verdict: no reward model here can read a difference at this size; "
                + "; ".join(_instrument(r) for r in rows) + ".")
    controls = set(CONTROL_SETS) | {f"real+{c}" for c in CONTROL_SETS}
    said = []
    for r in readable:
        verdicts = [d for d in summary.get("differences", [])
                    if (d["rm"], d["yardstick"]) == (r["rm"], r["yardstick"]) and d["a"] not in controls]
        if verdicts:
            said.append(f"read by {_instrument(r)}: " + "; ".join(f"{d['a']} vs {d['b']}: {d['verdict']}"
                                                                  for d in verdicts))
    if said:
        return "Which training data is better, " + "; and ".join(said) + "."
    return ("Calibration only (no method to compare): readable at this size: "
            + "; ".join(_instrument(r) for r in readable)
            + (". Not readable: " + "; ".join(_instrument(r) for r in rows if not r["readable"])
               if len(readable) < len(rows) else "") + ".")


def _acc(row: dict[str, Any] | None) -> str:
    return f"{row['accuracy']:.3f}" if row else "-"


def calibration_markdown(section: dict[str, Any]) -> str:
    if not section.get("enabled"):
        return f"Calibration: {section.get('note', 'off')}.\n"
    rows = section.get("rows", [])
    if not rows:
        return "Calibration: not trained yet.\n"
    flips = section["flip_fractions"]
    sizes = list(section["sizes"])
    lines = ["## Calibration: what each reward model can see", "",
             "Trained on Real with the labels of a share of its questions flipped (dose-response) and on a share "
             "of its questions (learning curve); sensitivity = accuracy trained on Real minus trained on all-flipped "
             "Real, 95% paired bootstrap CI over test questions; MDD = the smallest readable difference (the larger "
             "of the seed-to-seed difference bound and the half-width of Real's accuracy interval). A (kind, "
             "yardstick) is readable when its sensitivity interval lies above 0 and the sensitivity exceeds the MDD.",
             "", "| reward model | yardstick | untrained | " + " | ".join(f"flip {f:g}" for f in flips)
             + " | " + " | ".join(f"{s:g} of questions" for s in sizes)
             + " | sensitivity [95% CI] | MDD | readable |", "|" + "---|" * (6 + len(flips) + len(sizes))]
    for r in rows:
        dose = {d["flipped"]: d for d in r["dose_response"]}
        curve = {c["share"]: c for c in r["learning_curve"]}
        lines.append(f"| {r['rm']} | {r['yardstick']} | {_acc(r['untrained'])} | "
                     + " | ".join(_acc(dose.get(f)) for f in flips) + " | "
                     + " | ".join(_acc(curve.get(s)) for s in sizes)
                     + f" | {interval_text(r['sensitivity'], *r['sensitivity_ci'], signed=True)}"
                     + f" | {r['mdd']:.3f} ({r['basis']}) | "
                     + ("**yes**" if r["readable"] else "no") + " |")
    from rmboost.experiment.calibration_at_size import at_size_markdown

    at_size = at_size_markdown(section.get("at_size"))
    return "\n".join(lines) + "\n" + ("\n" + at_size if at_size else "")


def plot_calibration(section: dict[str, Any], path: Path) -> bool:
    """Accuracy against the flipped fraction, one line per (kind, yardstick); False without data or matplotlib."""
    rows = [r for r in section.get("rows", []) if r["dose_response"]]
    if not rows:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    for r in rows:
        xs = [d["flipped"] for d in r["dose_response"]]
        ax.plot(xs, [d["accuracy"] for d in r["dose_response"]], marker="o",
                linestyle="-" if r["readable"] else "--",
                label=f"{r['rm']} / {r['yardstick']}" + ("" if r["readable"] else " (not readable)"))
    ax.axhline(0.5, color="grey", linewidth=0.8)
    ax.set_xlabel("share of Real's questions with flipped labels")
    ax.set_ylabel("test accuracy")
    ax.set_title("Calibration: a model that learns its labels falls from a to 1 - a", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
