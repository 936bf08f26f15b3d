"""Scale: RMBoost on the fake backend over a small and a large prompt file (1,000 against 100,000 by
default). Wall time should grow linearly and peak memory stay flat, which needs streaming input
and output, no whole-file loads and a request cache that does not slow down as it grows.

Each size runs in a fresh child process, so its peak RSS (`ru_maxrss` from `wait4`) is its own;
the child writes its prompt file first and times only `agenerate` (request cache and JSONL output
on, as the CLI runs). The large run also reports its pairs/s over each tenth of its output, from
the file's growth, to show a slowdown that a total could hide. The fake backend's
`history` (test scaffolding) is cut to the last request. Left out: real backends (bench_orchestration, bench_llamacpp).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from workloads import machine, verdict, write_prompts


def child(n: int, work: Path, concurrency: int) -> None:
    from rmboost.api import agenerate
    from rmboost.backends.fake import FakeBackend
    from rmboost.generation.config import GenerateConfig

    prompts = write_prompts(work / "prompts.jsonl", n, short=True)
    out = work / "pairs.jsonl"
    backend = FakeBackend(keep_history=1)
    config = GenerateConfig(
        input=str(prompts),
        output=str(out),
        backend="fake",
        concurrency=concurrency,
        progress=False,
        cache_dir=str(work / "cache"),
        seed=0,
    )
    marks: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:  # output size over time, for the first-tenth / last-tenth rates
        while not stop.wait(0.2):
            marks.append((time.perf_counter(), out.stat().st_size if out.exists() else 0))

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    summary = asyncio.run(agenerate(config, backend=backend))
    seconds = time.perf_counter() - start
    stop.set()
    size = out.stat().st_size
    marks = [(t - start, s) for t, s in marks] + [(seconds, size)]

    def rate(lo: float, hi: float) -> float:  # pairs/s while the output grew from lo to hi of its size
        t0 = next(t for t, s in marks if s >= lo * size)
        t1 = next(t for t, s in marks if s >= hi * size)
        return (hi - lo) * summary.pairs / max(t1 - t0, 1e-9)

    tenths = [round(rate(k / 10, (k + 1) / 10)) for k in range(10)] if n >= 10_000 else None
    print(
        json.dumps(
            {"pairs": summary.pairs, "failures": summary.failures, "seconds": seconds, "tenths": tenths}
        )
    )


def run_child(n: int, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="rmboost-scale-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(n), "--work", tmp, "--concurrency", str(concurrency)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"child for {n} prompts failed with {proc.returncode}")
        result = json.loads(out.strip().splitlines()[-1])
        result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="tiny CI run: print the figures, judge no target")
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.work, args.concurrency)
        return 0

    print(f"# bench_scale on {machine()}")
    print(f"# RMBoost, fake backend, concurrency {args.concurrency}, request cache and JSONL output on")
    # The small run goes before and after the large one, and their mean is the reference, so that a
    # change in the machine's load during the long run does not pass for (non)linearity.
    before, large, after = (run_child(n, args.concurrency) for n in (args.small, args.large, args.small))
    small = {
        **before,
        "seconds": (before["seconds"] + after["seconds"]) / 2,
        "peak_rss_mb": max(before["peak_rss_mb"], after["peak_rss_mb"]),
    }
    for r, n in ((small, args.small), (large, args.large)):
        if r["pairs"] + r["failures"] != n:
            raise RuntimeError(f"{n} prompts gave {r['pairs']} pairs and {r['failures']} failures")
    print(
        "| prompts | pairs | failures | seconds | prompts/s | peak RSS MB |\n"
        "| --- | --- | --- | --- | --- | --- |"
    )
    for r, n in ((small, args.small), (large, args.large)):
        print(
            f"| {n:,} | {r['pairs']:,} | {r['failures']:,} | {r['seconds']:.2f} | {n / r['seconds']:.0f} "
            f"| {r['peak_rss_mb']:.0f} |"
        )
    growth = (large["seconds"] / args.large) / (small["seconds"] / args.small)
    rss_limit = small["peak_rss_mb"] * 1.1 + 50
    print(f"time per prompt, large/small: {growth:.2f} (target <= 1.20)")
    if large["tenths"]:
        tenths = large["tenths"]
        print(
            f"large run, pairs/s in each tenth of its output: {', '.join(map(str, tenths))} "
            f"(last/first {tenths[-1] / tenths[0]:.2f})"
        )
    print(
        f"peak RSS: {large['peak_rss_mb']:.0f} MB against a limit of {rss_limit:.0f} MB "
        "(small run + 10% + 50 MB)"
    )
    met = growth <= 1.2 and large["peak_rss_mb"] <= rss_limit
    print(verdict(met, args.smoke))
    return 0


if __name__ == "__main__":
    sys.exit(main())
