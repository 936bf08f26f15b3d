"""Progress of a generation run: prompts done of the total (the input's valid rows, counted before
the run starts, up to --limit), pairs, failures, tokens per second and, given prices, the money spent
and the projected total. Shown by `progress_display.ProgressDisplay` (a tqdm bar on a terminal, a
line every --progress-every seconds on stderr otherwise, nothing with --quiet).

Left out: the counting itself (the engine passes its counts in) and the prices (`cost.py`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

from rmboost.generation.cost import Prices, projected_total
from rmboost.io.prompts import read_prompts
from rmboost.progress_display import ProgressDisplay
from rmboost.records import PromptRecord, Usage


def count_prompts(path: str | Path, limit: int | None = None) -> int:
    """The valid prompt rows of `path`, up to `limit`: the total a run will go through. One pass
    that only parses; a missing file is the run's error to report, so it counts as 0 here."""
    if not Path(path).is_file():
        return 0
    n = 0
    for rec in read_prompts(path):
        if limit is not None and n >= limit:
            break
        n += isinstance(rec, PromptRecord)
    return n


class Progress:
    def __init__(self, total: int | None = None, enabled: bool = True, every: float = 15.0,
                 stream: TextIO | None = None, prices: Prices | None = None) -> None:
        self.total = total
        self.prices = prices
        self.start = time.monotonic()
        self.display = ProgressDisplay("generate", total, unit="prompt", enabled=enabled, every=every, stream=stream)

    def figures(self, done: int, skipped: int, pairs: int, failures: int, tokens: int,
                billed: Usage | None) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        out: dict[str, Any] = {"pairs": pairs, "failures": failures, "tok/s": round(tokens / elapsed)}
        if skipped:
            out["done before"] = skipped
        if self.prices is not None and billed is not None:
            spent = self.prices.cost(billed.prompt_tokens, billed.completion_tokens)
            out["cost"] = f"${spent:.4f}"
            if self.total is not None:
                projected = projected_total(spent, done - skipped, self.total - done)
                out["projected"] = "?" if projected is None else f"${projected:.4f}"
        return out

    def update(self, done: int, skipped: int, pairs: int, failures: int, tokens: int,
               billed: Usage | None = None) -> None:
        """`done` counts every prompt finished or skipped (done before, repeated id), of `total`."""
        self.display.update(done, **self.figures(done, skipped, pairs, failures, tokens, billed))

    def close(self) -> None:
        self.display.close()
