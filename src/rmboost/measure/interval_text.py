"""How an estimate with its 95% interval is written in text: `0.576 [0.535, 0.611]`, and a paired
difference `a - b +0.012 [-0.020, +0.041]` (signed, so its direction reads at a glance). Every
table, log line and verdict of rmboost writes an interval through these two, so they all read alike.

Left out: HTML (`report/markup.interval` puts the bracket in a quieter span) and aligned columns
(`rm/evaluate.py`'s and `data/shares.py`'s fixed-width tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def interval_text(value: float, low: float, high: float, signed: bool = False) -> str:
    """`0.576 [0.535, 0.611]`; with `signed`, `+0.012 [-0.020, +0.041]`."""
    f = "+.3f" if signed else ".3f"
    return f"{value:{f}} [{low:{f}}, {high:{f}}]"


def difference_text(row: Mapping[str, Any]) -> str:
    """`a - b +0.012 [-0.020, +0.041]` from a difference row (`a`, `b`, `difference`, `ci_low`, `ci_high`)."""
    return f"{row['a']} - {row['b']} {interval_text(row['difference'], row['ci_low'], row['ci_high'], signed=True)}"
