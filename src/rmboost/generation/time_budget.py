"""Where a generation run's time went, per method and per pair, read from the run's own files: each
pair row's `usage` (calls, prompt and completion tokens) and `attempts` (the tries each stage took,
so the refused ones), the failures file (what the items that made no pair spent, and their refused
tries) and `<stem>.summary.json` (wall time).

"Per pair" is per pair made: what failed items spent was spent on the way to the pairs, so it
counts. Wall time comes from the summary, which describes a run's last session only, so wall time
per pair is that session's seconds over that session's new pairs. Prompt tokens taken from the
embedded model's KV cache instead of being read are the rows' `usage.reused_prompt_tokens`; files
written before that field existed leave them unknown (None), as does a file whose rows mix both
(a run continued across the change), and a caller holding the backend's counters may set them.

Left out: money (`cost.py`), printing (the benchmarks and `docs/PERFORMANCE.md` make the tables).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rmboost.io.output import output_paths, read_output_rows

HOUR = 3600.0


@dataclass
class MethodBudget:
    """One method's totals over a run's pairs and failures."""

    method: str
    pairs: int = 0
    failures: int = 0
    calls: int = 0  # sent, and answered from the request cache
    cached_calls: int = 0
    prompt_tokens: int = 0  # submitted: evaluated plus reused
    completion_tokens: int = 0
    refused: int = 0  # tries whose answer a content check refused, then asked for again or given up on
    wall_seconds: float | None = None  # the summary's session
    session_pairs: int | None = None  # the pairs that session made
    reused_prompt_tokens: int | None = None  # None while no row records them
    reuse_unknown: bool = False  # some row predates the field: the sum would undercount, so it is not given

    def add(self, row: dict[str, Any], failed: bool) -> None:
        usage = row.get("usage") or {}
        self.calls += int(usage.get("calls", 0)) + int(usage.get("cached_calls", 0))
        self.cached_calls += int(usage.get("cached_calls", 0))
        self.prompt_tokens += int(usage.get("prompt_tokens", 0))
        self.completion_tokens += int(usage.get("completion_tokens", 0))
        if "reused_prompt_tokens" in usage:
            self.reused_prompt_tokens = (self.reused_prompt_tokens or 0) + int(usage["reused_prompt_tokens"])
        elif usage:
            self.reuse_unknown = True
        if failed:
            self.failures += 1
            self.refused += int((row.get("detail") or {}).get("attempts", 0))
        else:
            self.pairs += 1
            self.refused += sum(max(int(k) - 1, 0) for k in (row.get("attempts") or {}).values())

    def per_pair(self) -> dict[str, float | None]:
        """Each total over the pairs made (None when no pair was made, or the total is unknown)."""
        n = self.pairs

        def each(total: float | None, over: int | None = n) -> float | None:
            return None if total is None or not over else total / over

        reused = self.reused_prompt_tokens
        evaluated = None if reused is None else self.prompt_tokens - reused
        wall = each(self.wall_seconds, self.session_pairs)
        return {
            "prompt_tokens": each(self.prompt_tokens), "reused_prompt_tokens": each(reused),
            "evaluated_prompt_tokens": each(evaluated), "completion_tokens": each(self.completion_tokens),
            "calls": each(self.calls), "refused": each(self.refused), "failures": each(self.failures),
            "wall_seconds": wall, "pairs_per_hour": None if not wall else HOUR / wall,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "per_pair": self.per_pair()}


def time_budget(output: str | Path, fmt: str = "jsonl") -> dict[str, MethodBudget]:
    """method -> its budget, over the pair file `output` and the files beside it. The summary's wall
    time goes to the method when the file holds one method only (a summary does not split it)."""
    paths = output_paths(output, fmt)
    budgets: dict[str, MethodBudget] = {}
    for path, failed in ((paths["journal"], False), (paths["failures"], True)):
        for _, row in read_output_rows(path):
            if failed and row.get("stage") == "input":
                continue  # a bad input row: no method ran, nothing was spent
            method = str(row.get("method") or "?")
            budgets.setdefault(method, MethodBudget(method)).add(row, failed)
    for budget in budgets.values():
        if budget.reuse_unknown:  # a part of the rows' sum is missing: unknown, for a caller to set
            budget.reused_prompt_tokens = None
    if len(budgets) == 1 and paths["summary"].is_file():
        summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
        only = next(iter(budgets.values()))
        only.wall_seconds = float(summary.get("wall_seconds") or 0.0)
        only.session_pairs = int(summary.get("pairs") or 0)
    return budgets
