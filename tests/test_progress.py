"""Progress, through the real CLI: a total from the start (the input's valid rows, counted first,
up to --limit), pairs, failures and tokens/s; on a terminal a tqdm bar, otherwise a line on stderr
every --progress-every seconds; nothing with --quiet. And the training display the reward-model
trainers report to (`on_progress(step, total_steps, loss, val_accuracy)`)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, write_jsonl
from rmboost.cli import main
from rmboost.progress_display import TrainingProgress

LINE = re.compile(r"^generate: (\d+)/(\d+) prompts \[[^\]]*<[^\]]*\](.*)$")


def prompts(tmp: Path, n: int = 6, bad: int = 0) -> Path:
    rows: list[object] = [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(n)]
    rows += ['{"prompt": 5}'] * bad
    return write_jsonl(tmp / "in.jsonl", rows)


def progress_lines(err: str) -> list[re.Match[str]]:
    return [m for line in err.splitlines() if (m := LINE.match(line))]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().err


def test_the_log_shows_the_total_from_the_start_and_the_counts(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    err = run(capsys, "generate", "--input", str(prompts(tmp_path, 6, bad=3)), "--output", str(tmp_path / "o.jsonl"),
              "--backend", "fake", "--on-error", "skip", "--progress-every", "0")
    lines = progress_lines(err)
    assert lines[0].group(1, 2) == ("0", "6")  # before any prompt is done, the total of valid rows
    assert lines[-1].group(1, 2) == ("6", "6")
    done = [int(m.group(1)) for m in lines]
    assert done == sorted(done) and len(lines) >= 6
    assert "pairs=6" in lines[-1].group(3) and "failures=3" in lines[-1].group(3) and "tok/s=" in lines[-1].group(3)


def test_the_total_respects_limit_and_counts_prompts_done_before(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    inp, out = prompts(tmp_path, 8), tmp_path / "o.jsonl"
    err = run(capsys, "generate", "--input", str(inp), "--output", str(out), "--backend", "fake", "--limit", "3",
              "--progress-every", "0")
    assert progress_lines(err)[-1].group(1, 2) == ("3", "3")
    err = run(capsys, "generate", "--input", str(inp), "--output", str(out), "--backend", "fake",
              "--progress-every", "0")
    last = progress_lines(err)[-1]
    assert last.group(1, 2) == ("8", "8") and "pairs=5" in last.group(3) and "done before=3" in last.group(3)


def test_with_pairs_per_prompt_a_prompt_is_done_when_its_last_pair_is(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    inp, out = prompts(tmp_path, 6), tmp_path / "o.jsonl"
    err = run(capsys, "generate", "--input", str(inp), "--output", str(out), "--backend", "fake", "--limit", "4",
              "--pairs-per-prompt", "3", "--concurrency", "2", "--progress-every", "0")
    lines = progress_lines(err)
    done = [int(m.group(1)) for m in lines]
    assert done[0] == 0 and done[-1] == 4 and done == sorted(done)  # prompts, never work items
    assert all(m.group(2) == "4" for m in lines) and "pairs=12" in lines[-1].group(3)
    err = run(capsys, "generate", "--input", str(inp), "--output", str(out), "--backend", "fake",
              "--pairs-per-prompt", "3", "--progress-every", "0")
    last = progress_lines(err)[-1]
    assert last.group(1, 2) == ("6", "6") and "pairs=6" in last.group(3) and "done before=4" in last.group(3)


@pytest.mark.parametrize("quiet", [["generate", "--quiet"], ["-q", "generate"], ["generate", "--no-progress"]])
def test_quiet_shows_no_progress_but_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 quiet: list[str]) -> None:
    err = run(capsys, *quiet, "--input", str(prompts(tmp_path)), "--output", str(tmp_path / "o.jsonl"),
              "--backend", "fake", "--progress-every", "0")
    assert not progress_lines(err) and "generate:" not in err and "pairs: 6 new" in err


def test_a_terminal_gets_a_tqdm_bar(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "rmboost.cli", "generate", "--input", str(prompts(tmp_path)),
                             "--output", str(tmp_path / "o.jsonl"), "--backend", "fake"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        try:
            chunk = os.read(master, 4096) if ready else b""
        except OSError:  # the child closed the terminal
            chunk = b""
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    text = seen.decode(errors="replace")
    assert "\r" in text and re.search(r"generate: 100%\|[^|]*\| 6/6", text), text
    assert "pairs=6" in text


def test_training_progress_shows_steps_loss_and_validation_accuracy() -> None:
    stream = io.StringIO()
    show = TrainingProgress("train embed-linear", every=0, stream=stream)
    show(1, 4, 0.91, None)
    show(4, 4, 0.3125, 0.75)
    show.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("train embed-linear: 0/4 steps")
    assert lines[1].startswith("train embed-linear: 1/4 steps") and lines[1].endswith("loss=0.91")
    assert lines[-1].startswith("train embed-linear: 4/4 steps") and "loss=0.3125, val_acc=0.75" in lines[-1]
    quiet = io.StringIO()
    off = TrainingProgress(enabled=False, every=0, stream=quiet)
    off(1, 2, 0.5, 0.5)
    off.close()
    assert quiet.getvalue() == ""


def test_a_slow_first_prompt_is_not_silent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Finding 9 of issue 33: an embedded run spent minutes before its first prompt finished with
    nothing new on screen. Now the progress is shown again while nothing finishes: with a backend
    that takes 3 s a call and a line every second, lines appear before the first prompt is done,
    and their elapsed time moves."""
    err = run(capsys, "generate", "--input", str(prompts(tmp_path, 1)), "--output", str(tmp_path / "o.jsonl"),
              "--backend", "fake", "--backend-arg", "delay=1.5", "--progress-every", "0.5")
    before = [m for m in progress_lines(err) if m.group(1) == "0"]
    assert len(before) >= 3, err
    elapsed = [line.split("[", 1)[1].split("<", 1)[0] for line in err.splitlines()
               if LINE.match(line) and LINE.match(line).group(1) == "0"]  # type: ignore[union-attr]
    assert len(set(elapsed)) >= 2  # the clock moves while nothing is done
