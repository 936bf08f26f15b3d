"""Calibration at the Syn sets' size: what label noise the reward-model column can read when two
training sets of N pairs are compared (issue "The paper's table at size", part 5).

The dose-response of `calibration_sets.py` flips labels in all of Real (over a thousand pairs here),
where a linear model barely notices wrong labels. The table compares Syn sets of N pairs, so this
makes `draws` sets of N Real pairs each (whole questions in a seeded order per draw, the last
question cut to make exactly N), and within each draw flips the labels of a share of its questions
(nested: the questions flip-25 flips include flip-10's). Set names: `real-n500-d0`,
`real-n500-d0-flip10`, ...

Read from the trained models (`at_size_section`), per (kind, yardstick):
- the accuracy at each flipped share, outcomes averaged over draws and seeds, with its interval;
- the **draw term**: the largest bound of the 95% paired interval between two clean draws (what two
  sets of N equally good pairs differ by: the smallest difference between two Syn sets of this size
  that says anything about their labels);
- for each share, the drop from the clean draws (paired interval) and whether it is **readable**
  (its interval lies above 0 and the drop exceeds the draw term). The smallest readable share is the
  label-noise difference this column can see, beside the label agreement that measures noise directly.

Left out: draws of other sizes (one N per config), and flips by pair rather than by question.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from rmboost.measure.interval_text import interval_text
from rmboost.records import Pair
from rmboost.rm.validation import question_key

# `t` below is the experiment's `training.Trainer` and `cfg` a `calibration_sets.CalibrationConfig`;
# neither is imported, since both modules build on this one.
Trainer = Any
CalibrationConfig = Any


def flipped(pair: Pair) -> Pair:
    """The pair with chosen and rejected swapped (and marked so)."""
    extra = {**pair.extra, "flipped": True}
    if "chosen_listed_first" in extra:
        extra["chosen_listed_first"] = not extra["chosen_listed_first"]
    return dataclasses.replace(pair, chosen=pair.rejected, rejected=pair.chosen, extra=extra)


def set_name(size: int, draw: int, flip: float) -> str:
    base = f"real-n{size}-d{draw}"
    return base if flip == 0 else f"{base}-flip{round(100 * flip)}"


def question_order(pairs: list[Pair], salt: str) -> list[str]:
    """The questions of `pairs` in one seeded order: by SHA-256 of `salt` and the question key (the
    one ordering rule of every calibration set; `calibration_sets.question_order` salts it with the seed)."""
    keys = list(dict.fromkeys(question_key(p) for p in pairs))
    return sorted(keys, key=lambda k: hashlib.sha256(f"{salt}:{k}".encode()).hexdigest())


def _draw(real: list[Pair], size: int, draw: int, seed: int) -> tuple[list[Pair], list[str]]:
    """`size` Real pairs of whole questions in this draw's seeded order (the last question cut), and
    the questions in that order."""
    order = question_order(real, f"at-size:{seed}:{draw}")
    by_key: dict[str, list[Pair]] = {}
    for p in real:
        by_key.setdefault(question_key(p), []).append(p)
    picked: list[Pair] = []
    used: list[str] = []
    for k in order:
        if len(picked) >= size:
            break
        picked += by_key[k][: size - len(picked)]
        used.append(k)
    return picked, used


def at_size_sets(real: list[Pair], cfg: CalibrationConfig, seed: int) -> dict[str, list[Pair]]:
    """name -> pairs of every at-size set (none when `cfg.at_size` is not set or Real is smaller)."""
    size = cfg.at_size
    if not size or len(real) < size:
        return {}
    sets: dict[str, list[Pair]] = {}
    for d in range(cfg.draws):
        pairs, order = _draw(real, size, d, seed)
        sets[set_name(size, d, 0.0)] = pairs
        for f in cfg.at_size_flips:
            if f > 0:
                chosen = set(order[: round(f * len(order))])
                sets[set_name(size, d, f)] = [flipped(p) if question_key(p) in chosen else p for p in pairs]
    return sets


def _mean(t: Trainer, names: list[str], kind: str, yardstick: str) -> list[float] | None:
    cols = [w for n in names if (w := t.mean_wins(n, kind, yardstick)) is not None]
    if len(cols) != len(names) or not cols:
        return None
    return [sum(c) / len(cols) for c in zip(*cols, strict=True)]


def _draw_term(t: Trainer, size: int, draws: int, kind: str, yardstick: str) -> float | None:
    from rmboost.rm.evaluate import paired_difference

    clean = [t.mean_wins(set_name(size, d, 0.0), kind, yardstick) for d in range(draws)]
    bound = None
    for a, b in zip(clean, clean[1:], strict=False):
        if a is not None and b is not None:
            diff = paired_difference(a, b, t.yardsticks[yardstick], t.config.bootstrap, t.config.seed)
            bound = max(bound or 0.0, abs(diff.ci_low), abs(diff.ci_high))
    return bound


def at_size_row(t: Trainer, cfg: CalibrationConfig, kind: str, yardstick: str) -> dict[str, Any] | None:
    from rmboost.rm.evaluate import outcome_accuracy, paired_difference

    size, draws = cfg.at_size, cfg.draws
    assert size is not None
    pairs = t.yardsticks[yardstick]
    clean = _mean(t, [set_name(size, d, 0.0) for d in range(draws)], kind, yardstick)
    if clean is None:
        return None
    term = _draw_term(t, size, draws, kind, yardstick)
    levels = []
    for f in [0.0, *[x for x in cfg.at_size_flips if x > 0]]:
        wins = _mean(t, [set_name(size, d, f) for d in range(draws)], kind, yardstick)
        if wins is None:
            continue
        a = outcome_accuracy(wins, pairs, t.config.bootstrap, t.config.seed)
        level: dict[str, Any] = {"flipped": f, "accuracy": a.accuracy, "ci_low": a.ci_low, "ci_high": a.ci_high}
        if f > 0:
            drop = paired_difference(clean, wins, pairs, t.config.bootstrap, t.config.seed)
            level.update(drop=drop.accuracy, drop_ci=[drop.ci_low, drop.ci_high],
                         readable=term is not None and drop.ci_low > 0 and drop.accuracy > term)
        levels.append(level)
    readable = [lv["flipped"] for lv in levels if lv.get("readable")]
    return {"rm": kind, "yardstick": yardstick, "size": size, "draws": draws, "draw_term": term,
            "levels": levels, "smallest_readable_flip": min(readable) if readable else None}


def at_size_section(t: Trainer, cfg: CalibrationConfig) -> dict[str, Any] | None:
    if not cfg.enabled or not cfg.at_size:
        return None
    rows = [row for kind in t.config.reward_models for y in t.yardsticks
            if (row := at_size_row(t, cfg, kind, y)) is not None]
    return {"size": cfg.at_size, "draws": cfg.draws, "flips": cfg.at_size_flips, "rows": rows}


def at_size_markdown(section: dict[str, Any] | None) -> str:
    if not section or not section.get("rows"):
        return ""
    flips = [f for f in section["flips"] if f > 0]
    lines = [f"### Calibration at the Syn sets' size ({section['size']} Real pairs, {section['draws']} draws)", "",
             "Accuracy trained on draws of Real of this size with a share of their questions' labels flipped "
             "(outcomes averaged over draws and seeds); drop = clean minus flipped, 95% paired CI; draw term = "
             "what two clean draws differ by (the largest bound of their paired interval). A share is readable "
             "when its drop's interval lies above 0 and the drop exceeds the draw term.", "",
             "| reward model | yardstick | clean | " + " | ".join(f"flip {f:g} (drop)" for f in flips)
             + " | draw term | smallest readable flip |", "|" + "---|" * (5 + len(flips))]
    for r in section["rows"]:
        by = {lv["flipped"]: lv for lv in r["levels"]}
        clean = by.get(0.0)
        cells = []
        for f in flips:
            lv = by.get(f)
            cells.append("-" if lv is None else
                         f"{lv['accuracy']:.3f} ({interval_text(lv['drop'], *lv['drop_ci'], signed=True)})"
                         + (" **readable**" if lv.get("readable") else ""))
        term = "-" if r["draw_term"] is None else f"{r['draw_term']:.3f}"
        smallest = "none" if r["smallest_readable_flip"] is None else f"{r['smallest_readable_flip']:g}"
        lines.append(f"| {r['rm']} | {r['yardstick']} | {clean['accuracy']:.3f} | " if clean else
                     f"| {r['rm']} | {r['yardstick']} | - | ")
        lines[-1] += " | ".join(cells) + f" | {term} | {smallest} |"
    return "\n".join(lines) + "\n"
