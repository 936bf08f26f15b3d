"""One method's generation in one chunk of a long experiment: `generation/run.py`'s local run of the
method over its prompts, with a time budget. Once the budget is spent the run takes no new prompt; the
prompts in flight finish, so each prompt in the pair file is whole and nothing made is lost. The
method's progress is counted in prompts: a prompt is done when every work item it becomes
(`Method.items_for`, `engine.item_ids`) is in the pair or failures file, or its input failure is.

Left out: what a chunk does with the result (restore, archive, estimate, the stop: `chunks.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rmboost.errors import InputError
from rmboost.experiment.log import log
from rmboost.experiment.pairs_archive import pair_ids
from rmboost.generation.config import GenerateConfig
from rmboost.generation.engine import item_ids
from rmboost.generation.run import build_method, run_local
from rmboost.generation.summary import RunSummary
from rmboost.io.output import output_paths
from rmboost.io.prompts import read_prompts
from rmboost.io.rows import require_rows
from rmboost.methods import Method
from rmboost.records import PromptRecord

TICK_EVERY = 600.0  # seconds between two looks at a method's progress while it runs
Tick = Callable[[int, int, float], None]  # (prompts done before the run, done now, seconds since it started)


def clock() -> float:
    """The chunk's clock (one name, so a test can run a chunk on a clock of its own)."""
    return time.monotonic()


@dataclass
class Deadline:
    minutes: float | None = None  # None: no budget
    start: float = field(default_factory=lambda: clock())

    def passed(self) -> bool:
        return self.minutes is not None and self.elapsed() >= self.minutes * 60

    def elapsed(self) -> float:
        return clock() - self.start


@dataclass
class MethodRun:
    summary: RunSummary | None  # None: not run (done before, or no time left)
    done_before: int
    done: int
    total: int
    wall_seconds: float = 0.0
    cut: bool = False  # the deadline stopped it with prompts left to take

    @property
    def complete(self) -> bool:
        """Every prompt done; a run that went through all its prompts is complete by definition."""
        return self.done >= self.total or (self.summary is not None and not self.cut)


class PromptCount:
    """The work items of each prompt of a method's input (up to its limit), to count prompts done."""

    def __init__(self, method: Method, path: Path, limit: int | None, pairs_per_prompt: int) -> None:
        self.items: list[tuple[list[str], str]] = []  # (item ids, the id of its input failure)
        for rec in read_prompts(path):
            if not isinstance(rec, PromptRecord):
                continue
            if limit is not None and len(self.items) >= limit:
                break
            try:
                k_max = method.items_for(rec, pairs_per_prompt)
            except InputError:
                k_max = 0  # the engine records it as the prompt's input failure
            self.items.append((item_ids(rec.id, k_max) if k_max else [], f"{rec.source}:{rec.line}"))

    @property
    def total(self) -> int:
        return len(self.items)

    def done(self, paths: dict[str, Path]) -> int:
        finished = pair_ids(paths["journal"]) | pair_ids(paths["failures"])
        return sum(fail in finished or all(i in finished for i in ids) for ids, fail in self.items)


class Budget:
    """Asked before each prompt is taken (`engine.take_until`): True, and `cut`, once the deadline has
    passed; every `TICK_EVERY` seconds before that, `look()` at how far the run got."""

    def __init__(self, deadline: Deadline, look: Callable[[], None] | None) -> None:
        self.deadline, self.look = deadline, look
        self.last = clock()
        self.cut = False

    def __call__(self) -> bool:
        if self.deadline.passed():
            self.cut = True
            return True
        if self.look is not None and clock() - self.last >= TICK_EVERY:
            self.last = clock()
            self.look()
        return False


def generate_until(gen: GenerateConfig, deadline: Deadline, *, name: str = "", skip_done: bool = False,
                   tick: Tick | None = None) -> MethodRun:
    """Run `gen` (resuming its output) until `deadline`; with `skip_done` a method whose prompts are
    all done is not run at all (no backend started, no call). `tick` hears how far it got as it goes."""
    start = clock()
    require_rows(gen.input, "prompts")
    paths = output_paths(gen.output, gen.format)
    count = PromptCount(build_method(gen), Path(gen.input), gen.limit, gen.pairs_per_prompt)
    before = count.done(paths)
    if deadline.passed() or (skip_done and before >= count.total):
        return MethodRun(None, before, before, count.total)
    log(f"generating with {name or gen.method} ({gen.method}) -> {gen.output}")
    budget = Budget(deadline, None if tick is None else (lambda: tick(before, count.done(paths), clock() - start)))
    summary = asyncio.run(run_local(gen, stop=budget))
    return MethodRun(summary, before, count.done(paths), count.total, clock() - start, budget.cut)
