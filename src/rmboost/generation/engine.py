"""The engine: runs a method over a stream of prompts with bounded concurrency, writing each pair
or failure as soon as it is done, skipping prompts a previous run finished, and stopping early when
the backend keeps failing. One async core; `generation/run.py` wraps it for files.

A record may come as `(index, record)`, carrying its position in a larger stream of which this is
a shard (the Ray engine's case): RMBoost's balanced labels depend on that position. With
`pairs_per_prompt` K a record becomes K work items, `<id>#<k>`, at label positions `index * K + k`,
each resumed and failed on its own; a pair whose texts repeat another pair of the same prompt is a
failure, not a second copy. The method may say otherwise for a record (`Method.items_for`: RLAIF
over given responses makes one item per listed pair), or refuse it as an input error.

Left out here: where records come from and go to (iterables and sinks are passed in), and retries
of a single call (the backend's job). A run that stops early returns with `stopped_early` set; it
raises nothing, so the caller decides what a stop means.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from rmboost.errors import InputError
from rmboost.generation.progress import Progress
from rmboost.llm import LLM
from rmboost.methods.base import Method, WorkItem
from rmboost.methods.checks import normalise
from rmboost.records import Failure, Pair, PairFailure, PromptRecord, Usage

PairSink = Callable[[Pair], None]
FailureSink = Callable[[Failure], None]
RecordStream = Iterable[PromptRecord | tuple[int, PromptRecord] | InputError]


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


# How often the progress is shown again when no work item has finished in between.
HEARTBEAT_SECONDS = 1.0


@dataclass
class EngineOptions:
    seed: int = 0
    concurrency: int = 4
    limit: int | None = None
    done_ids: set[str] = field(default_factory=set)
    on_error: str = "fail"
    pairs_per_prompt: int = 1
    # prompt id -> (chosen, rejected) texts of its pairs made before, so a rerun keeps them distinct
    made_pairs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)


class Engine:
    """One run of `method` over a record stream; `run()` may be called once."""

    def __init__(self, method: Method, llm: LLM, on_pair: PairSink, on_failure: FailureSink,
                 options: EngineOptions | None = None, progress: Progress | None = None,
                 error_budget: ErrorBudget | None = None) -> None:
        self.method, self.llm = method, llm
        self.on_pair, self.on_failure = on_pair, on_failure
        self.options = options or EngineOptions()
        self.progress = progress
        self.budget = error_budget or ErrorBudget()
        self.stats = EngineStats()
        self.pending: set[asyncio.Task[None]] = set()
        self.seen: set[str] = set()
        self.last_backend_error = ""
        # The progress counts prompts: a prompt is done when its last work item is (with pairs per
        # prompt K, each of its K items), or at once when it has none to make (done before, a repeat).
        self.items_left: dict[str, int] = {}
        self.prompts_done = self.prompts_skipped = 0

    async def run(self, records: RecordStream) -> EngineStats:
        index = 0
        heartbeat = asyncio.create_task(self.heartbeat())
        try:
            for rec in records:
                if self.stats.stopped_early:
                    break
                if isinstance(rec, InputError):
                    await self.drain(0)  # in fail mode, finish what is in flight before raising
                    self.input_error(rec)
                    continue
                if self.options.limit is not None and index >= self.options.limit:
                    break
                position, rec = rec if isinstance(rec, tuple) else (index, rec)
                index += 1
                items = await self.admit(rec, position)
                if items:
                    self.items_left[rec.id] = len(items)
                else:
                    self.prompts_done += 1
                for item in items:
                    await self.drain(self.options.concurrency - 1)
                    self.pending.add(asyncio.create_task(self.process(item, rec.id)))
            await self.drain(0)
        finally:
            heartbeat.cancel()
            await self.cancel_pending()
            self.report(final=True)
        return self.stats

    async def heartbeat(self) -> None:
        """The progress shown again while nothing finishes (an embedded model reading its first prompts
        can take minutes): the elapsed time moves and a log gets its line every `--progress-every`."""
        while self.progress is not None:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.report()

    async def admit(self, rec: PromptRecord, position: int) -> list[WorkItem]:
        """The work items of `rec` not made before: one, or `pairs_per_prompt` with ids `<id>#<k>`
        and consecutive label positions; none when it is a repeat or too long."""
        if rec.id in self.seen:
            self.stats.duplicate_ids += 1
            self.prompts_skipped += 1
            return []
        self.seen.add(rec.id)
        try:
            k_max = self.method.items_for(rec, self.options.pairs_per_prompt)
        except InputError as e:
            await self.drain(0)
            self.input_error(e)
            return []
        ids = item_ids(rec.id, k_max)
        todo = [(k, i) for k, i in enumerate(ids) if i not in self.options.done_ids]
        self.stats.skipped_done += len(ids) - len(todo)
        if not todo:
            self.prompts_skipped += 1
            return []
        too_long = context_overflow(self.method, self.llm, rec)
        if too_long:
            await self.drain(0)
            self.input_error(too_long)
            return []
        return [WorkItem(record=rec if k_max == 1 else replace(rec, id=i), index=position * k_max + k,
                         seed=self.options.seed, k=k) for k, i in todo]

    async def process(self, item: WorkItem, prompt_id: str) -> None:
        record = item.record
        try:
            pair = await self.method.make_pair(item, self.llm)
        except PairFailure as e:
            self.on_failure(Failure(id=record.id, stage=e.stage, reason=e.reason, method=self.method.name,
                                    source=record.source, line=record.line, retryable=e.retryable,
                                    usage=item.usage, detail=e.detail))
            self.stats.failures += 1
            if e.retryable:
                self.last_backend_error = e.reason
            if self.budget.record(e.retryable) and self.stats.stopped_early is None:
                self.stats.stopped_early = (
                    f"stopped early: more than {self.budget.threshold:.0%} of the last "
                    f"{len(self.budget.recent)} prompts failed at the backend "
                    f"(last: {self.last_backend_error}); rerun the same command to resume")
        else:
            if self.repeats_a_sibling(pair):
                self.on_failure(Failure(id=record.id, stage="pair", reason="the same pair as another of this prompt",
                                        method=self.method.name, source=record.source, line=record.line,
                                        usage=item.usage))
                self.stats.failures += 1
            else:
                self.on_pair(pair)
                self.stats.pairs += 1
            self.budget.record(False)
        self.stats.usage.add(item.usage)
        self.items_left[prompt_id] -= 1
        if not self.items_left[prompt_id]:
            del self.items_left[prompt_id]
            self.prompts_done += 1
        self.report()

    def repeats_a_sibling(self, pair: Pair) -> bool:
        """With several pairs per prompt: whether another pair of the same prompt has the same texts."""
        if self.options.pairs_per_prompt == 1:
            return False
        key = (normalise(pair.chosen), normalise(pair.rejected))
        made = self.options.made_pairs.setdefault(pair.id.rsplit("#", 1)[0], set())
        if key in made:
            return True
        made.add(key)
        return False

    async def drain(self, until: int) -> None:
        while len(self.pending) > until:
            finished, _ = await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                self.pending.discard(task)
                task.result()  # a bug in a method surfaces here instead of vanishing

    async def cancel_pending(self) -> None:
        for task in self.pending:
            task.cancel()
        await asyncio.gather(*self.pending, return_exceptions=True)
        self.pending.clear()

    def input_error(self, err: InputError) -> None:
        if self.options.on_error != "skip":
            raise err
        failure_id = f"{err.source}:{err.line}"
        if failure_id in self.options.done_ids:  # recorded by an earlier run
            self.stats.skipped_done += 1
            return
        self.stats.input_errors += 1
        self.stats.failures += 1
        self.on_failure(Failure(id=failure_id, stage="input", reason=str(err), source=err.source, line=err.line))

    def report(self, final: bool = False) -> None:
        if self.progress is None:
            return
        totals, s = self.llm.totals, self.stats
        self.progress.update(self.prompts_done, self.prompts_skipped, s.pairs, s.failures,
                             totals.prompt_tokens + totals.completion_tokens, self.llm.billed)
        if final:
            self.progress.close()


async def run_method(method: Method, llm: LLM, records: RecordStream, on_pair: PairSink, on_failure: FailureSink,
                     *, progress: Progress | None = None, error_budget: ErrorBudget | None = None,
                     **options: object) -> EngineStats:
    """Run `method` over `records`; `options` are `EngineOptions` fields."""
    opts = EngineOptions(**options)  # type: ignore[arg-type]
    return await Engine(method, llm, on_pair, on_failure, opts, progress, error_budget).run(records)


def take_until(records: RecordStream,
               stop: Callable[[], bool]) -> Iterator[PromptRecord | tuple[int, PromptRecord] | InputError]:
    """`records` until `stop()`, asked before each one, says so: a run with a time budget takes no new
    prompt after it, and the engine finishes those in flight."""
    for rec in records:
        if stop():
            return
        yield rec


def item_ids(prompt_id: str, k_max: int) -> list[str]:
    """The work-item ids of a prompt that becomes `k_max` items: its own id for one, `<id>#<k>` for more."""
    return [prompt_id] if k_max == 1 else [f"{prompt_id}#{k}" for k in range(k_max)]


def context_overflow(method: Method, llm: LLM, record: PromptRecord) -> InputError | None:
    """An `InputError` when the prompt cannot fit the model's context with room for an answer."""
    limit = llm.context_length
    if not limit:
        return None
    n = llm.count_tokens(method.policy_messages(record))
    if n is None or n + method.sampling.max_tokens <= limit:
        return None
    field_name = "context" if record.context else "prompt"
    return InputError(record.source, record.line, field_name,
                      f"the prompt takes {n} tokens; with {method.sampling.max_tokens} for the answer it "
                      f"exceeds the model's context of {limit} tokens")
