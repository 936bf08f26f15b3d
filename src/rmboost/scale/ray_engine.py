"""`generate --engine ray`: the local engine's run, sharded over a Ray cluster with Ray Data.

The driver cuts the input into shards (`shards.py`), makes one Ray Data row per shard and maps a
`ShardWorker` over the rows with `map_batches`. A worker runs each shard with
`generation.run.write_pairs`, so a shard is a local run in every respect: the same async engine, method
and backend, its own writer lock, torn-tail repair, resume and transient-failure retry, its own
`part-NNNNN.jsonl` + `part-NNNNN.failures.jsonl` + `part-NNNNN.settings.json`, and its own request
cache `part-NNNNN.sqlite` (in `<output>/cache`, or `--cache-dir`). No file is shared between shards,
so there is no central lock. The driver checks the folder's `settings.json` before any shard starts,
so a resume with other settings is refused once, up front. Records keep their global index and
every random choice derives from (seed, id, purpose), so with the same seed the shards hold exactly
the pairs a local run makes.

A backend that loads a model into the worker (vllm: one engine per GPU; llamacpp) runs in a pool of
actors that keep it across shards. A client of a server (openai, fake) is cheap to build, so its
shards run as Ray tasks, whose worker processes Ray reuses from run to run. Shard `s` talks to
replica `s mod len(--base-url list)`, which keeps its cache keys (they include the URL) on a rerun.

Left out: ray.data.llm's processors (they run one call per row; a method is a chain of dependent
calls with a cache and failure records), starting the cluster or the servers (docs/SCALING.md), and
moving files: the input and the output folder must be on storage that every worker can see.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from rmboost.backends import Backend, backend_class
from rmboost.errors import UsageError, UserError
from rmboost.generation.config import GenerateConfig
from rmboost.generation.cost import projected_total
from rmboost.generation.run import build_backend, build_method, check_rows_task, parse_backend_args, write_pairs
from rmboost.generation.settings import check_applicable, row_files, row_settings, settle_settings
from rmboost.generation.summary import RunSummary
from rmboost.io.output import WriterLock, output_paths
from rmboost.io.row_kinds import expect_rows
from rmboost.scale.shards import (
    INPUT_FAILURES,
    ShardPlan,
    ShardReader,
    scan_input,
    settle_shard_size,
    shard_cache,
    shard_output,
    write_input_failures,
)

# The folder's settings file; each shard keeps its own beside its pairs (`part-NNNNN.settings.json`).
SETTINGS = "settings.json"
# A client that mostly waits on a server reserves a quarter of a CPU, so several share one.
WAITING_CPU = 0.25


def import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise UserError('--engine ray needs Ray Data: pip install "ray[data]>=2.60"') from e
    return ray


def replicas(base_url: str | None) -> list[str | None]:
    urls = [u.strip() for u in (base_url or "").split(",") if u.strip()]
    return list(urls) or [None]


def absolute_paths(config: GenerateConfig) -> GenerateConfig:
    """Workers may start in another directory (or on another node): give them absolute paths."""
    def resolve(p: str | None) -> str | None:
        return str(Path(p).resolve()) if p and Path(p).exists() else p

    return dataclasses.replace(config, input=str(Path(config.input).resolve()),
                               output=str(Path(config.output).resolve()), aspects=resolve(config.aspects),
                               template=resolve(config.template),
                               cache_dir=str(Path(config.cache_dir).resolve()) if config.cache_dir else None)


class ShardWorker:
    """Runs whole shards, one Ray Data row (`{"plan": ShardPlan as JSON}`) at a time: as an actor
    for the life of the pool, or once in a task (`run_shard_task`)."""

    def __init__(self, config: GenerateConfig, backend_args: dict[str, str]) -> None:
        self.config = config
        self.backend_args = backend_args  # `config.backend_arg`, parsed once by the driver
        self.urls = replicas(config.base_url)
        self.backends: dict[str | None, Backend] = {}
        # One loop for the actor's life, so clients bound to it can serve every shard.
        self.loop = asyncio.new_event_loop()

    def backend(self, url: str | None) -> Backend:
        if url not in self.backends:
            self.backends[url] = build_backend(dataclasses.replace(self.config, base_url=url), self.backend_args)
        return self.backends[url]

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        return {"result": [json.dumps(self.run_shard(ShardPlan(**json.loads(p)))) for p in batch["plan"]]}

    def run_shard(self, plan: ShardPlan) -> dict[str, Any]:
        shard = plan.shard
        folder = Path(self.config.output)
        paths = output_paths(shard_output(folder, shard, self.config.format), self.config.format)
        reader = ShardReader(self.config.input, plan)
        cache_root = Path(self.config.cache_dir) if self.config.cache_dir else folder / "cache"
        cache_path = shard_cache(cache_root, shard) if self.config.cache else None
        # The driver applies --limit to the whole input; inside a shard it would count the wrong rows.
        config = dataclasses.replace(self.config, limit=None, progress=False)
        row: dict[str, Any] = {"shard": shard, "worker": f"{socket.gethostname()}:{os.getpid()}",
                               "cross_shard_duplicates": 0, "error": None}
        try:
            backend = self.backend(self.urls[shard % len(self.urls)])
            summary = self.loop.run_until_complete(
                # A method per shard: some count things (RLAIF's disagreements) for the shard's summary.
                write_pairs(config, build_method(config), reader, paths, cache_path, backend,
                            close_backend=False, backend_args=self.backend_args))
        except UserError as e:  # a bad row in fail mode, a locked shard, a missing dependency
            return {**row, "error": f"{paths['output'].name}: {e}"}
        row.update(summary.to_dict(), cross_shard_duplicates=plan.repeats)
        return row

    def close(self) -> None:
        for backend in self.backends.values():
            self.loop.run_until_complete(backend.aclose())
        self.loop.close()


def run_shard_task(batch: dict[str, Any], config: GenerateConfig, backend_args: dict[str, str]) -> dict[str, list[str]]:
    """A shard (or a batch of them) as a Ray task, with a worker built and closed around it."""
    worker = ShardWorker(config, backend_args)
    try:
        return worker(batch)
    finally:
        worker.close()


def worker_plan(config: GenerateConfig, ray: Any, shards: int,
                backend_args: dict[str, str]) -> tuple[int, dict[str, float]]:
    """How many shards run at once, and what each worker reserves."""
    cluster = ray.cluster_resources()
    caps = backend_class(config.backend).capabilities
    if caps.gpu:
        gpus = float(backend_args.get("tensor_parallel_size", 1))
        default = int(cluster.get("GPU", 0) // gpus)
        if not default and not config.workers:
            raise UsageError(f"--backend {config.backend} on Ray needs GPUs, and ray.cluster_resources() "
                             "lists none")
        resources = {"num_gpus": gpus, "num_cpus": 1.0}
    elif caps.in_process:
        default, resources = int(cluster.get("CPU", 1)), {"num_cpus": 1.0}
    elif caps.server:
        default, resources = len(replicas(config.base_url)), {"num_cpus": WAITING_CPU}
    else:
        default, resources = int(cluster.get("CPU", 1)), {"num_cpus": WAITING_CPU}
    return max(1, min(config.workers or default, shards)), resources


def run_shards(ray: Any, config: GenerateConfig, plans: list[ShardPlan],
               backend_args: dict[str, str]) -> list[dict[str, Any]]:
    workers, resources = worker_plan(config, ray, len(plans), backend_args)
    ray.data.DataContext.get_current().enable_progress_bars = config.progress
    rows = ray.data.from_items([{"plan": json.dumps(dataclasses.asdict(p))} for p in plans],
                               override_num_blocks=len(plans))
    args = {"config": config, "backend_args": backend_args}
    if backend_class(config.backend).capabilities.in_process:
        results = rows.map_batches(ShardWorker, fn_constructor_kwargs=args, batch_size=1,
                                   compute=ray.data.ActorPoolStrategy(size=workers), **resources)
    else:
        results = rows.map_batches(run_shard_task, fn_kwargs=args, batch_size=1,
                                   compute=ray.data.TaskPoolStrategy(size=workers), **resources)
    return sorted((json.loads(r["result"]) for r in results.take_all()), key=lambda r: r["shard"])


def run_on_ray(config: GenerateConfig) -> RunSummary:
    """Run `config` sharded over Ray; the output is a folder of shards plus `summary.json`. A run
    whose shards stopped early returns with `stopped_early` set."""
    if not config.input or not config.output:
        raise UsageError("both input and output are required")
    check_applicable(config)
    # The same input checks as a local run, before Ray starts: prompt rows, of the run's task.
    expect_rows(config.input, ("prompts",), "rmboost generate --input")
    check_rows_task(config)
    backend_args = parse_backend_args(config.backend_arg)  # once for the run; the shards get the mapping
    ray = import_ray()
    config = absolute_paths(config)
    folder = Path(config.output)
    if folder.suffix in (".jsonl", ".parquet", ".json") or folder.is_file():
        raise UsageError(f"{folder}: --engine ray writes a folder of shards; give --output a folder name")
    start = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    with WriterLock(folder / "run.lock"):
        shard_size = settle_shard_size(folder, config.shard_size, config.format)
        # Checked here once, before any shard starts; each shard checks its own file too, with the
        # model its backend serves.
        settings_hash = settle_settings(folder / SETTINGS, folder, None,
                                        row_settings(config, backend_args),
                                        row_files(config), config.append)
        scan = scan_input(config.input, config.limit, config.on_error, shard_size)
        if config.on_error == "skip":
            write_input_failures(folder, scan.errors)
        rows: list[dict[str, Any]] = []
        if scan.plans:
            started_here = not ray.is_initialized()
            if started_here:
                ray.init(address=config.ray_address, logging_level=logging.WARNING)
            try:
                rows = run_shards(ray, config, scan.plans, backend_args)
            finally:
                if started_here:
                    ray.shutdown()
        summary = combine(folder, rows, len(scan.errors), time.monotonic() - start)
        summary.settings, summary.prompts_total = settings_hash, scan.records
        summary.projected_cost_usd = projected_cost(summary)
        report = {**summary.to_dict(), "shard_size": shard_size, "shards": rows}
        (folder / "summary.json").write_text(json.dumps(report, indent=2) + "\n")
    errors = [r["error"] for r in rows if r["error"]]
    if errors:
        raise UserError(f"{len(errors)} of {len(rows)} shards failed (rerun to resume them); "
                        f"first: {errors[0]}")
    return summary


def combine(folder: Path, rows: list[dict[str, Any]], input_errors: int, wall: float) -> RunSummary:
    """The whole run's summary: the shards' counts added up, plus the bad rows the driver found."""
    done = [r for r in rows if not r["error"]]

    def total(key: str) -> int:
        return sum(int(r[key]) for r in done)

    stopped = next((f"part-{r['shard']:05d}: {r['stopped_early']}" for r in done if r["stopped_early"]), None)
    costs = [float(r["cost_usd"]) for r in done if r.get("cost_usd") is not None]
    return RunSummary(
        output=str(folder), failures_file=str(folder / "part-*.failures.jsonl") + f" and {INPUT_FAILURES}",
        pairs=total("pairs"), failures=total("failures") + input_errors, skipped_done=total("skipped_done"),
        input_errors=total("input_errors") + input_errors,
        duplicate_ids=total("duplicate_ids") + total("cross_shard_duplicates"),
        calls_sent=total("calls_sent"), cache_hits=total("cache_hits"), prompt_tokens=total("prompt_tokens"),
        completion_tokens=total("completion_tokens"), wall_seconds=wall,
        pairs_in_output=total("pairs_in_output"), stopped_early=stopped,
        method_stats=added_counts([r.get("method_stats") or {} for r in done]),
        billed_prompt_tokens=total("billed_prompt_tokens"), billed_completion_tokens=total("billed_completion_tokens"),
        cost_usd=sum(costs) if costs else None,
    )


def projected_cost(summary: RunSummary) -> float | None:
    if summary.cost_usd is None or summary.prompts_total is None:
        return None
    processed = summary.pairs + summary.failures
    left = summary.prompts_total - processed - summary.skipped_done - summary.duplicate_ids
    return projected_total(summary.cost_usd, processed, left)


def added_counts(stats: list[dict[str, Any]]) -> dict[str, int]:
    """The method facts that are counts in every shard, added up; rates and the like stay per shard
    (in summary.json's `shards`), since they cannot be added."""
    keys = {k for s in stats for k in s}
    counts = {k for k in keys if all(isinstance(s.get(k, 0), int) and not isinstance(s.get(k), bool)
                                     for s in stats)}
    return {k: sum(int(s.get(k, 0)) for s in stats) for k in sorted(counts)}
