"""`generate` end to end on the fake backend: output format, cache, resume, failures, bad input,
the writer lock, and kill -9 in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.backends.fake import FakeBackend
from rmboost.errors import InputError, UserError
from rmboost.generation.config import GenerateConfig
from rmboost.io.output import WriterLock, output_paths


def config(inp: Path, out: Path, **kw: object) -> GenerateConfig:
    return GenerateConfig(input=str(inp), output=str(out), backend="fake", progress=False, **kw)  # type: ignore[arg-type]


def test_pairs_are_trl_rows_with_metadata(prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    summary = generate(config(prompts_file, out, seed=3))
    rows = read_jsonl(out)
    sources = {r["id"]: r for r in read_jsonl(prompts_file)}
    assert summary.pairs == len(rows) == 20 and summary.failures == 0
    for row in rows:
        assert {"prompt", "chosen", "rejected", "id", "method", "label", "aspects", "model", "backend",
                "params", "usage"} <= row.keys()
        assert row["chosen"] != row["rejected"] and row["method"] == "rmboost" and row["backend"] == "fake"
        # The pair's prompt is what the policy saw: the passages, then the question last.
        source = sources[row["id"]]
        assert row["prompt"].endswith(f"Question: {source['prompt']}") and source["context"] in row["prompt"]
        assert row["usage"]["calls"] == 2 and row["params"]["seed"] == 3
    assert sorted(r["label"] for r in rows).count("BETTER") == 10
    summary_file = json.loads((tmp_path / "pairs.summary.json").read_text())
    assert summary_file["pairs"] == 20 and summary_file["calls_sent"] == 40


def test_rerun_of_finished_job_sends_nothing(prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    first = generate(config(prompts_file, out))
    assert first.calls_sent == 40
    before = out.read_bytes()
    backend = FakeBackend()
    again = generate(config(prompts_file, out), backend=backend)
    assert again.pairs == 0 and again.skipped_done == 20 and not backend.history
    assert out.read_bytes() == before


def test_cache_answers_a_new_output_without_requests(prompts_file: Path, tmp_path: Path) -> None:
    generate(config(prompts_file, tmp_path / "a.jsonl"))
    backend = FakeBackend()
    second = generate(config(prompts_file, tmp_path / "b.jsonl"), backend=backend)
    assert not backend.history and second.cache_hits == 40 and second.calls_sent == 0
    def strip_usage(rows: list[dict]) -> list[dict]:
        return sorted(({k: v for k, v in r.items() if k != "usage"} for r in rows), key=lambda r: r["id"])

    b_rows = read_jsonl(tmp_path / "b.jsonl")
    assert strip_usage(read_jsonl(tmp_path / "a.jsonl")) == strip_usage(b_rows)
    assert all(r["usage"]["cached_calls"] == 2 and r["usage"]["calls"] == 0 for r in b_rows)


def test_resume_after_a_torn_line_makes_each_prompt_once(prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    generate(config(prompts_file, out, limit=8))
    text = out.read_text()
    out.write_text(text + text.splitlines()[0][:30])  # a write cut in the middle
    summary = generate(config(prompts_file, out))
    rows = read_jsonl(out)
    assert sorted(r["id"] for r in rows) == sorted(f"q{i}" for i in range(20))
    assert summary.skipped_done == 8 and summary.pairs == 12


def test_bad_line_fails_naming_it_and_keeps_pairs(tmp_path: Path) -> None:
    rows: list[object] = [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(5)]
    rows.insert(3, '{"id": "bad", "prompt": ""}')
    inp = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "pairs.jsonl"
    with pytest.raises(InputError, match=r"in.jsonl:4: field 'prompt'"):
        generate(config(inp, out, concurrency=2))
    assert sorted(r["id"] for r in read_jsonl(out)) == ["q0", "q1", "q2"]


def test_skip_mode_records_bad_lines_and_goes_on(tmp_path: Path) -> None:
    rows: list[object] = [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(4)]
    rows[1:1] = ["not json", '{"prompt": 3}']
    inp = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "pairs.jsonl"
    summary = generate(config(inp, out, on_error="skip"))
    failures = read_jsonl(tmp_path / "pairs.failures.jsonl")
    assert summary.pairs == 4 and summary.input_errors == 2
    assert [(f["stage"], f["line"]) for f in failures] == [("input", 2), ("input", 3)]
    assert "field 'prompt'" in failures[1]["reason"]
    again = generate(config(inp, out, on_error="skip"))
    assert again.input_errors == 0 and again.skipped_done == 6
    assert len(read_jsonl(tmp_path / "pairs.failures.jsonl")) == 2  # not recorded twice


def test_failed_prompts_go_to_the_failures_file_once(tmp_path: Path) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(6)])
    out = tmp_path / "pairs.jsonl"

    def echo(request):  # type: ignore[no-untyped-def]
        # y2 repeats y1 for odd prompts: a failure, not a pair
        if request.stage == "y1":
            text = str(request.messages)
            return "same answer" if "question 1" in text or "question 3" in text else "an answer"
        return "<response>same answer</response>"

    summary = generate(config(inp, out), backend=FakeBackend(responder=echo))
    failures = read_jsonl(tmp_path / "pairs.failures.jsonl")
    assert summary.pairs == 4 and sorted(f["id"] for f in failures) == ["q1", "q3"]
    assert all(f["stage"] == "y2" and "identical" in f["reason"] for f in failures)
    again = generate(config(inp, out), backend=FakeBackend(responder=echo))
    assert again.skipped_done == 6 and len(read_jsonl(tmp_path / "pairs.failures.jsonl")) == 2


def test_prompt_longer_than_context_is_an_input_error(tmp_path: Path) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "prompt": "short"},
                                              {"id": "b", "prompt": "q", "context": "word " * 500}])
    out = tmp_path / "pairs.jsonl"
    with pytest.raises(InputError, match=r"in.jsonl:2: field 'context'.*context of 300 tokens"):
        generate(config(inp, out, max_tokens=64), backend=FakeBackend(context_length=300))
    assert [r["id"] for r in read_jsonl(out)] == ["a"]


def test_parquet_output_loads_with_datasets(prompts_file: Path, tmp_path: Path) -> None:
    import datasets
    out = tmp_path / "pairs.parquet"
    generate(config(prompts_file, out, format="parquet"))
    ds = datasets.load_dataset("parquet", data_files=str(out), split="train")
    assert len(ds) == 20 and {"prompt", "chosen", "rejected", "label"} <= set(ds.column_names)
    js = datasets.load_dataset("json", data_files=str(out) + ".journal.jsonl", split="train")
    assert js["id"] == ds["id"]


def test_second_writer_is_refused(tmp_path: Path, prompts_file: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    with WriterLock(output_paths(out)["lock"]), pytest.raises(UserError, match="another rmboost run"):
        generate(config(prompts_file, out))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rmboost.cli", *args]


def test_kill_9_then_rerun_gives_every_prompt_once_and_resends_nothing(tmp_path: Path) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(40)])
    out = tmp_path / "pairs.jsonl"
    args = _cli("generate", "--input", str(inp), "--output", str(out), "--backend", "fake",
                "--backend-arg", "delay=0.02", "--concurrency", "4", "--no-progress")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 10):
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    made_before = len(read_jsonl(out)) if out.exists() else 0
    assert 10 <= made_before < 40
    cache = sqlite3.connect(Path(os.environ["RMBOOST_CACHE_DIR"]) / "requests.sqlite")
    answered = cache.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    cache.close()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ids = [r["id"] for r in read_jsonl(out)]
    assert sorted(ids) == sorted(f"q{i}" for i in range(40)) and len(ids) == len(set(ids))
    summary = json.loads((tmp_path / "pairs.summary.json").read_text())
    # Every pair written before the kill is skipped; every call answered for an unfinished prompt
    # (a y1 whose y2 was in flight) comes from the cache, and nothing else is sent twice.
    assert summary["skipped_done"] == made_before
    assert summary["cache_hits"] == answered - 2 * made_before
    assert summary["calls_sent"] + summary["cache_hits"] == 2 * (40 - made_before)


def test_embedded_context_has_one_sequence_per_request_in_flight() -> None:
    from rmboost.generation.run import build_backend

    one = build_backend(GenerateConfig(input="x", output="y", backend="llamacpp", concurrency=1))
    six = build_backend(GenerateConfig(input="x", output="y", backend="llamacpp", concurrency=6))
    told = build_backend(GenerateConfig(input="x", output="y", backend="llamacpp", concurrency=6,
                                        backend_arg=["n_seq=2"]))
    assert (one.n_seq, six.n_seq, told.n_seq) == (1, 6, 2)  # type: ignore[attr-defined]
    assert (one.max_parallel, six.max_parallel, told.max_parallel) == (1, 6, 2)
