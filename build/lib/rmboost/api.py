"""Where a generation run starts: `generate(config)` runs a `GenerateConfig` in this process
(`generation/run.py`) or sharded over a Ray cluster (`scale/ray_engine.py`), the two ways of
running side by side behind one call, and raises `EarlyStop` once, here, when the backend kept
failing. `rmboost generate` and `from rmboost import generate` both come here.
"""

from __future__ import annotations

import asyncio

from rmboost.backends import Backend
from rmboost.errors import EarlyStop, UsageError
from rmboost.generation.config import GenerateConfig
from rmboost.generation.run import run_local
from rmboost.generation.summary import RunSummary


def _on_ray(config: GenerateConfig, backend: Backend | None) -> RunSummary:
    from rmboost.scale.ray_engine import run_on_ray

    if backend is not None:
        raise UsageError("--engine ray builds a backend in every worker; it cannot use one passed in")
    return run_on_ray(config)


def _checked(summary: RunSummary) -> RunSummary:
    if summary.stopped_early:
        raise EarlyStop(summary.stopped_early, summary)
    return summary


async def agenerate(config: GenerateConfig, backend: Backend | None = None) -> RunSummary:
    """Run `config`; pass `backend` to use an already built one (tests, notebooks)."""
    if config.engine == "ray":
        return _checked(await asyncio.to_thread(_on_ray, config, backend))
    return _checked(await run_local(config, backend))


def generate(config: GenerateConfig, backend: Backend | None = None) -> RunSummary:
    """The sync form of `agenerate`."""
    if config.engine == "ray":  # in this thread, so that Ctrl-C reaches the Ray driver
        return _checked(_on_ray(config, backend))
    return _checked(asyncio.run(run_local(config, backend)))
