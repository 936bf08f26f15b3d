"""One generation run into one output: the part of `rmboost generate` that the local run is and
that each shard of the Ray engine repeats.

`write_pairs` takes the writer lock, repairs a torn tail, starts the backend, refuses an output made
with other settings (`settings.py`), reads which ids a previous run finished, drops transient
failures so they are tried again, runs the engine with the backend, the request cache and a method
built from a `GenerateConfig` (which first refuses options that do not apply), and writes the run
summary, with its cost when prices are given, which it returns.
A run that stopped early returns too, with `stopped_early` set; raising is the caller's choice
(`rmboost.api`). Choosing between the local and the Ray run is `rmboost.api`'s job, not this one's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rmboost.backends import Backend, BackendError, backend_class, create_backend
from rmboost.errors import InputError, UsageError, UserError
from rmboost.generation.config import GenerateConfig
from rmboost.generation.cost import Prices, projected_total, resolve_prices
from rmboost.generation.engine import EngineStats, run_method, take_until
from rmboost.generation.progress import Progress, count_prompts
from rmboost.generation.settings import check_applicable, row_files, row_settings, settle_settings
from rmboost.generation.summary import RunSummary
from rmboost.io.output import (
    WriterLock,
    check_output,
    drop_retryable_failures,
    finished_ids,
    journal_to_parquet,
    output_paths,
    read_output_rows,
)
from rmboost.io.prompts import read_prompts
from rmboost.io.row_kinds import expect_rows
from rmboost.io.rows import JsonlAppender, iter_rows, repair_torn_tail, require_rows
from rmboost.llm import LLM
from rmboost.llm.cache import RequestCache, default_cache_dir
from rmboost.methods import Method, SamplingConfig, create_method
from rmboost.methods.checks import normalise
from rmboost.prompts.tasks import BUILTIN_TASKS, load_task
from rmboost.records import PromptRecord, Usage


def parse_backend_args(items: list[str]) -> dict[str, str]:
    """`--backend-arg KEY=VALUE ...` as a mapping. A run parses them once, where it starts
    (`run_local`, `scale.ray_engine.run_on_ray`), and passes the mapping down."""
    out = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--backend-arg {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def build_backend(config: GenerateConfig, backend_args: dict[str, str] | None = None) -> Backend:
    """The backend `config` names, with `backend_args` (`config.backend_arg` parsed, when not given)."""
    cls = backend_class(config.backend)
    options: dict[str, Any] = dict(parse_backend_args(config.backend_arg) if backend_args is None else backend_args)
    if config.model:
        options["model"] = config.model
    if config.base_url:
        if not cls.capabilities.server:
            raise UsageError(f"--base-url does not apply to --backend {config.backend}: only a backend that "
                             "talks to a server (openai) takes a URL")
        options["base_url"] = config.base_url
    if cls.capabilities.concurrency_option:
        # e.g. llamacpp's n_seq, one KV sequence per request in flight: a single-stream run gets a
        # one-sequence context, which decodes faster than a batching context used by one request.
        options.setdefault(cls.capabilities.concurrency_option, config.concurrency)
    return create_backend(config.backend, **options)


def build_method(config: GenerateConfig) -> Method:
    check_applicable(config)
    for name in ("attempts", "pairs_per_prompt"):
        if getattr(config, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(config, name)}")
    return create_method(
        config.method,
        task=load_task(config.task, config.aspects),
        sampling=SamplingConfig(config.temperature, config.top_p, config.max_tokens),
        template_file=config.template,
        aspects_per_pair=config.aspects_per_pair,
        length_control=config.length_control,
        verify=config.verify,
        n=config.n,
        scorer=config.scorer,
        keep_disagreements=config.keep_disagreements,
        judge_decision=config.judge_decision,
        seed=config.seed,
        attempts=config.attempts,
    )


async def start_backend(config: GenerateConfig, backend: Backend, paths: dict[str, Path],
                        backend_args: dict[str, str]) -> tuple[str, Prices | None]:
    """Start the backend, then settle the output's settings (the model it serves is one of them) and
    the prices (a price table is looked up by that model). Returns the settings' fingerprint."""
    try:
        await backend.start()
    except BackendError as e:
        raise UserError(f"backend {backend.name} is not ready: {e}") from e
    settings = row_settings(config, backend_args, backend.model)
    settings_hash = settle_settings(paths["settings"], paths["output"], paths["journal"], settings, row_files(config),
                                    config.append)
    return settings_hash, resolve_prices(config.price_in, config.price_out, config.prices, backend.model)


async def write_pairs(
    config: GenerateConfig,
    method: Method,
    records: Iterable[PromptRecord | tuple[int, PromptRecord] | InputError],
    paths: dict[str, Path],
    cache_path: Path | None,
    backend: Backend | None = None,
    close_backend: bool = True,
    total: int | None = None,
    backend_args: dict[str, str] | None = None,
) -> RunSummary:
    """Run `method` over `records` into the files `paths` names, under the writer lock. `total` is
    how many records there are (for the progress and the projected cost), when known;
    `backend_args` is `config.backend_arg` parsed by the caller (parsed here when not given)."""
    start = time.monotonic()
    if backend_args is None:
        backend_args = parse_backend_args(config.backend_arg)
    with WriterLock(paths["lock"]):
        for p in (paths["journal"], paths["failures"]):
            repair_torn_tail(p)
        backend = backend or build_backend(config, backend_args)
        cache = None
        try:
            settings_hash, prices = await start_backend(config, backend, paths, backend_args)
            drop_retryable_failures(paths["failures"])
            done = finished_ids(paths["journal"], paths["failures"])
            cache = RequestCache(cache_path) if cache_path is not None else None
            llm = LLM(backend, cache, max_parallel=config.concurrency)
            progress = Progress(total, config.progress, config.progress_every, prices=prices)
            stats = await run_into(config, paths, settings_hash, method, llm, records, progress, done)
        finally:
            if close_backend:
                await backend.aclose()
            if cache is not None:
                cache.close()
        summary = run_summary(config, paths, stats, method, llm.billed, prices, total, time.monotonic() - start)
        summary.settings = settings_hash
        # A run that did nothing (a resume of a finished output) keeps the summary of the run that
        # made the pairs: the dataset card and the report read their calls and tokens from it.
        if not (summary.did_nothing and paths["summary"].exists()):
            paths["summary"].write_text(json_text(summary.to_dict()))
    return summary


async def run_into(config: GenerateConfig, paths: dict[str, Path], settings_hash: str, method: Method, llm: LLM,
                   records: Iterable[PromptRecord | tuple[int, PromptRecord] | InputError], progress: Progress,
                   done: set[str]) -> EngineStats:
    """The engine run, appending each pair (with the settings' fingerprint) and failure as it comes."""
    pairs_out, failures_out = JsonlAppender(paths["journal"]), JsonlAppender(paths["failures"])
    try:
        return await run_method(
            method, llm, records,
            on_pair=lambda pair: pairs_out.write({**pair.to_dict(), "settings": settings_hash}),
            on_failure=lambda failure: failures_out.write(failure.to_dict()),
            progress=progress, seed=config.seed, concurrency=config.concurrency, limit=config.limit,
            done_ids=done, on_error=config.on_error, pairs_per_prompt=config.pairs_per_prompt,
            made_pairs=made_pairs(paths["journal"]) if config.pairs_per_prompt > 1 else {},
        )
    finally:
        pairs_out.close()
        failures_out.close()


def made_pairs(journal: Path) -> dict[str, set[tuple[str, str]]]:
    """prompt id -> the (chosen, rejected) texts of its pairs already in the output (`<id>#<k>` rows)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for _, row in read_output_rows(journal):
        base = str(row["id"]).rsplit("#", 1)[0]
        chosen, rejected = (row.get(k) for k in ("chosen", "rejected"))
        texts = [m[-1]["content"] if isinstance(m, list) and m else m for m in (chosen, rejected)]
        out.setdefault(base, set()).add((normalise(str(texts[0])), normalise(str(texts[1]))))
    return out


def run_summary(config: GenerateConfig, paths: dict[str, Path], stats: EngineStats, method: Method, billed: Usage,
                prices: Prices | None, total: int | None, wall: float) -> RunSummary:
    in_output = sum(1 for _ in read_output_rows(paths["journal"]))
    if config.format == "parquet":
        journal_to_parquet(paths["journal"], paths["output"])
    cost = prices.cost(billed.prompt_tokens, billed.completion_tokens) if prices is not None else None
    processed = stats.pairs + stats.failures
    remaining = None if total is None else total - processed - stats.skipped_done - stats.duplicate_ids
    return RunSummary(
        output=str(paths["output"]), failures_file=str(paths["failures"]),
        pairs=stats.pairs, failures=stats.failures, skipped_done=stats.skipped_done,
        input_errors=stats.input_errors, duplicate_ids=stats.duplicate_ids,
        calls_sent=stats.usage.calls, cache_hits=stats.usage.cached_calls,
        prompt_tokens=stats.usage.prompt_tokens, completion_tokens=stats.usage.completion_tokens,
        wall_seconds=wall, pairs_in_output=in_output,
        stopped_early=stats.stopped_early, method_stats=method.run_stats(), prompts_total=total,
        billed_prompt_tokens=billed.prompt_tokens, billed_completion_tokens=billed.completion_tokens,
        cost_usd=cost,
        projected_cost_usd=None if cost is None or remaining is None else projected_total(cost, processed, remaining),
        input=str(config.input), limit=config.limit,
    )


def json_text(row: dict[str, Any]) -> str:
    return json.dumps(row, indent=2) + "\n"


def rows_task(path: str | Path) -> tuple[str, int] | None:
    """The task the prompt rows name (`task`) and the first line naming it; None when no row names
    one. Rows that name two tasks are a `UsageError`: one run lays every prompt out by one task."""
    found: tuple[str, int] | None = None
    for line, row in iter_rows(path):
        task = row.get("task") if isinstance(row, dict) else None
        if not isinstance(task, str) or not task:
            continue
        if task not in BUILTIN_TASKS:
            raise InputError(str(path), line, "task", f"must be one of {', '.join(BUILTIN_TASKS)}, got {task!r}")
        if found is None:
            found = (task, line)
        elif task != found[0]:
            raise UsageError(f"{path}: rows name two tasks ({found[0]!r} at line {found[1]}, {task!r} at line "
                             f"{line}); one run lays every prompt out by one task: split the file by task")
    return found


def check_rows_task(config: GenerateConfig) -> None:
    """Refuse a run whose task is not the one its rows name (`rmboost generate` without --task takes
    the rows' task): the prompts would be laid out and judged as another task's, in silence."""
    named = rows_task(config.input)
    if named is not None and named[0] != config.task:
        raise UsageError(f"{config.input}:{named[1]}: the rows' task is {named[0]!r} but --task is "
                         f"{config.task!r}; leave out --task to use the rows' task (in Python: "
                         f"GenerateConfig(task={named[0]!r})), or remove `task` from the rows")


def cache_file(config: GenerateConfig) -> Path | None:
    return Path(config.cache_dir or default_cache_dir()) / "requests.sqlite" if config.cache else None


async def run_local(config: GenerateConfig, backend: Backend | None = None,
                    stop: Callable[[], bool] | None = None) -> RunSummary:
    """The whole run in this process: `config`'s prompts into `config.output`; with `stop`, no new
    prompt is taken once it returns True (the experiment's time budget, `engine.take_until`)."""
    if not config.input or not config.output:
        raise UsageError("both input and output are required")
    if config.base_url and "," in config.base_url:
        raise UsageError("several --base-url replicas need --engine ray; the local engine talks to one server")
    method = build_method(config)
    require_rows(config.input, "prompts")
    expect_rows(config.input, ("prompts",), "rmboost generate --input")
    check_rows_task(config)
    check_output(config.output)
    total = count_prompts(config.input, config.limit)
    backend_args = parse_backend_args(config.backend_arg)  # once for the run
    backend = backend or build_backend(config, backend_args)  # before the lock: a refused option leaves no file
    records = read_prompts(config.input)
    return await write_pairs(config, method, records if stop is None else take_until(records, stop),
                             output_paths(config.output, config.format), cache_file(config), backend, total=total,
                             backend_args=backend_args)
