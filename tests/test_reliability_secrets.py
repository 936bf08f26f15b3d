"""Secrets: a run with a marked API key (and a marked password in the server URL), against a server
that quotes the Authorization header in its error bodies, writes the key nowhere: not in pairs,
failures, the cache, the summary, the lock, stdout/stderr or the logs (OpenAI client at debug)."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.errors import EarlyStop
from rmboost.generation.config import GenerateConfig
from rmboost.testing.fault_server import FaultPlan, FaultServer, generate_argv


def everything_written(*roots: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file()}


def test_a_marked_key_is_written_nowhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key, password = f"sk-MARKED-{secrets.token_hex(12)}", f"pw-MARKED-{secrets.token_hex(12)}"
    basic = base64.b64encode(f"bob:{password}".encode()).decode()
    marks = [key, password, basic]
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"p{i}", "prompt": f"Question {i}?"} for i in range(40)])
    work, cache_dir = tmp_path / "out", Path(os.environ["RMBOOST_CACHE_DIR"])
    env = {
        **os.environ,
        "OPENAI_API_KEY": key,
        "OPENAI_LOG": "debug",
        "PYTHONPATH": str(Path(__file__).parents[1] / "src"),
    }
    streams: list[str] = []
    with FaultServer(FaultPlan(rates={"503": 0.9}, echo_auth=True)) as server:

        def cli(out: str, *extra: str) -> subprocess.CompletedProcess[str]:
            args = generate_argv(
                server.url, inp, work / out,
                "--backend-arg",
                "backoff_base=0.001",
                "--backend-arg",
                "max_retries=1",
                *extra,
                concurrency=4,  # the CLI's default, as before this helper existed
            )
            done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
            streams.extend([done.stdout, done.stderr])
            return done

        stopped = cli("pairs.jsonl")  # the server keeps failing: an early stop, whose message quotes it
        assert (
            stopped.returncode == 4 and "stopped early" in stopped.stderr and "[redacted]" in stopped.stderr
        )
        server.plan = FaultPlan.uniform(0.3, echo_auth=True, hang=0.5)
        assert cli("pairs.jsonl", "--backend-arg", "timeout=0.3").returncode == 0
        assert cli("pairs.parquet", "--format", "parquet", "--backend-arg", "timeout=0.3").returncode == 0

        # In process, with every logger at debug, a key given in the URL instead.
        caplog.set_level(logging.DEBUG)
        server.plan = FaultPlan(rates={"500": 0.9}, echo_auth=True)
        url = server.url.replace("127.0.0.1", f"bob:{password}@127.0.0.1")
        with pytest.raises(EarlyStop, match=r"\[redacted\]"):
            generate(
                GenerateConfig(
                    input=str(inp),
                    output=str(work / "url.jsonl"),
                    backend="openai",
                    base_url=url,
                    model="fault-model",
                    task="chat",
                    progress=False,
                    cache_dir=str(work / "cache"),  # the answers the CLI runs cached would hide the faults
                    backend_arg=["backoff_base=0.001", "max_retries=1"],
                )
            )

    failures = read_jsonl(work / "pairs.failures.jsonl") + read_jsonl(work / "url.failures.jsonl")
    assert any("[redacted]" in f["reason"] for f in failures)  # the server did quote the secrets
    written = everything_written(work, cache_dir)
    assert {p.name for p in written} >= {
        "pairs.jsonl",
        "pairs.parquet",
        "pairs.summary.json",
        "url.jsonl",
        "pairs.failures.jsonl",
        "url.summary.json",
        "requests.sqlite",
    }
    texts = {
        **{str(p): data for p, data in written.items()},
        "streams": "\n".join(streams).encode(),
        "logs": caplog.text.encode(),
    }
    assert caplog.text and streams[1]
    for name, data in texts.items():
        for mark in marks:
            assert mark.encode() not in data, f"{mark} found in {name}"
