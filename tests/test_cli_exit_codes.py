"""The exit codes, through the real CLI, each from a run that ends that way, and the table of them
in `rmboost --help` and the README: 0 done, 1 a bug (a traceback), 2 usage, 3 bad input, 4 stopped
early, 5 output locked, 130 interrupted. Also `rmboost --version`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import REPO, write_jsonl
from rmboost.backends.base import Backend, BackendError, ChatRequest, Completion
from rmboost.cli import main
from rmboost.io.output import WriterLock, output_paths

CODES = {0: "done", 1: "unexpected error", 2: "usage", 3: "bad input", 4: "stopped early", 5: "output locked",
         130: "interrupted"}


class AlwaysDown(Backend):
    """Every call fails as a server that is down does (retryable), so the error budget stops the run."""

    name = "down"

    def __init__(self, model: str = "down") -> None:
        self.model = model

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        raise BackendError("HTTP 503: down", retryable=True)


class Interrupted(AlwaysDown):
    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        raise KeyboardInterrupt


class Broken(AlwaysDown):
    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        raise RuntimeError("a bug in a backend")


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(30)])


def generate(prompts: Path, *extra: str) -> list[str]:
    return ["generate", "--input", str(prompts), "--output", str(prompts.parent / "out.jsonl"), "--quiet", *extra]


def test_help_and_readme_list_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    readme = (REPO / "README.md").read_text()
    for code, meaning in CODES.items():
        assert re.search(rf"^\s+{code}\s+{meaning}", shown, re.MULTILINE), (code, shown)
        assert re.search(rf"^\| `{code}` \| {meaning}", readme, re.MULTILINE | re.IGNORECASE), code


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"rmboost {version('rmboost')}"


@pytest.mark.parametrize("argv", [["generate", "--bogus"], ["generate", "--method", "nope", "--input", "a",
                                                             "--output", "b"], ["frobnicate"], []])
def test_argparse_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2 and "usage:" in capsys.readouterr().err


def test_done_is_0_bad_input_is_3_and_a_usage_error_is_2(
        prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(generate(prompts, "--backend", "fake", "--limit", "2")) == 0
    assert main(generate(prompts.parent / "missing.jsonl", "--backend", "fake")) == 3
    assert main(generate(prompts, "--backend", "fake", "--n", "9")) == 2
    err = capsys.readouterr().err
    assert "missing.jsonl: no such file" in err and "--n applies to" in err


def test_a_backend_that_keeps_failing_stops_the_run_with_4(prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(generate(prompts, "--backend", "test_cli_exit_codes:AlwaysDown", "--concurrency", "1"))
    err = capsys.readouterr().err
    assert code == 4 and "stopped early" in err and "rerun the same command to resume" in err


def test_an_output_locked_by_another_run_is_5(prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with WriterLock(output_paths(prompts.parent / "out.jsonl")["lock"]):
        code = main(generate(prompts, "--backend", "fake"))
    assert code == 5 and "another rmboost run is writing this output" in capsys.readouterr().err


def test_an_interrupted_run_is_130(prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(generate(prompts, "--backend", "test_cli_exit_codes:Interrupted"))
    assert code == 130 and "interrupted; rerun the same command to resume" in capsys.readouterr().err


def test_a_bug_is_a_traceback_and_exit_1(prompts: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")])}
    done = subprocess.run([sys.executable, "-m", "rmboost.cli", *generate(prompts, "--backend",
                                                                          "test_cli_exit_codes:Broken")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" in done.stderr and "a bug in a backend" in done.stderr
