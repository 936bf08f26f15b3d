"""One generation run into one output: the part of `rmboost generate` that the local run is and
that each shard of the Ray engine repeats.

`write_pairs` takes the writer lock, repairs a torn tail, reads which ids a previous run finished,
drops transient failures so they are tried again, runs the engine with a backend, the request
cache and a method built from a `GenerateConfig`, and writes the run summary, which it returns.
A run that stopped early returns too, with `stopped_early` set; raising is the caller's choice
(`rmboost.api`). Choosing between the local and the Ray run is `rmboost.api`'s job, not this one's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rmboost.backends import Backend, BackendError, backend_class, create_backend
from rmboost.errors import InputError, UsageError, UserError
from rmboost.generation.config import GenerateConfig
from rmboost.generation.engine import run_method
from rmboost.generation.progress import Progress
from rmboost.generation.summary import RunSummary
from rmboost.io.output import (
    WriterLock,
    drop_retryable_failures,
    finished_ids,
    journal_to_parquet,
    output_paths,
    read_output_rows,
)
from rmboost.io.prompts import read_prompts
from rmboost.io.rows import JsonlAppender, repair_torn_tail
from rmboost.llm import LLM
from rmboost.llm.cache import RequestCache, default_cache_dir
from rmboost.methods import Method, SamplingConfig, create_method
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord


def parse_backend_args(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--backend-arg {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def build_backend(config: GenerateConfig) -> Backend:
    cls = backend_class(config.backend)
    options: dict[str, Any] = parse_backend_args(config.backend_arg)
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
    )


async def write_pairs(
    config: GenerateConfig,
    method: Method,
    records: Iterable[PromptRecord | tuple[int, PromptRecord] | InputError],
    paths: dict[str, Path],
    cache_path: Path | None,
    backend: Backend | None = None,
    close_backend: bool = True,
) -> RunSummary:
    """Run `method` over `records` into the files `paths` names, under the writer lock."""
    start = time.monotonic()
    with WriterLock(paths["lock"]):
        for p in (paths["journal"], paths["failures"]):
            repair_torn_tail(p)
        drop_retryable_failures(paths["failures"])
        done = finished_ids(paths["journal"], paths["failures"])
        backend = backend or build_backend(config)
        try:
            await backend.start()
        except BackendError as e:
            raise UserError(f"backend {backend.name} is not ready: {e}") from e
        cache = RequestCache(cache_path) if cache_path is not None else None
        llm = LLM(backend, cache, max_parallel=config.concurrency)
        pairs_out, failures_out = JsonlAppender(paths["journal"]), JsonlAppender(paths["failures"])
        try:
            stats = await run_method(
                method, llm, records,
                on_pair=lambda pair: pairs_out.write(pair.to_dict()),
                on_failure=lambda failure: failures_out.write(failure.to_dict()),
                progress=Progress(total=config.limit, enabled=config.progress),
                seed=config.seed, concurrency=config.concurrency, limit=config.limit, done_ids=done,
                on_error=config.on_error,
            )
        finally:
            pairs_out.close()
            failures_out.close()
            if close_backend:
                await backend.aclose()
            if cache is not None:
                cache.close()
        in_output = sum(1 for _ in read_output_rows(paths["journal"]))
        if config.format == "parquet":
            journal_to_parquet(paths["journal"], paths["output"])
        summary = RunSummary(
            output=str(paths["output"]), failures_file=str(paths["failures"]),
            pairs=stats.pairs, failures=stats.failures, skipped_done=stats.skipped_done,
            input_errors=stats.input_errors, duplicate_ids=stats.duplicate_ids,
            calls_sent=stats.usage.calls, cache_hits=stats.usage.cached_calls,
            prompt_tokens=stats.usage.prompt_tokens, completion_tokens=stats.usage.completion_tokens,
            wall_seconds=time.monotonic() - start, pairs_in_output=in_output,
            stopped_early=stats.stopped_early, method_stats=method.run_stats(),
        )
        paths["summary"].write_text(json_text(summary.to_dict()))
    return summary


def json_text(row: dict[str, Any]) -> str:
    return json.dumps(row, indent=2) + "\n"


def cache_file(config: GenerateConfig) -> Path | None:
    return Path(config.cache_dir or default_cache_dir()) / "requests.sqlite" if config.cache else None


async def run_local(config: GenerateConfig, backend: Backend | None = None) -> RunSummary:
    """The whole run in this process: `config`'s prompts into `config.output`."""
    if not config.input or not config.output:
        raise UsageError("both input and output are required")
    if config.base_url and "," in config.base_url:
        raise UsageError("several --base-url replicas need --engine ray; the local engine talks to one server")
    return await write_pairs(config, build_method(config), read_prompts(config.input),
                             output_paths(config.output, config.format), cache_file(config), backend)
