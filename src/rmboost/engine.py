"""The engine: runs a method over a stream of prompts with bounded concurrency, writing each pair
or failure as soon as it is done, skipping prompts a previous run finished, and stopping early when
the backend keeps failing. One async core; `generate.py` wraps it for files and the CLI.

A record may come as `(index, record)`, carrying its position in a larger stream of which this is
a shard (the Ray engine's case): RMBoost's balanced labels depend on that position.

Left out here: where records come from and go to (iterables and sinks are passed in), and retries
of a single call (the backend's job).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rmboost.errors import InputError, UserError
from rmboost.llm import LLM
from rmboost.methods.base import Method, WorkItem
from rmboost.progress import Progress
from rmboost.records import Failure, Pair, PairFailure, PromptRecord, Usage

PairSink = Callable[[Pair], None]
FailureSink = Callable[[Failure], None]


@dataclass(slots=True)
class EngineStats:
    pairs: int = 0
    failures: int = 0
    input_errors: int = 0
    skipped_done: int = 0
    duplicate_ids: int = 0
    usage: Usage = field(default_factory=Usage)
    stopped_early: str | None = None


class ErrorBudget:
    """Stops a run whose recent prompts mostly fail at the backend, instead of burning money."""

    def __init__(self, window: int = 50, threshold: float = 0.5, min_outcomes: int = 20) -> None:
        self.recent: deque[bool] = deque(maxlen=window)
        self.threshold = threshold
        self.min_outcomes = min_outcomes

    def record(self, backend_failed: bool) -> bool:
        """Record one outcome; True when the run should stop."""
        self.recent.append(backend_failed)
        return len(self.recent) >= self.min_outcomes and sum(self.recent) / len(self.recent) > self.threshold


async def run_method(
    method: Method,
    llm: LLM,
    records: Iterable[PromptRecord | tuple[int, PromptRecord] | InputError],
    on_pair: PairSink,
    on_failure: FailureSink,
    *,
    seed: int = 0,
    concurrency: int = 4,
    limit: int | None = None,
    done_ids: set[str] | None = None,
    on_error: str = "fail",
    progress: Progress | None = None,
    error_budget: ErrorBudget | None = None,
) -> EngineStats:
    stats = EngineStats()
    done = set(done_ids or ())
    seen: set[str] = set()
    pending: set[asyncio.Task[None]] = set()
    budget = error_budget or ErrorBudget()
    last_backend_error = ""

    def report() -> None:
        if progress is not None:
            progress.update(stats.pairs, stats.failures, llm.totals.prompt_tokens + llm.totals.completion_tokens)

    async def process(item: WorkItem) -> None:
        nonlocal last_backend_error
        record = item.record
        try:
            pair = await method.make_pair(item, llm)
        except PairFailure as e:
            on_failure(Failure(id=record.id, stage=e.stage, reason=e.reason, method=method.name,
                               source=record.source, line=record.line, retryable=e.retryable,
                               usage=item.usage, detail=e.detail))
            stats.failures += 1
            if e.retryable:
                last_backend_error = e.reason
            if budget.record(e.retryable) and stats.stopped_early is None:
                stats.stopped_early = (f"stopped early: more than {budget.threshold:.0%} of the last "
                                       f"{len(budget.recent)} prompts failed at the backend "
                                       f"(last: {last_backend_error}); rerun the same command to resume")
        else:
            on_pair(pair)
            stats.pairs += 1
            budget.record(False)
        stats.usage.add(item.usage)
        report()

    async def drain(until: int) -> None:
        while len(pending) > until:
            finished, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                pending.discard(task)
                task.result()  # a bug in a method surfaces here instead of vanishing

    def input_error(err: InputError) -> None:
        if on_error != "skip":
            raise err
        failure_id = f"{err.source}:{err.line}"
        if failure_id in done:  # recorded by an earlier run
            stats.skipped_done += 1
            return
        stats.input_errors += 1
        stats.failures += 1
        on_failure(Failure(id=failure_id, stage="input", reason=str(err), source=err.source, line=err.line))

    index = 0
    try:
        for rec in records:
            if stats.stopped_early:
                break
            if isinstance(rec, InputError):
                await drain(0)  # in fail mode, finish what is in flight before raising
                input_error(rec)
                continue
            if limit is not None and index >= limit:
                break
            position, rec = rec if isinstance(rec, tuple) else (index, rec)
            item = WorkItem(record=rec, index=position, seed=seed)
            index += 1
            if rec.id in seen:
                stats.duplicate_ids += 1
                continue
            seen.add(rec.id)
            if rec.id in done:
                stats.skipped_done += 1
                continue
            too_long = context_overflow(method, llm, rec)
            if too_long:
                await drain(0)
                input_error(too_long)
                continue
            await drain(concurrency - 1)
            pending.add(asyncio.create_task(process(item)))
        await drain(0)
    finally:
        if pending:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if progress is not None:
            report()
            progress.close()
    if stats.stopped_early:
        raise EarlyStop(stats.stopped_early, stats)
    return stats


class EarlyStop(UserError):
    def __init__(self, message: str, stats: EngineStats) -> None:
        super().__init__(message)
        self.stats = stats


def context_overflow(method: Method, llm: LLM, record: PromptRecord) -> InputError | None:
    """An `InputError` when the prompt cannot fit the model's context with room for an answer."""
    limit = llm.backend.context_length
    if not limit:
        return None
    n = llm.backend.count_tokens(method.policy_messages(record))
    if n is None or n + method.sampling.max_tokens <= limit:
        return None
    field_name = "context" if record.context else "prompt"
    return InputError(record.source, record.line, field_name,
                      f"the prompt takes {n} tokens; with {method.sampling.max_tokens} for the answer it "
                      f"exceeds the model's context of {limit} tokens")

