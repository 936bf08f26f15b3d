"""What each (reward-model kind, yardstick) can see, measured on the calibration sets: the
dose-response (accuracy against the fraction of Real's questions whose labels were flipped), the
learning curve (accuracy against the share of Real's questions kept), the untrained (step-0)
score, the sensitivity and the smallest readable difference; and from those, whether a
difference may be read at all.

- **Sensitivity** = accuracy trained on Real minus accuracy trained on Real with every label
  flipped, on seed-averaged per-pair outcomes, with a paired bootstrap interval over test questions.
  A model that follows its labels moves from `a` to about `1 - a`; one with a built-in formula moves less.
- **Smallest readable difference** (MDD) = the larger of (i) the seed term: with two or more seeds,
  the largest bound of the 95% paired interval of one Real-trained seed minus the next (what two
  trainings on the same data differ by), and (ii) the test term: the half-width of the Real model's
  95% accuracy interval (the resolution of one accuracy at this test size).
- **Readable**: the sensitivity's interval lies above 0 and the sensitivity exceeds the MDD.

Functions of a `Trainer`'s outcomes; they train nothing and write nothing.
"""

from __future__ import annotations

from typing import Any

from rmboost.experiment.calibration_sets import UNTRAINED, CalibrationConfig, flip_name, size_name
from rmboost.experiment.training import Trainer
from rmboost.measure.interval_text import interval_text


def _accuracy(t: Trainer, name: str, kind: str, yardstick: str) -> dict[str, Any] | None:
    from rmboost.rm.evaluate import length_balanced, outcome_accuracy

    wins = t.mean_wins(name, kind, yardstick)
    if wins is None:
        return None
    pairs = t.yardsticks[yardstick]
    a = outcome_accuracy(wins, pairs, t.config.bootstrap, t.config.seed)
    lb = length_balanced(wins, pairs, t.config.bootstrap, t.config.seed)
    return {"set": name, "accuracy": a.accuracy, "ci_low": a.ci_low, "ci_high": a.ci_high,
            "length_balanced": lb.accuracy, "seeds": len(t.seed_wins(name, kind, yardstick))}


def smallest_readable(t: Trainer, kind: str, yardstick: str, real: dict[str, Any]) -> dict[str, Any]:
    from rmboost.rm.evaluate import paired_difference

    seeds = t.seed_wins("real", kind, yardstick)
    pairs = t.yardsticks[yardstick]
    seed_term = None
    for a, b in zip(seeds, seeds[1:], strict=False):
        d = paired_difference(a, b, pairs, t.config.bootstrap, t.config.seed)
        seed_term = max(seed_term or 0.0, abs(d.ci_low), abs(d.ci_high))
    test_term = (real["ci_high"] - real["ci_low"]) / 2
    mdd = max(test_term, seed_term or 0.0)
    basis = "seeds" if seed_term is not None and seed_term >= test_term else "test size"
    return {"mdd": mdd, "seed_term": seed_term, "test_term": test_term, "basis": basis, "seeds": len(seeds)}


def instrument(t: Trainer, cal: CalibrationConfig, kind: str, yardstick: str) -> dict[str, Any] | None:
    """The calibration row of one (kind, yardstick); None when Real or all-flipped is not trained."""
    from rmboost.rm.evaluate import paired_difference

    real, flipped = t.mean_wins("real", kind, yardstick), t.mean_wins(flip_name(1.0), kind, yardstick)
    real_acc = _accuracy(t, "real", kind, yardstick)
    if real is None or flipped is None or real_acc is None:
        return None
    s = paired_difference(real, flipped, t.yardsticks[yardstick], t.config.bootstrap, t.config.seed)
    mdd = smallest_readable(t, kind, yardstick, real_acc)
    readable = s.ci_low > 0 and s.accuracy > mdd["mdd"]
    return {
        "rm": kind, "yardstick": yardstick, "n": s.n,
        "sensitivity": s.accuracy, "sensitivity_ci": [s.ci_low, s.ci_high], **mdd, "readable": readable,
        "untrained": _accuracy(t, UNTRAINED, kind, yardstick),
        "dose_response": [dict(r, flipped=f) for f in cal.flip_fractions
                          if (r := _accuracy(t, flip_name(f), kind, yardstick)) is not None],
        "learning_curve": [dict(r, share=s_) for s_ in cal.sizes
                           if (r := _accuracy(t, size_name(s_), kind, yardstick)) is not None],
    }


def calibration_section(t: Trainer, cal: CalibrationConfig) -> dict[str, Any]:
    if not cal.enabled:
        return {"enabled": False, "rows": [],
                "note": "off: no verdicts (calibration: true in the config measures what each reward model can see)"}
    rows = [row for kind in t.config.reward_models for y in t.yardsticks
            if (row := instrument(t, cal, kind, y)) is not None]
    from rmboost.experiment.calibration_at_size import at_size_section

    return {"enabled": True, "flip_fractions": cal.flip_fractions, "sizes": cal.sizes, "rows": rows,
            "at_size": at_size_section(t, cal)}


def readability(section: dict[str, Any], kind: str, yardstick: str) -> dict[str, Any] | None:
    """The calibration row of (kind, yardstick), or None when it was not measured."""
    return next((r for r in section.get("rows", []) if (r["rm"], r["yardstick"]) == (kind, yardstick)), None)


def not_readable(row: dict[str, Any] | None) -> str:
    if row is None:
        return "not readable: not calibrated (calibration: true measures what this reward model can see)"
    return f"not readable at this size ({instrument_text(row)})"


def instrument_text(row: dict[str, Any]) -> str:
    """`sensitivity +0.166 [+0.120, +0.210], smallest readable difference 0.040` of a calibration row."""
    sensitivity = interval_text(row["sensitivity"], *row["sensitivity_ci"], signed=True)
    return f"sensitivity {sensitivity}, smallest readable difference {row['mdd']:.3f}"


def difference_winner(diff: dict[str, Any], row: dict[str, Any] | None) -> str | None:
    """The set a difference A - B calls better (A or B), or None: called only where the instrument
    can see (the calibration row is readable), the interval excludes 0 and the difference is at
    least the smallest readable one."""
    if row is None or not row["readable"]:
        return None
    d, mdd = diff["difference"], row["mdd"]
    if diff["ci_low"] > 0 and d >= mdd:
        return str(diff["a"])
    if diff["ci_high"] < 0 and -d >= mdd:
        return str(diff["b"])
    return None


def difference_verdict(diff: dict[str, Any], row: dict[str, Any] | None) -> str:
    """A difference A - B in words (`difference_winner`'s call)."""
    if row is None or not row["readable"]:
        return not_readable(row)
    if (winner := difference_winner(diff, row)) is not None:
        return f"{winner} is better"
    return f"no difference this instrument can see (|difference| under {row['mdd']:.3f} or its interval holds 0)"
