"""Orchestration against a server: RMBoost pairs/s through rmboost, through the same two-step
generation written with distilabel 1.5, and through a bare async client, side by side.

All three talk to the same loopback stub (`rmboost.testing.fault_server`, no faults) that answers after a fixed
delay, so the server costs nothing and every shortfall is the client's. Runs are interleaved
(bare, rmboost, distilabel, then again in a rotated order) and the medians compared, because the
machine is shared. rmboost runs in-process through `agenerate` with its request cache and output
files on, exactly as the CLI does; the bare client is the `openai` SDK sending the same y1 and y2
requests under a semaphore, with no cache, no files and no parsing: the ideal. distilabel runs in
its own venv (created on first use). Finally the CLI is timed end to end, start-up included.

Left out: fault injection and retries (tests cover those), and servers that do real work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from workloads import REPO, machine, verdict, write_prompts

from rmboost.api import agenerate
from rmboost.generation.config import GenerateConfig
from rmboost.io.prompts import read_prompts
from rmboost.methods import SamplingConfig
from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord
from rmboost.testing.fault_server import running_server

# distilabel 1.5.3 imports `requests` without declaring it (ModuleNotFoundError on import).
DISTILABEL = ("distilabel[openai]==1.5.3", "requests")
DISTILABEL_VENV = Path.home() / ".cache" / "rmboost" / "bench-venvs" / "distilabel"
SAMPLING = SamplingConfig(temperature=0.7, top_p=0.95, max_tokens=384)


def request_plan(path: Path) -> list[dict[str, Any]]:
    """Per prompt: the y1 messages and the y2 rewrite instruction rmboost would send."""
    method = RMBoost(load_task("qa"), SAMPLING)
    plan = []
    for index, rec in enumerate(read_prompts(path)):
        assert isinstance(rec, PromptRecord)
        item = WorkItem(record=rec, index=index, seed=0)
        rewrite = method.rewrite_messages(item, "y1", "BETTER", method.choose_aspects(item))[-1]["content"]
        plan.append({"messages": method.policy_messages(rec), "rewrite": rewrite})
    return plan


async def bare_client(url: str, plan: list[dict[str, Any]], concurrency: int) -> float:
    """The ideal: the same two requests per prompt, straight through the SDK."""
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="not-needed", max_retries=0)
    gate = asyncio.Semaphore(concurrency)
    params = {
        "model": "stub",
        "max_tokens": SAMPLING.max_tokens,
        "temperature": SAMPLING.temperature,
        "top_p": SAMPLING.top_p,
    }

    async def pair(i: int, row: dict[str, Any]) -> None:
        async with gate:
            first = await client.chat.completions.create(messages=row["messages"], seed=i, **params)
            y1 = first.choices[0].message.content or ""
            messages = [
                *row["messages"],
                {"role": "assistant", "content": y1},
                {"role": "user", "content": row["rewrite"]},
            ]
            await client.chat.completions.create(messages=messages, seed=i + 1, **params)

    start = time.perf_counter()
    await asyncio.gather(*(pair(i, row) for i, row in enumerate(plan)))
    seconds = time.perf_counter() - start
    await client.close()
    return seconds


async def rmboost_run(url: str, prompts: Path, n: int, concurrency: int, work: Path, clients: int = 8) -> float:
    config = GenerateConfig(
        backend_arg=[f"clients={clients}"],
        input=str(prompts),
        output=str(work / "pairs.jsonl"),
        backend="openai",
        model="stub",
        base_url=url,
        concurrency=concurrency,
        progress=False,
        cache_dir=str(work / "cache"),
        seed=0,
    )
    start = time.perf_counter()
    summary = await agenerate(config)
    seconds = time.perf_counter() - start
    if summary.pairs != n:
        raise RuntimeError(f"rmboost made {summary.pairs} pairs of {n}: {summary.text()}")
    return seconds


def distilabel_python() -> Path:
    """The distilabel venv's python, creating the venv on first use. Raises with pip's output."""
    python = DISTILABEL_VENV / "bin" / "python"
    if (
        python.exists()
        and subprocess.run(
            [python, "-c", "from distilabel.models import OpenAILLM"], capture_output=True
        ).returncode
        == 0
    ):
        return python
    DISTILABEL_VENV.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(DISTILABEL_VENV)], check=True)
    done = subprocess.run([python, "-m", "pip", "install", "-q", *DISTILABEL], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {DISTILABEL} failed: {done.stderr[-2000:]}")
    return python


def distilabel_run(python: Path, url: str, plan_file: Path, n: int, concurrency: int, work: Path) -> float:
    env = {
        **os.environ,
        "DISTILABEL_CACHE_DIR": str(work / "distilabel-cache"),
        "HF_HUB_OFFLINE": "1",
        "DISTILABEL_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [
            python,
            str(REPO / "benchmarks" / "distilabel_pipeline.py"),
            str(plan_file),
            "--base-url",
            url,
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    )
    if done.returncode != 0:
        raise RuntimeError(f"distilabel pipeline failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["pairs"] != n:
        raise RuntimeError(f"distilabel made {result['pairs']} pairs of {n}")
    return float(result["seconds"])


def cli_run(url: str, prompts: Path, concurrency: int, work: Path) -> float:
    """Wall time of the `rmboost generate` command, interpreter start-up included."""
    cmd = [
        str(Path(sys.executable).with_name("rmboost")),
        "generate",
        "--backend",
        "openai",
        "--base-url",
        url,
        "--model",
        "stub",
        "--input",
        str(prompts),
        "--output",
        str(work / "cli.jsonl"),
        "--concurrency",
        str(concurrency),
        "--no-progress",
    ]
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, capture_output=True, env={**os.environ, "RMBOOST_CACHE_DIR": str(work / "c")}
    )
    return time.perf_counter() - start


def startup_parts() -> str:
    """What the CLI's start-up is made of: `import openai` in a fresh interpreter, and building the
    backend's pool of clients (one and eight)."""
    py = str(Path(sys.executable))
    code = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"
    imports = {m: min(float(subprocess.run([py, "-c", code.format(m=m)], capture_output=True, text=True,
                                           check=True).stdout) for _ in range(3))
               for m in ("openai", "rmboost.cli.generate")}
    from rmboost.backends.openai_backend import OpenAIBackend

    OpenAIBackend(model="stub", base_url="http://127.0.0.1:9/v1", clients=1)  # imports openai first
    built = {}
    for n in (1, 8):
        start = time.perf_counter()
        OpenAIBackend(model="stub", base_url="http://127.0.0.1:9/v1", clients=n)
        built[n] = time.perf_counter() - start
    return (f"start-up parts: import openai {imports['openai']:.2f} s, import rmboost.cli.generate "
            f"{imports['rmboost.cli.generate']:.2f} s, build the backend with 1 client {built[1]:.3f} s, "
            f"with 8 clients {built[8]:.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delays", default="0,0.05", help="stub latencies in seconds, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-distilabel", action="store_true", help="skip the distilabel comparison (CI smoke)"
    )
    parser.add_argument("--cli-prompts", type=int, default=1000)
    parser.add_argument("--cli-delay", type=float, default=0.2)
    parser.add_argument("--cli-concurrency", type=int, default=32)
    parser.add_argument("--cli-only", action="store_true", help="only the CLI measurement")
    parser.add_argument("--smoke", action="store_true", help="tiny CI run: print the figures, judge no target")
    args = parser.parse_args(argv)

    print(f"# bench_orchestration on {machine()}")
    print(
        f"# {args.prompts} QA-Feedback prompts, concurrency {args.concurrency}, "
        f"{args.repeats} interleaved repeats"
    )
    python = None
    if not args.no_distilabel and not args.cli_only:
        try:
            python = distilabel_python()
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print(f"distilabel: not measured: {e}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="rmboost-bench-") as tmp:
        root = Path(tmp)
        prompts = write_prompts(root / "prompts.jsonl", args.prompts)
        plan = request_plan(prompts)
        plan_file = root / "plan.jsonl"
        plan_file.write_text("".join(json.dumps(row) + "\n" for row in plan))
        print(
            "| latency | bare client pairs/s | rmboost pairs/s | rmboost, one client pairs/s | distilabel pairs/s "
            "| rmboost/bare (target >= 0.90) | rmboost/distilabel (target >= 3) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for delay in (float(d) for d in args.delays.split(",") if not args.cli_only):
            times: dict[str, list[float]] = {"bare": [], "rmboost": [], "rmboost-1": [], "distilabel": []}
            with running_server(latency=delay) as url:
                for rep in range(args.repeats):
                    order = list(times)
                    order = order[rep % 4 :] + order[: rep % 4]
                    for name in order:
                        work = Path(tempfile.mkdtemp(dir=root))
                        if name == "bare":
                            times[name].append(asyncio.run(bare_client(url, plan, args.concurrency)))
                        elif name.startswith("rmboost"):
                            clients = 1 if name == "rmboost-1" else 8  # 8: the backend's default pool
                            times[name].append(asyncio.run(
                                rmboost_run(url, prompts, args.prompts, args.concurrency, work, clients)
                            ))
                        elif python is not None:
                            times[name].append(
                                distilabel_run(python, url, plan_file, args.prompts, args.concurrency, work)
                            )
            rate = {k: args.prompts / statistics.median(v) for k, v in times.items() if v}
            vs_bare = rate["rmboost"] / rate["bare"]
            failed |= vs_bare < 0.9
            dl = f"{rate['distilabel']:.0f}" if "distilabel" in rate else "not run"
            vs_dl = f"{rate['rmboost'] / rate['distilabel']:.1f}x" if "distilabel" in rate else "not run"
            if "distilabel" in rate:
                failed |= rate["rmboost"] / rate["distilabel"] < 3
            print(
                f"| {delay * 1000:.0f} ms | {rate['bare']:.0f} | {rate['rmboost']:.0f} | "
                f"{rate['rmboost-1']:.0f} | {dl} | "
                f"{vs_bare:.2f} | {vs_dl} |",
                flush=True,
            )

        cli_prompts = write_prompts(root / "cli.jsonl", args.cli_prompts)
        one_prompt = write_prompts(root / "cli1.jsonl", 1)
        with running_server(latency=args.cli_delay) as url:
            wall = cli_run(url, cli_prompts, args.cli_concurrency, Path(tempfile.mkdtemp(dir=root)))
            # The same command on one prompt: its wall time minus the pair's two requests is start-up.
            alone = min(cli_run(url, one_prompt, 1, Path(tempfile.mkdtemp(dir=root))) for _ in range(2))
        ideal = args.cli_concurrency / (2 * args.cli_delay)
        got = args.cli_prompts / wall
        failed |= got < 0.9 * ideal
        startup = max(alone - 2 * args.cli_delay, 0.0)
        steady = args.cli_prompts / max(wall - startup, 1e-9)
        print(
            f"\nCLI, {args.cli_prompts} prompts, {args.cli_delay * 1000:.0f} ms latency, concurrency "
            f"{args.cli_concurrency}, start-up included: {got:.1f} pairs/s in {wall:.2f} s; ideal "
            f"concurrency/(2 x latency) = {ideal:.0f} pairs/s; ratio {got / ideal:.2f} (target >= 0.90)"
        )
        print(
            f"CLI start-up: one prompt took {alone:.2f} s, so start-up is {startup:.2f} s; without it the run "
            f"makes {steady:.1f} pairs/s, ratio {steady / ideal:.2f}"
        )
        print(startup_parts())
    print(verdict(not failed, args.smoke))
    return 0


if __name__ == "__main__":
    sys.exit(main())
