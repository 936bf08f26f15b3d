"""What the experiment concludes from its trained models: one row per (train set, kind) averaged
over training seeds, the paired differences on the test pairs, and the controls' verdict.

Functions of a `Trainer`'s results and per-test-pair outcomes; they train nothing and write no
file (`run.py` writes `results.json`, `tables.py` renders the markdown).
"""

from __future__ import annotations

from typing import Any

from rmboost.data.qa_feedback import CONTROL_SETS
from rmboost.experiment.training import Trainer

SEES = "the yardstick sees the known-good data"
CANNOT_TELL = "cannot tell the known-good data from its flipped copy"


def combined(t: Trainer) -> list[dict[str, Any]]:
    """One row per (train set, kind). With one seed it is the model's own row; with several,
    the accuracy of the seed-averaged outcomes (the mean of the seeds' accuracies) with its
    interval, and each seed's accuracy in `seed_accuracies`."""
    from rmboost.rm.evaluate import outcome_accuracy

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in t.results:
        groups.setdefault((r["train_set"], r["rm"]), []).append(r)
    rows = []
    for (name, kind), runs in groups.items():
        if len(runs) == 1:
            rows.append(runs[0])
            continue
        wins = t.mean_wins(name, kind)
        assert wins is not None
        a = outcome_accuracy(wins, t._test, t.config.bootstrap, t.config.seed)
        keep = ("train_set", "rm", "train_pairs", "baselines", "same_model_as")
        row: dict[str, Any] = {key: runs[0][key] for key in keep if key in runs[0]}
        row.update(accuracy=a.accuracy, ci_low=a.ci_low, ci_high=a.ci_high, n=a.n,
                   seeds=[r["seed"] for r in runs], seed_accuracies=[r["accuracy"] for r in runs])
        rows.append(row)
    return rows


def comparisons(t: Trainer) -> list[tuple[str, str]]:
    """(A, B) pairs to compare: the first method against every other Syn set, every Real+Syn set
    against Real, and the known-good control against its flipped copy (alone and with Real)."""
    names = [v.name for v in t.config.methods]
    wanted = [(names[0], other) for other in names[1:]] + [(f"real+{n}", "real") for n in names]
    good, flipped = CONTROL_SETS
    return wanted + [(good, flipped), (f"real+{good}", f"real+{flipped}"), (f"real+{good}", "real")]


def differences(t: Trainer) -> list[dict[str, Any]]:
    """Paired accuracy differences on the test pairs, per reward-model kind, on seed-averaged
    outcomes; a comparison whose sets were not trained is left out."""
    from rmboost.rm.evaluate import paired_difference

    c = t.config
    rows = []
    for kind in c.reward_models:
        for a, b in comparisons(t):
            wins_a, wins_b = t.mean_wins(a, kind), t.mean_wins(b, kind)
            if wins_a is not None and wins_b is not None:
                d = paired_difference(wins_a, wins_b, t._test, c.bootstrap, c.seed)
                rows.append({"a": a, "b": b, "rm": kind, "difference": d.accuracy, "ci_low": d.ci_low,
                             "ci_high": d.ci_high, "n": d.n})
    return rows


# The smallest control difference that counts as seeing the known-good data: an interval above 0
# around a gain of a few thousandths says the training data barely moves the model, not that the
# yardstick tells good data from bad.
MIN_EFFECT = 0.01


def sees(row: dict[str, Any]) -> bool:
    return row["ci_low"] > 0 and row["difference"] >= MIN_EFFECT


def verdict(row: dict[str, Any]) -> str:
    if sees(row):
        return SEES
    if row["ci_low"] > 0:
        return (CANNOT_TELL + f" by a useful margin ({row['difference']:+.3f}: above 0, but under "
                f"{MIN_EFFECT}; the training data barely moves this model)")
    if row["ci_high"] < 0:
        return CANNOT_TELL + " (the flipped copy scores clearly higher)"
    return CANNOT_TELL


def controls_section(t: Trainer, diffs: list[dict[str, Any]], has_controls: bool,
                     pairs: int | None) -> dict[str, Any]:
    """The controls' verdict per kind: is oracle-rewrite minus oracle-rewrite-flipped clearly
    positive (its 95% interval above 0, and at least `MIN_EFFECT`)?"""
    section: dict[str, Any] = {"requested": t.config.controls, "available": has_controls}
    if not t.config.controls or not has_controls:
        section["note"] = ("this data has no known-good pairs (only QA-Feedback's human corrections give "
                           "controls)" if not has_controls else "off (controls: true in the config adds them)")
        return section
    good, flipped = CONTROL_SETS
    section["pairs"] = pairs
    section["rows"] = [{**d, "clearly_positive": sees(d), "verdict": verdict(d)}
                       for d in diffs if (d["a"], d["b"]) == (good, flipped)]
    return section
