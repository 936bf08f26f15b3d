"""`generate`: turn a prompt file into a pair file with one method and one backend.

This wires files to the engine: it takes the writer lock, repairs a torn tail, reads which ids a
previous run finished, drops transient failures so they are tried again, builds the backend, the
cache and the method from a `GenerateConfig`, runs the engine and writes the run summary.
`generate()` is the sync wrapper of `agenerate()`; the CLI calls the former. With `engine="ray"`
the same run is sharded over a Ray cluster by `ray_engine.py`, which reuses `write_pairs` per shard.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rmboost.backends import Backend, BackendError, create_backend
from rmboost.engine import EarlyStop, EngineStats, run_method
from rmboost.errors import InputError, UserError
from rmboost.generate_config import GenerateConfig
from rmboost.llm import LLM
from rmboost.methods import Method, SamplingConfig, create_method
from rmboost.pair_writer import (
    JsonlAppender,
    WriterLock,
    finished_ids,
    iter_jsonl,
    output_paths,
    repair_torn_tail,
    write_parquet,
)
from rmboost.progress import Progress
from rmboost.prompt_reader import read_prompts
from rmboost.records import PromptRecord
from rmboost.request_cache import RequestCache, default_cache_dir
from rmboost.tasks import load_task


@dataclass
class RunSummary:
    output: str
    failures_file: str
    pairs: int
    failures: int
    skipped_done: int
    input_errors: int
    duplicate_ids: int
    calls_sent: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    wall_seconds: float
    pairs_in_output: int
    stopped_early: str | None = None
    method_stats: dict[str, Any] = field(default_factory=dict)

    def per_pair(self) -> dict[str, float]:
        n = max(self.pairs, 1)
        calls = self.calls_sent + self.cache_hits
        return {"calls": calls / n, "prompt_tokens": self.prompt_tokens / n,
                "completion_tokens": self.completion_tokens / n}

    def text(self) -> str:
        p = self.per_pair()
        lines = [
            f"pairs: {self.pairs} new ({self.pairs_in_output} in {self.output}), "
            f"failures: {self.failures} (see {self.failures_file})",
            f"skipped (done before): {self.skipped_done}, input errors: {self.input_errors}, "
            f"duplicate ids: {self.duplicate_ids}",
            f"LLM calls: {self.calls_sent} sent, {self.cache_hits} from cache; "
            f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion",
            f"per pair: {p['calls']:.2f} calls, {p['prompt_tokens']:.0f} prompt + "
            f"{p['completion_tokens']:.0f} completion tokens",
            f"wall time: {self.wall_seconds:.1f}s",
        ]
        if self.method_stats:
            lines.append("method: " + method_stats_text(self.method_stats))
        if self.stopped_early:
            lines.append(self.stopped_early)
        return "\n".join(lines)


def method_stats_text(stats: dict[str, Any]) -> str:
    """`judged=30, disagreement_rate=1.000`: a method's run statistics on one line."""
    return ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items())


def parse_backend_args(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--backend-arg {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def build_backend(config: GenerateConfig) -> Backend:
    options: dict[str, Any] = parse_backend_args(config.backend_arg)
    if config.model:
        options["model"] = config.model
    if config.base_url:
        options["base_url"] = config.base_url
    if config.backend == "llamacpp":
        # One KV sequence per request in flight: a single-stream run gets a one-sequence context,
        # which decodes faster than a batching context used by one request (docs/PERFORMANCE.md).
        options.setdefault("n_seq", config.concurrency)
    return create_backend(config.backend, **options)


def drop_retryable_failures(path: Path) -> int:
    """Rewrite the failures file without transient failures, so those prompts are tried again."""
    if not path.exists():
        return 0
    keep, dropped = [], 0
    for _, row in iter_jsonl(path):
        if row.get("retryable"):
            dropped += 1
        else:
            keep.append(row)
    if dropped:
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for row in keep:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    return dropped


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


async def agenerate(config: GenerateConfig, backend: Backend | None = None) -> RunSummary:
    """Run `config`; pass `backend` to use an already built one (tests, notebooks)."""
    if not config.input or not config.output:
        raise UserError("both input and output are required")
    if config.engine == "ray":
        return await asyncio.to_thread(_on_ray, config, backend)
    if config.base_url and "," in config.base_url:
        raise UserError("several --base-url replicas need --engine ray; the local engine talks to one server")
    cache_path = Path(config.cache_dir or default_cache_dir()) / "requests.sqlite" if config.cache else None
    return await write_pairs(config, build_method(config), read_prompts(config.input),
                             output_paths(config.output, config.format), cache_path, backend)


async def write_pairs(
    config: GenerateConfig,
    method: Method,
    records: Iterable[PromptRecord | tuple[int, PromptRecord] | InputError],
    paths: dict[str, Path],
    cache_path: Path | None,
    backend: Backend | None = None,
    close_backend: bool = True,
) -> RunSummary:
    """Run `method` over `records` into the files `paths` names, under the writer lock: the part
    of a run that one shard of the Ray engine repeats. Raises `EarlyStop` after writing the
    summary when the backend kept failing."""
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
        progress = Progress(total=config.limit, enabled=config.progress)
        stats: EngineStats
        try:
            stats = await run_method(
                method, llm, records,
                on_pair=lambda pair: pairs_out.write(pair.to_dict()),
                on_failure=lambda failure: failures_out.write(failure.to_dict()),
                seed=config.seed, concurrency=config.concurrency, limit=config.limit, done_ids=done,
                on_error=config.on_error, progress=progress,
            )
        except EarlyStop as e:
            stats = e.stats
        finally:
            pairs_out.close()
            failures_out.close()
            if close_backend:
                await backend.aclose()
            if cache is not None:
                cache.close()
        in_output = sum(1 for _ in iter_jsonl(paths["journal"]))
        if config.format == "parquet":
            write_parquet(paths["journal"], paths["output"])
        summary = RunSummary(
            output=str(paths["output"]), failures_file=str(paths["failures"]),
            pairs=stats.pairs, failures=stats.failures, skipped_done=stats.skipped_done,
            input_errors=stats.input_errors, duplicate_ids=stats.duplicate_ids,
            calls_sent=stats.usage.calls, cache_hits=stats.usage.cached_calls,
            prompt_tokens=stats.usage.prompt_tokens, completion_tokens=stats.usage.completion_tokens,
            wall_seconds=time.monotonic() - start, pairs_in_output=in_output,
            stopped_early=stats.stopped_early, method_stats=method.run_stats(),
        )
        summary_row = {**asdict(summary), "per_pair": summary.per_pair()}
        paths["summary"].write_text(json.dumps(summary_row, indent=2) + "\n")
    if summary.stopped_early:
        raise EarlyStop(summary.stopped_early, stats)
    return summary


def _on_ray(config: GenerateConfig, backend: Backend | None) -> RunSummary:
    from rmboost.ray_engine import generate_on_ray

    if backend is not None:
        raise UserError("--engine ray builds a backend in every worker; it cannot use one passed in")
    return generate_on_ray(config)


def generate(config: GenerateConfig, backend: Backend | None = None) -> RunSummary:
    if config.engine == "ray":  # in this thread, so that Ctrl-C reaches the Ray driver
        return _on_ray(config, backend)
    return asyncio.run(agenerate(config, backend))
