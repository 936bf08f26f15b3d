"""One writer per output: a second run on the same output while the first is alive is refused with
a clear message and writes nothing, and the lock a killed run leaves behind blocks nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.errors import UserError
from rmboost.generation.config import GenerateConfig
from rmboost.io.output import WriterLock, output_paths
from rmboost.testing.fault_server import FaultPlan, FaultServer, generate_argv

PROMPTS = 60


def cli(server: FaultServer, inp: Path, out: Path) -> list[str]:
    return generate_argv(server.url, inp, out)


def test_second_run_is_refused_while_the_first_lives_and_a_killed_run_blocks_nobody(tmp_path: Path) -> None:
    inp = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"p{i}", "prompt": f"Question {i}?"} for i in range(PROMPTS)]
    )
    out = tmp_path / "pairs.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    with FaultServer(FaultPlan(latency=0.05)) as server:
        first = subprocess.Popen(
            cli(server, inp, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while (not out.exists() or out.read_bytes().count(b"\n") < 2) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()[1].decode()
            time.sleep(0.01)
        with FaultServer() as other:  # the refused run gets its own server, to count what it sends
            second = subprocess.run(cli(other, inp, out), env=env, capture_output=True, text=True, timeout=60)
        assert other.requests == 0
        assert first.poll() is None  # the first run was alive throughout
        assert second.returncode == 5 and second.stdout == ""  # exit code 5: output locked
        assert "another rmboost run is writing this output" in second.stderr
        assert "Traceback" not in second.stderr
        assert not (tmp_path / "pairs.summary.json").exists()  # the refused run wrote nothing
        first.send_signal(signal.SIGKILL)
        first.wait()

        assert output_paths(out)["lock"].exists()  # left behind by the killed run
        server.plan = FaultPlan()  # no latency: the rest of the run need not be slow
        third = subprocess.run(cli(server, inp, out), env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stderr
    ids = [r["id"] for r in read_jsonl(out)]
    assert sorted(ids) == sorted(f"p{i}" for i in range(PROMPTS))


def test_outputs_that_share_a_failures_file_share_the_lock(prompts_file: Path, tmp_path: Path) -> None:
    """`pairs.jsonl` and `pairs.parquet` both keep failures in `pairs.failures.jsonl`: one writer."""
    jsonl, parquet = (
        output_paths(tmp_path / "pairs.jsonl"),
        output_paths(tmp_path / "pairs.parquet", "parquet"),
    )
    assert jsonl["failures"] == parquet["failures"]
    with WriterLock(jsonl["lock"]), pytest.raises(UserError, match="another rmboost run"):
        generate(
            GenerateConfig(
                input=str(prompts_file),
                output=str(tmp_path / "pairs.parquet"),
                format="parquet",
                backend="fake",
                progress=False,
            )
        )
