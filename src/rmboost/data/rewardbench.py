"""RewardBench rows (`prompt`, `chosen`, `rejected`, `subset`, optional `id`) as preference pairs.

All three texts are plain strings; `subset` is kept so evaluation can report per-subset accuracy.
RewardBench's section weighting (Chat, Chat Hard, Safety, Reasoning) is not computed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, parse_rows, require_fields
from rmboost.records import Pair


def _parse(row: Any, source: str, line: int) -> Pair:
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    require_fields(row, ("prompt", "chosen", "rejected", "subset"), source, line)
    for name in ("prompt", "chosen", "rejected", "subset"):
        if not isinstance(row.get(name), str) or not row[name].strip():
            raise InputError(source, line, name, "must be a non-empty string")
    return Pair(
        id=str(row.get("id", f"rb-{line}")),
        prompt=row["prompt"],
        chosen=row["chosen"],
        rejected=row["rejected"],
        method="human",
        extra={"subset": row["subset"]},
    )


def load_rewardbench(path: str | Path, counter: SkipCounter | None = None) -> list[Pair]:
    """Read a RewardBench file (JSONL or Parquet) into pairs with a `subset`."""
    return parse_rows(path, _parse, counter)
