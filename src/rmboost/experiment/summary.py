"""What the experiment concludes from its trained models: one row per (train set, kind) averaged
over training seeds, the paired differences on the test pairs, and the controls' verdict.

Every verdict is gated by the calibration (`calibration.py`): where the instrument cannot see,
the rows say "not readable" with its sensitivity and smallest readable difference.
Functions of a `Trainer`'s results and per-test-pair outcomes; they train nothing and write no
file (`run.py` writes `results.json`, `tables.py` renders the markdown).
"""

from __future__ import annotations

from typing import Any

from rmboost.data.qa_feedback import CONTROL_SETS
from rmboost.experiment.calibration import difference_verdict, difference_winner, not_readable, readability
from rmboost.experiment.training import Trainer
from rmboost.measure.interval_text import difference_text

SEES = "the yardstick sees the known-good data"
CANNOT_TELL = "cannot tell the known-good data from its flipped copy"


def combined(t: Trainer) -> list[dict[str, Any]]:
    """One row per (train set, kind). With one seed it is the model's own row; with several,
    the accuracy of the seed-averaged outcomes (the mean of the seeds' accuracies) with its
    interval, on every yardstick, and each seed's accuracy in `seed_accuracies`."""
    from dataclasses import asdict

    from rmboost.rm.evaluate import length_balanced, outcome_accuracy

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in t.results:
        groups.setdefault((r["train_set"], r["rm"]), []).append(r)
    rows = []
    for (name, kind), runs in groups.items():
        if len(runs) == 1:
            rows.append(runs[0])
            continue
        keep = ("train_set", "rm", "train_pairs", "baselines", "same_model_as")
        row: dict[str, Any] = {key: runs[0][key] for key in keep if key in runs[0]}
        row["yardsticks"] = {}
        for y, pairs in t.yardsticks.items():
            wins = t.mean_wins(name, kind, y)
            if wins is None:
                continue
            a = outcome_accuracy(wins, pairs, t.config.bootstrap, t.config.seed)
            base = runs[0].get("yardsticks", {}).get(y, {})
            row["yardsticks"][y] = {**asdict(a), "baselines": base.get("baselines", {}),
                                    "length_balanced_baselines": base.get("length_balanced_baselines", {}),
                                    "length_balanced": asdict(length_balanced(wins, pairs, t.config.bootstrap,
                                                                              t.config.seed)),
                                    "seed_accuracies": [r.get("yardsticks", {}).get(y, {}).get("accuracy")
                                                        for r in runs]}
        primary = row["yardsticks"].get(t.primary, {})
        row.update(accuracy=primary.get("accuracy"), ci_low=primary.get("ci_low"), ci_high=primary.get("ci_high"),
                   n=primary.get("n"), seeds=[r["seed"] for r in runs], seed_accuracies=[r["accuracy"] for r in runs])
        rows.append(row)
    return rows


def comparisons(t: Trainer) -> list[tuple[str, str]]:
    """(A, B) pairs to compare: the first method against every other Syn set, every Syn and Real+Syn
    set against Real, and the known-good control against its flipped copy (alone and with Real)."""
    names = [v.name for v in t.config.methods]
    wanted = [(names[0], other) for other in names[1:]] + [(f"real+{n}", "real") for n in names] \
        + [(n, "real") for n in names]
    good, flipped = CONTROL_SETS
    return wanted + [(good, flipped), (f"real+{good}", f"real+{flipped}"), (f"real+{good}", "real")]


def differences(t: Trainer, calibration: dict[str, Any]) -> list[dict[str, Any]]:
    """Paired accuracy differences per reward-model kind and yardstick, on seed-averaged outcomes,
    each with its verdict (`calibration.difference_verdict`); a comparison whose sets were not
    trained is left out."""
    from rmboost.rm.evaluate import paired_difference

    c = t.config
    rows = []
    syn = {v.name for v in c.methods}
    for kind in c.reward_models:
        for y, pairs in t.yardsticks.items():
            instrument = readability(calibration, kind, y)
            for a, b in comparisons(t):
                # Two Syn sets of one size differ at least by what two draws of Real that size differ by.
                floor = _draw_term(calibration, kind, y) if {a, b} <= syn else None
                wins_a, wins_b = t.mean_wins(a, kind, y), t.mean_wins(b, kind, y)
                if wins_a is not None and wins_b is not None:
                    d = paired_difference(wins_a, wins_b, pairs, c.bootstrap, c.seed)
                    row = {"a": a, "b": b, "rm": kind, "yardstick": y, "difference": d.accuracy,
                           "ci_low": d.ci_low, "ci_high": d.ci_high, "n": d.n}
                    gate = instrument if instrument is None or floor is None \
                        else {**instrument, "mdd": max(instrument["mdd"], floor)}
                    row["verdict"] = difference_verdict(row, gate)
                    row["winner"] = difference_winner(row, gate)
                    row["readable"] = bool(instrument and instrument["readable"])
                    rows.append(row)
    return rows


def _draw_term(calibration: dict[str, Any], kind: str, yardstick: str) -> float | None:
    rows = (calibration.get("at_size") or {}).get("rows", [])
    return next((r["draw_term"] for r in rows if (r["rm"], r["yardstick"]) == (kind, yardstick)), None)


def controls_verdict(rows: list[dict[str, Any]], instrument: dict[str, Any] | None) -> str:
    """One verdict over every control row of a (kind, yardstick): a row that favours the flipped
    copy clearly is a contradiction, whatever the others say."""
    if instrument is None or not instrument["readable"]:
        return not_readable(instrument)
    mdd = instrument["mdd"]
    # Any control row whose interval lies below 0 (the flipped copy, or Real alone, scores clearly
    # higher) contradicts the known-good data, even under the smallest readable difference.
    wrong = [r for r in rows if r["ci_high"] < 0]
    if wrong:
        names = "; ".join(difference_text(r) for r in wrong)
        return f"contradicts the known-good data: {names}"
    main = next((r for r in rows if (r["a"], r["b"]) == CONTROL_SETS), None)
    if main is not None and main["ci_low"] > 0 and main["difference"] >= mdd:
        return SEES
    return CANNOT_TELL


def controls_section(t: Trainer, diffs: list[dict[str, Any]], has_controls: bool,
                     pairs: int | None) -> dict[str, Any]:
    """The controls' verdict per (kind, yardstick), weighing every control row."""
    section: dict[str, Any] = {"requested": t.config.controls, "available": has_controls}
    if not t.config.controls or not has_controls:
        section["note"] = ("this data has no known-good pairs (only QA-Feedback's human corrections give "
                           "controls)" if not has_controls else "off (controls: true in the config adds them)")
        return section
    good, flipped = CONTROL_SETS
    control_pairs = {(good, flipped), (f"real+{good}", f"real+{flipped}"), (f"real+{good}", "real")}
    section["pairs"] = pairs
    verdicts = []
    for kind in t.config.reward_models:
        for y in t.yardsticks:
            rows = [d for d in diffs if (d["a"], d["b"]) in control_pairs and (d["rm"], d["yardstick"]) == (kind, y)]
            if rows:
                verdicts.append({"rm": kind, "yardstick": y, "rows": rows,
                                 "verdict": controls_verdict(rows, readability(t.calibration, kind, y))})
    section["verdicts"] = verdicts
    return section
