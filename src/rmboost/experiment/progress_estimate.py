"""How far a chunked generation got and how long the rest will take, from the run's own records:
per method, prompts done of the total; seconds per prompt measured on this run's chunks (the wall
time of each chunk that sent LLM calls over the prompts it finished, with concurrency, so the rate
is the one the next chunk will see); prompts left x that rate; and the sum over the methods. Kept
as `progress.json` beside the pairs and in the archive, so the next session, on another machine,
reads how far the run got; every chunk's wall time, prompts, calls and tokens stay on record (what
each method costs).

Left out: counting prompts (`generate_chunk.py`) and when to measure and write (`chunks.py`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.generation.summary import RunSummary

PROGRESS_FILE = "progress.json"
_COSTS = ("pairs", "failures", "calls_sent", "cache_hits", "prompt_tokens", "completion_tokens")


@dataclass
class MethodProgress:
    prompts_done: int = 0
    prompts_total: int = 0
    prompts_digest: str | None = None  # of the method's prompts file: a continue must see the same prompts
    chunks: list[dict[str, Any]] = field(default_factory=list)
    under_way: bool = field(default=False, compare=False)  # the last chunk row is this process's, not ended

    @property
    def left(self) -> int:
        return max(self.prompts_total - self.prompts_done, 0)

    def rate(self) -> float | None:
        """Seconds per prompt over this method's chunks (the one under way too); None before any
        prompt was timed. A chunk that sent no call (answered from a cache) would flatter it: left out."""
        timed = [c for c in self.chunks if c.get("prompts") and c.get("calls_sent", 1)]
        seconds, count = sum(float(c["wall_seconds"]) for c in timed), sum(int(c["prompts"]) for c in timed)
        return seconds / count if count and seconds > 0 else None

    def seconds_left(self) -> float | None:
        rate = self.rate()
        return 0.0 if not self.left else None if rate is None else self.left * rate

    def record_chunk(self, prompts: int, wall: float, summary: RunSummary | None = None) -> None:
        """This chunk's prompts done and wall time so far; with its `summary` when it has ended. A
        chunk under way is one row, updated in place (a session killed mid-chunk leaves its last look)."""
        row: dict[str, Any] = {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "prompts": prompts,
                               "wall_seconds": round(wall, 1)}
        if summary is not None:
            row.update({k: getattr(summary, k) for k in _COSTS})
        else:
            row["under_way"] = True
        if self.under_way:
            self.chunks[-1] = row
        else:
            self.chunks.append(row)
        self.under_way = summary is None

    def to_dict(self) -> dict[str, Any]:
        rate, left = self.rate(), self.seconds_left()
        return {"prompts_done": self.prompts_done, "prompts_total": self.prompts_total, "prompts_left": self.left,
                "seconds_per_prompt": None if rate is None else round(rate, 2),
                "seconds_left": None if left is None else round(left), "prompts_digest": self.prompts_digest,
                "totals": {k: sum(c.get(k, 0) for c in self.chunks) for k in ("prompts", "wall_seconds", *_COSTS)},
                "chunks": self.chunks}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> MethodProgress:
        return cls(int(row.get("prompts_done", 0)), int(row.get("prompts_total", 0)), row.get("prompts_digest"),
                   list(row.get("chunks") or []))


def duration(seconds: float) -> str:
    """`2h05m`, `14m`, `40s`."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m" if s >= 60 else f"{s}s"


def method_line(name: str, p: MethodProgress) -> str:
    """`rmboost: 120/243 prompts, 123 left x 31.2 s = 1h04m`."""
    head = f"{name}: {p.prompts_done}/{p.prompts_total} prompts"
    if not p.left:
        return f"{head}, done"
    rate = p.rate()
    if rate is None:
        return f"{head}, {p.left} left x ? s (not measured yet)"
    return f"{head}, {p.left} left x {rate:.1f} s = {duration(p.left * rate)}"


def time_left(methods: dict[str, MethodProgress]) -> tuple[float, list[str]]:
    """Seconds left over the measured methods, and the methods with prompts left but no rate yet."""
    known = [p.seconds_left() for p in methods.values()]
    unmeasured = [name for name, s in zip(methods, known, strict=True) if s is None]
    return sum(s for s in known if s is not None), unmeasured


def total_line(methods: dict[str, MethodProgress]) -> str:
    """`time left: about 3h10m, plus rlaif (not measured yet)`."""
    seconds, unmeasured = time_left(methods)
    if unmeasured and len(unmeasured) == sum(p.left > 0 for p in methods.values()):
        return f"time left: not measured yet ({', '.join(unmeasured)})"
    more = f", plus {', '.join(unmeasured)} (not measured yet)" if unmeasured else ""
    return f"time left: about {duration(seconds)}{more}"


def load_progress(path: Path) -> dict[str, MethodProgress]:
    if not path.is_file():
        return {}
    try:
        rows = json.loads(path.read_text(encoding="utf-8")).get("methods") or {}
        return {str(name): MethodProgress.from_dict(row) for name, row in rows.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}  # a progress file is a record, not an input: an unreadable one only loses old rates


def save_progress(path: Path, methods: dict[str, MethodProgress], complete: bool,
                  budget_minutes: float | None) -> None:
    seconds, unmeasured = time_left(methods)
    # No time stamp of its own (each chunk has one): a run that changed nothing leaves the file as it was.
    record = {"complete": complete,
              "seconds_left": round(seconds), "unmeasured": unmeasured, "budget_minutes": budget_minutes,
              "methods": {name: p.to_dict() for name, p in methods.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
