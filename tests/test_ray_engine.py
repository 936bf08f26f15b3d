"""`generate --engine ray` on a local Ray with 2 CPUs: for the same seed it makes exactly the local
engine's pairs, on the fake backend and on OpenAI-compatible servers (two deterministic stub
replicas on loopback, which count the requests they answer); a rerun skips finished ids and sends
nothing, answering an unfinished prompt's calls from its shard's cache."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.backends.base import Capabilities
from rmboost.backends.fake import FakeBackend
from rmboost.cli import build_parser
from rmboost.errors import UserError
from rmboost.generation.config import GenerateConfig
from rmboost.generation.summary import RunSummary
from rmboost.io.rows import read_rows
from rmboost.options import from_args
from rmboost.scale import ray_engine
from rmboost.testing.fault_server import MODEL, FaultServer


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def replicas() -> Iterator[list[FaultServer]]:
    """Two replicas of one model: the project's one stub server, without faults; they answer from
    the request body alone and count the chat requests they get."""
    servers = [FaultServer().start(), FaultServer().start()]
    yield servers
    for s in servers:
        s.stop()


def prompt_file(folder: Path) -> Path:
    """Seventeen valid rows with a bad row among them and an id repeated in a later shard."""
    rows: list[object] = [{"id": f"q{i}", "prompt": f"Question {i}: who wrote it?",
                           "context": f"Passage {i}."} for i in range(16)]
    rows.insert(5, '{"id": "bad", "prompt": ""}')
    rows.append({"id": "q1", "prompt": "Question 1, asked again?"})
    return write_jsonl(folder / "in.jsonl", rows)


def run(folder: Path, out: str, **kw: Any) -> RunSummary:
    config = GenerateConfig(input=str(folder / "in.jsonl"), output=str(folder / out), seed=11, progress=False,
                            on_error="skip", cache_dir=str(folder / f"{out}-cache"), **kw)
    return generate(config)


def shard_rows(folder: Path) -> dict[str, dict[str, Any]]:
    rows = [r for p in sorted(folder.glob("part-?????.jsonl")) for r in read_jsonl(p)]
    assert len(rows) == len({r["id"] for r in rows})
    return {r["id"]: r for r in rows}


def without_usage(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows as they compare across runs: the remade pair's calls came from the cache."""
    return {k: {f: v for f, v in r.items() if f != "usage"} for k, r in rows.items()}


def test_ray_makes_the_local_pairs_on_the_fake_backend(tmp_path: Path, local_ray: None) -> None:
    prompt_file(tmp_path)
    local = run(tmp_path, "local.jsonl", backend="fake")
    on_ray = run(tmp_path, "ray", backend="fake", engine="ray", shard_size=3)
    expected = {r["id"]: r for r in read_jsonl(tmp_path / "local.jsonl")}
    assert shard_rows(tmp_path / "ray") == expected and len(expected) == 16
    # Contiguous blocks of 3 valid rows; the bad row has no index, so q5 is index 5 in shard 1.
    assert {r["id"] for r in read_jsonl(tmp_path / "ray" / "part-00001.jsonl")} == {"q3", "q4", "q5"}
    assert len(list((tmp_path / "ray").glob("part-?????.jsonl"))) == 6
    for field in ("pairs", "failures", "input_errors", "duplicate_ids", "calls_sent", "prompt_tokens",
                  "completion_tokens"):
        assert getattr(on_ray, field) == getattr(local, field), field
    assert on_ray.input_errors == 1 and on_ray.duplicate_ids == 1
    bad = read_jsonl(tmp_path / "ray" / "input.failures.jsonl")
    assert [(f["stage"], f["line"]) for f in bad] == [("input", 6)]
    report = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert report["pairs"] == 16 and report["shard_size"] == 3 and len(report["shards"]) == 6


@pytest.mark.parametrize("method", ["rlaif", "west-of-n", "rlcd"])
def test_ray_makes_the_local_pairs_with_the_baselines(tmp_path: Path, local_ray: None, method: str) -> None:
    prompt_file(tmp_path)
    local = run(tmp_path, "local.jsonl", backend="fake", method=method)
    on_ray = run(tmp_path, "ray", backend="fake", method=method, engine="ray", shard_size=3)
    expected = {r["id"]: r for r in read_jsonl(tmp_path / "local.jsonl")}
    assert shard_rows(tmp_path / "ray") == expected and on_ray.pairs == local.pairs > 0
    counts = {k: v for k, v in local.method_stats.items() if isinstance(v, int)}
    assert on_ray.method_stats == counts


def test_a_model_backend_keeps_one_worker_across_shards(
    tmp_path: Path, local_ray: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run the fake backend the way vllm and llamacpp run: in actors that keep their backend.
    monkeypatch.setattr(FakeBackend, "capabilities", Capabilities(logprobs=True, in_process=True))
    prompt_file(tmp_path)
    run(tmp_path, "local.jsonl", backend="fake")
    run(tmp_path, "ray", backend="fake", engine="ray", shard_size=5, workers=1, format="parquet")
    parts = sorted((tmp_path / "ray").glob("part-*.parquet"))
    rows = {r["id"]: r for p in parts for _, r in read_rows(p)}
    assert len(parts) == 4 and rows == {r["id"]: r for r in read_jsonl(tmp_path / "local.jsonl")}
    report = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert len(report["shards"]) == 4 and len({r["worker"] for r in report["shards"]}) == 1


def test_a_failing_shard_is_named_and_the_others_finish(tmp_path: Path, local_ray: None) -> None:
    rows = [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(6)]
    rows[4]["context"] = "word " * 400  # longer than the fake model's context, in shard 2
    write_jsonl(tmp_path / "in.jsonl", rows)
    config = GenerateConfig(input=str(tmp_path / "in.jsonl"), output=str(tmp_path / "ray"), backend="fake",
                            backend_arg=["context_length=300"], max_tokens=64, engine="ray", shard_size=2,
                            progress=False)
    named = r"1 of 3 shards failed.*part-00002.jsonl: .*in.jsonl:5: field 'context'"
    with pytest.raises(UserError, match=named):
        generate(config)
    assert set(shard_rows(tmp_path / "ray")) == {"q0", "q1", "q2", "q3"}
    assert json.loads((tmp_path / "ray" / "summary.json").read_text())["pairs"] == 4


def test_ray_makes_the_local_pairs_on_openai_replicas(
    tmp_path: Path, local_ray: None, replicas: list[FaultServer]
) -> None:
    prompt_file(tmp_path)
    first, second = replicas
    # --model given: with none, a pair made wholly from the cache has model "" (local engine too).
    run(tmp_path, "local.jsonl", backend="openai", model=MODEL, base_url=first.url)
    before = [s.requests for s in replicas]
    on_ray = run(tmp_path, "ray", backend="openai", model=MODEL, engine="ray", shard_size=4,
                 base_url=f"{first.url},{second.url}")
    expected = {r["id"]: r for r in read_jsonl(tmp_path / "local.jsonl")}
    assert shard_rows(tmp_path / "ray") == expected and len(expected) == 16
    assert all(r["model"] == MODEL and r["chosen"] != r["rejected"] for r in expected.values())
    sent = [s.requests - b for s, b in zip(replicas, before, strict=True)]
    # Shards 0, 2 and 4 (only the repeated q1) go to the first replica, 1 and 3 to the second.
    assert sent == [16, 16] and on_ray.calls_sent == 32

    # A finished shard is skipped; a pair lost from a shard is made again from that shard's cache.
    part = tmp_path / "ray" / "part-00002.jsonl"
    lines = part.read_text().splitlines(keepends=True)
    part.write_text("".join(lines[:-1]))
    again = run(tmp_path, "ray", backend="openai", model=MODEL, engine="ray",
                base_url=f"{first.url},{second.url}")
    assert [s.requests - b for s, b in zip(replicas, before, strict=True)] == sent
    assert again.pairs == 1 and again.skipped_done == 15 and again.calls_sent == 0 and again.cache_hits == 2
    assert without_usage(shard_rows(tmp_path / "ray")) == without_usage(expected)


def test_only_counts_are_added_across_shards() -> None:
    stats = [{"judged": 3, "disagreement_rate": 0.5}, {"judged": 2, "disagreement_rate": None, "refused": 1}]
    assert ray_engine.added_counts(stats) == {"judged": 5, "refused": 1}


def test_cli_options_reach_the_config() -> None:
    args = build_parser().parse_args(["generate", "--input", "in.jsonl", "--output", "out", "--engine", "ray",
                                      "--ray-address", "auto", "--workers", "3", "--shard-size", "50"])
    config = from_args(GenerateConfig, args)
    assert (config.engine, config.ray_address, config.workers, config.shard_size) == ("ray", "auto", 3, 50)


def test_misuse_and_a_missing_ray_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prompt_file(tmp_path)
    with pytest.raises(UserError, match="several --base-url replicas need --engine ray"):
        run(tmp_path, "local.jsonl", backend="openai", base_url="http://127.0.0.1:1/v1,http://127.0.0.1:2/v1")
    with pytest.raises(UserError, match="folder of shards"):
        run(tmp_path, "ray.jsonl", backend="fake", engine="ray")
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r'pip install "ray\[data\]'):
        run(tmp_path, "ray", backend="fake", engine="ray")
    # The input checks of a local run, before Ray is even imported: rows of another task, a pair file.
    write_jsonl(tmp_path / "in.jsonl",
                [{"id": "t1", "prompt": "Summarise.", "context": "POST: x", "task": "summarization"}])
    with pytest.raises(UserError, match="task"):
        run(tmp_path, "ray", backend="fake", engine="ray", task="qa")
    write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}])
    with pytest.raises(UserError, match="holds preference pairs"):
        run(tmp_path, "ray", backend="fake", engine="ray")


class FakeCluster:
    def __init__(self, **resources: float) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


def test_workers_follow_the_replicas_and_the_gpus() -> None:
    config = GenerateConfig(input="in.jsonl", output="out", engine="ray", backend="openai",
                            base_url="http://a/v1, http://b/v1,http://c/v1")
    assert ray_engine.worker_plan(config, FakeCluster(CPU=64), shards=10, backend_args={}) == (3, {"num_cpus": 0.25})
    assert ray_engine.worker_plan(config, FakeCluster(CPU=64), shards=2, backend_args={})[0] == 2
    vllm = dataclasses.replace(config, backend="vllm", base_url=None, backend_arg=["tensor_parallel_size=2"])
    parsed = ray_engine.parse_backend_args(vllm.backend_arg)  # what run_on_ray passes down, parsed once
    plan = ray_engine.worker_plan(vllm, FakeCluster(CPU=64, GPU=8), shards=10, backend_args=parsed)
    assert plan == (4, {"num_gpus": 2.0, "num_cpus": 1.0})
    with pytest.raises(UserError, match="needs GPUs"):
        ray_engine.worker_plan(vllm, FakeCluster(CPU=64), shards=10, backend_args=parsed)
