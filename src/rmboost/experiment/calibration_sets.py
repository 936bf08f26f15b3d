"""The calibration's training sets, made from the Real pairs alone with no LLM call: Real with the
labels of a fraction of its *questions* flipped (chosen and rejected swapped in every pair of those
questions), and Real cut to a fraction of its questions (a learning curve).

Questions are put in one seeded order (SHA-256 of the seed and the question key); flipping f
flips the first round(f x questions) of that order, and cutting to s keeps the first round(s x
questions), so the sets are nested: flip-50 flips every question flip-25 flips, and more. A
fraction of 0 flipped, or 1 kept, is Real itself and gets no set of its own. Which sets a config
asks for is `CalibrationConfig`; training them is the experiment's job, like any set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.errors import UsageError
from rmboost.experiment.calibration_at_size import at_size_sets, flipped
from rmboost.experiment.calibration_at_size import question_order as ordered_questions
from rmboost.records import Pair
from rmboost.rm.validation import question_key

UNTRAINED = "untrained"


@dataclass
class CalibrationConfig:
    enabled: bool = False
    flip_fractions: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0])
    sizes: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0])
    untrained: bool = True
    # Calibration at the Syn sets' size (`calibration_at_size.py`): draws of `at_size` Real pairs.
    at_size: int | None = None
    at_size_flips: list[float] = field(default_factory=lambda: [0.0, 0.1, 0.25, 0.5])
    draws: int = 3


def parse_calibration(raw: Any, where: str) -> CalibrationConfig:
    """`true`/`false`, or a mapping of `flip_fractions`, `sizes`, `untrained`, `at_size` (pairs),
    `at_size_flips`, `draws`."""
    if isinstance(raw, bool):
        return CalibrationConfig(enabled=raw)
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: field 'calibration' must be true, false or a mapping with flip_fractions, "
                         f"sizes, untrained, at_size, at_size_flips, draws; got {raw!r}")
    known = {"flip_fractions", "sizes", "untrained", "at_size", "at_size_flips", "draws"}
    if set(raw) - known:
        raise UsageError(f"{where}: field 'calibration' has unknown key(s) {sorted(set(raw) - known)}; "
                         f"known: {sorted(known)}")
    cfg = CalibrationConfig(enabled=True)
    for name in ("flip_fractions", "sizes", "at_size_flips"):
        if name in raw:
            value = raw[name]
            if not (isinstance(value, list) and value and all(_fraction(v) for v in value)):
                raise UsageError(f"{where}: field 'calibration.{name}' must be a non-empty list of numbers "
                                 f"from 0 to 1, got {value!r}")
            setattr(cfg, name, sorted({float(v) for v in value}))
    if 1.0 not in cfg.flip_fractions:
        raise UsageError(f"{where}: field 'calibration.flip_fractions' must include 1 (every label flipped): "
                         "the sensitivity is accuracy at 0 minus accuracy at 1")
    if "untrained" in raw:
        if not isinstance(raw["untrained"], bool):
            raise UsageError(f"{where}: field 'calibration.untrained' must be true or false")
        cfg.untrained = raw["untrained"]
    for name, low in (("at_size", 10), ("draws", 2)):
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"{where}: field 'calibration.{name}' must be a whole number >= {low}, got {value!r}")
            setattr(cfg, name, value)
    return cfg


def _fraction(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1


def flip_name(f: float) -> str:
    return "real" if f == 0 else f"real-flip{round(100 * f)}"


def size_name(s: float) -> str:
    return "real" if s == 1 else f"real-q{round(100 * s)}"


def question_order(pairs: list[Pair], seed: int) -> list[str]:
    return ordered_questions(pairs, f"calibration:{seed}")


def calibration_sets(real: list[Pair], cfg: CalibrationConfig, seed: int) -> dict[str, list[Pair]]:
    """name -> pairs of every calibration set but Real itself: flips first, then the cuts, then the
    draws at the Syn sets' size (`calibration_at_size.py`)."""

    order = question_order(real, seed)
    sets: dict[str, list[Pair]] = {}
    for f in cfg.flip_fractions:
        if f > 0:
            chosen = set(order[: round(f * len(order))])
            sets[flip_name(f)] = [flipped(p) if question_key(p) in chosen else p for p in real]
    for s in cfg.sizes:
        if s < 1:
            kept = set(order[: max(1, round(s * len(order)))])
            sets[size_name(s)] = [p for p in real if question_key(p) in kept]
    sets.update(at_size_sets(real, cfg, seed))
    return sets


def write_calibration_sets(real: list[Pair], cfg: CalibrationConfig, seed: int, folder: Path) -> dict[str, Path]:
    from rmboost.io.rows import write_rows

    files = {}
    for name, rows in calibration_sets(real, cfg, seed).items():
        files[name] = folder / f"{name}.jsonl"
        write_rows(files[name], [p.to_dict() for p in rows])
    return files
