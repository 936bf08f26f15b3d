"""The baselines (RLAIF, West-of-N, RLCD) end to end through `generate` on the fake backend: every
prompt ends once as a pair or a failure, the output format, the cost accounting, the method stats
in the run summary, and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_jsonl
from rmboost.api import generate
from rmboost.backends.fake import FakeBackend
from rmboost.cli import main
from rmboost.generation.config import GenerateConfig

BASELINES = ["rlaif", "west-of-n", "rlcd"]
# LLM calls a prompt costs with the fake backend's default answers
CALLS = {"rlaif": 4, "west-of-n": 8, "rlcd": 2}


def config(inp: Path, out: Path, method: str, **kw: object) -> GenerateConfig:
    return GenerateConfig(input=str(inp), output=str(out), method=method, backend="fake",  # type: ignore[arg-type]
                          progress=False, **kw)


@pytest.mark.parametrize("method", BASELINES)
def test_every_prompt_is_a_pair_or_a_failure_once(method: str, prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    summary = generate(config(prompts_file, out, method, seed=1))
    pairs = read_jsonl(out)
    failures_file = tmp_path / "pairs.failures.jsonl"
    failures = read_jsonl(failures_file) if failures_file.exists() else []
    ids = [r["id"] for r in pairs] + [f["id"] for f in failures]
    assert sorted(ids) == sorted(f"q{i}" for i in range(20)) and len(ids) == len(set(ids))
    assert (summary.pairs, summary.failures) == (len(pairs), len(failures))
    assert pairs, "the fake backend's answers should make some pairs"
    for row in pairs:
        assert row["method"] == method and row["chosen"] != row["rejected"] and row["backend"] == "fake"
        assert "Question number" in row["prompt"] and "Passage" in row["prompt"]
    for f in failures:
        assert f["method"] == method and f["stage"] and f["reason"]
    # every prompt here costs the same number of calls, so the per-pair cost is calls * prompts / pairs
    assert summary.calls_sent == CALLS[method] * 20
    assert summary.per_pair()["calls"] == pytest.approx(CALLS[method] * 20 / len(pairs))
    spent = sum(r["usage"]["calls"] for r in pairs) + sum(f["usage"]["calls"] for f in failures)
    assert spent == summary.calls_sent


def test_rlaif_summary_reports_the_disagreement_rate(prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    summary = generate(config(prompts_file, out, "rlaif"))
    pairs = read_jsonl(out)
    failures = read_jsonl(tmp_path / "pairs.failures.jsonl")
    disagreements = sum(f["reason"] == "judges disagree" for f in failures)
    assert disagreements and all(f["stage"] == "judge" for f in failures)
    expected = {"judged": 20, "disagreements": disagreements, "disagreement_rate": disagreements / 20}
    assert summary.method_stats == expected
    assert json.loads((tmp_path / "pairs.summary.json").read_text())["method_stats"] == expected
    assert "disagreement_rate=" in summary.text()
    assert all(r["agree"] and set(r["verdicts"]) == {"ab", "ba"} for r in pairs)
    assert all(r["confidence"] == pytest.approx(0.75) for r in pairs)


def test_keep_disagreements_makes_a_pair_of_every_judged_prompt(prompts_file: Path, tmp_path: Path) -> None:
    summary = generate(config(prompts_file, tmp_path / "pairs.jsonl", "rlaif", keep_disagreements=True))
    assert summary.pairs == 20 and summary.method_stats["disagreements"] > 0


def test_methods_without_stats_report_none(prompts_file: Path, tmp_path: Path) -> None:
    summary = generate(config(prompts_file, tmp_path / "pairs.jsonl", "rlcd"))
    assert summary.method_stats == {} and "method:" not in summary.text()


@pytest.mark.parametrize("method", BASELINES)
def test_rerun_resumes_and_sends_nothing(method: str, prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    generate(config(prompts_file, out, method, limit=7))
    backend = FakeBackend()
    rest = generate(config(prompts_file, out, method), backend=backend)
    assert rest.skipped_done == 7 and rest.pairs + rest.failures == 13
    assert len(backend.history) == CALLS[method] * 13
    again = generate(config(prompts_file, out, method), backend=FakeBackend())
    assert again.skipped_done == 20 and again.calls_sent == 0


def test_cli_runs_west_of_n_with_its_options(prompts_file: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "pairs.jsonl"
    code = main(["generate", "--input", str(prompts_file), "--output", str(out), "--backend", "fake",
                 "--method", "west-of-n", "--n", "3", "--scorer", "llm", "--limit", "5", "--no-progress"])
    assert code == 0
    err = capsys.readouterr().err
    assert "per pair:" in err
    rows = read_jsonl(out)
    assert rows and all(r["n"] == 3 and r["scorer"] == "llm" and len(r["scores"]) <= 3 for r in rows)


def test_judge_decision_average_from_the_command_line(prompts_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    agree = generate(config(prompts_file, tmp_path / "agree.jsonl", "rlaif"))
    assert main(["generate", "--input", str(prompts_file), "--output", str(out), "--method", "rlaif",
                 "--backend", "fake", "--judge-decision", "average", "--no-progress"]) == 0
    pairs = read_jsonl(out)
    # The fake judge's letter has p=0.75 in each order: orders that agree average to 0.75, orders that
    # disagree to a tie, so averaging keeps exactly the pairs the agreement rule keeps.
    assert len(pairs) == agree.pairs and all(r["decision"] == "average" for r in pairs)
    failures = read_jsonl(tmp_path / "pairs.failures.jsonl")
    ties = [f for f in failures if f["reason"] == "tie after averaging both orders"]
    assert len(ties) == agree.method_stats["disagreements"]
