"""The baselines on the real embedded model: in-process through llama-cpp-python, and behind
llama-cpp-python's OpenAI-compatible server on loopback. Short prompts and answers keep it cheap;
what is checked is that every prompt ends once, as a pair or a failure with a reason, that each
method makes pairs, and that RLAIF gets the verdict's probability from both (both return
log-probabilities). West-of-N scores with a reward model (the paper's setting): SmolLM2-135M as its
own scorer gives no readable score on these prompts (measured: "fewer than 2 responses scored")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.generation.config import GenerateConfig
from rmboost.generation.summary import RunSummary
from test_embedded_model import PROMPTS, server_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow


def run(tmp_path: Path, method: str, backend: str, **kw: object) -> tuple[RunSummary, list[dict], list[dict]]:
    inp = write_jsonl(tmp_path / "in.jsonl", PROMPTS)
    out = tmp_path / f"{method}-{backend}.jsonl"
    config = GenerateConfig(input=str(inp), output=str(out), method=method, backend=backend,  # type: ignore[arg-type]
                            max_tokens=64, seed=1, progress=False, **kw)
    summary = generate(config)
    failures_file = out.with_name(out.stem + ".failures.jsonl")
    failures = read_jsonl(failures_file) if failures_file.exists() else []
    pairs = read_jsonl(out) if out.exists() else []
    ids = sorted([r["id"] for r in pairs] + [f["id"] for f in failures])
    assert ids == sorted(p["id"] for p in PROMPTS), (pairs, failures)
    # The test is about pairs: a run that made none proves nothing about the method.
    assert pairs, failures
    assert all(r["method"] == method and r["chosen"] != r["rejected"] for r in pairs)
    assert all(f["stage"] and f["reason"] for f in failures)
    return summary, pairs, failures


def check_rlaif(summary: RunSummary, pairs: list[dict], failures: list[dict]) -> None:
    # Both backends return log-probabilities, so every pair whose verdicts were read has a confidence.
    assert "logprobs_refused" not in summary.method_stats
    assert summary.method_stats["judged"] == len(pairs)  # --keep-disagreements: every judged prompt is a pair
    assert all(0.0 <= r["confidence"] <= 1.0 and set(r["verdicts"]) == {"ab", "ba"} for r in pairs)
    assert all(f["stage"].startswith(("judge", "sample")) for f in failures)


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small embed-linear reward model that prefers answers naming what the question asks."""
    from rmboost.records import Pair
    from rmboost.rm.train import train_reward_model

    facts = [("When was the album released?", "It was released on 31 August 2018.", "I like albums."),
             ("What is the capital?", "The capital is Paris.", "Cities are big."),
             ("Who wrote the song?", "The song was written by Troye Sivan.", "Songs are nice."),
             ("Where is the tower?", "The tower stands in Paris, France.", "Towers are tall.")]
    pairs = [Pair(id=str(i), prompt=q, chosen=good, rejected=bad, method="toy")
             for i, (q, good, bad) in enumerate(facts)]
    folder = tmp_path_factory.mktemp("scorer") / "rm"
    train_reward_model(pairs, "embed-linear", 0, epochs=20).save(folder)
    return str(folder)


def options(method: str, scorer: str) -> dict[str, object]:
    """RLAIF keeps disagreements, so a pair needs only readable verdicts; West-of-N compares two
    samples with a reward model."""
    return {"rlaif": {"keep_disagreements": True}, "west-of-n": {"n": 2, "scorer": scorer}}.get(method, {})


@pytest.mark.parametrize("method", ["rlaif", "west-of-n", "rlcd"])
def test_each_baseline_runs_in_process(method: str, tmp_path: Path, scorer: str) -> None:
    summary, pairs, failures = run(tmp_path, method, "llamacpp", **options(method, scorer))
    assert summary.calls_sent > 0 and summary.completion_tokens > 0
    if method == "rlaif":
        check_rlaif(summary, pairs, failures)


@pytest.mark.parametrize("method", ["rlaif", "west-of-n", "rlcd"])
def test_each_baseline_runs_against_an_openai_compatible_server(
    method: str, tmp_path: Path, server_url: str, scorer: str  # noqa: F811
) -> None:
    summary, pairs, failures = run(tmp_path, method, "openai", base_url=server_url, **options(method, scorer))
    assert summary.calls_sent > 0
    if method == "rlaif":
        check_rlaif(summary, pairs, failures)
    summary_file = json.loads((tmp_path / f"{method}-openai.summary.json").read_text())
    # A run without pairs has no per-pair figure (null), not its totals divided by 1.
    calls = summary_file["per_pair"]["calls"]
    assert calls is None if summary_file["pairs"] == 0 else calls > 0
