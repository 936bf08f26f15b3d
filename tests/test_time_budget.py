"""`generation/time_budget.py`: where a run's calls, tokens, refused tries and wall time went, per
method and per pair, read back from the run's own files. Oracles: totals worked out by hand for
hand-written files, and the engine's own count (the run summary) for a real run on the fake backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_jsonl
from rmboost.api import generate
from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend, default_reply
from rmboost.generation.config import GenerateConfig
from rmboost.generation.time_budget import time_budget


def usage(calls: int, cached: int, prompt: int, completion: int) -> dict[str, int]:
    return {"calls": calls, "cached_calls": cached, "prompt_tokens": prompt, "completion_tokens": completion}


def test_totals_and_per_pair_figures_from_hand_written_files(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    write_jsonl(out, [
        {"id": "a", "method": "rlaif", "usage": usage(4, 0, 3000, 40), "attempts": {"sample1": 1, "sample2": 2}},
        {"id": "b", "method": "rlaif", "usage": usage(3, 1, 2000, 20), "attempts": {}},
    ])
    write_jsonl(tmp_path / "pairs.failures.jsonl", [
        {"id": "c", "stage": "judge", "reason": "judges disagree", "method": "rlaif", "usage": usage(2, 0, 1000, 10)},
        {"id": "d", "stage": "sample1", "reason": "empty", "method": "rlaif", "usage": usage(3, 0, 900, 0),
         "detail": {"attempts": 3, "reasons": ["empty"] * 3}},
        {"id": "e", "stage": "input", "reason": "no prompt", "method": "", "usage": usage(0, 0, 0, 0)},
    ])
    (tmp_path / "pairs.summary.json").write_text(json.dumps({"wall_seconds": 36.0, "pairs": 2}))
    budgets = time_budget(out)
    assert list(budgets) == ["rlaif"]  # the bad input row spent nothing and ran no method
    b = budgets["rlaif"]
    assert (b.pairs, b.failures, b.calls, b.cached_calls) == (2, 2, 4 + 4 + 2 + 3, 1)
    assert (b.prompt_tokens, b.completion_tokens, b.refused) == (6900, 70, 1 + 3)
    per = b.per_pair()
    assert per["prompt_tokens"] == 3450 and per["completion_tokens"] == 35 and per["calls"] == 6.5
    assert per["refused"] == 2 and per["wall_seconds"] == 18 and per["pairs_per_hour"] == 200
    assert per["evaluated_prompt_tokens"] is None  # the rows do not say what the KV cache saved
    b.reused_prompt_tokens = 2900
    assert b.per_pair()["evaluated_prompt_tokens"] == 2000


def test_a_run_without_pairs_has_no_per_pair_figures(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    write_jsonl(out, [])
    write_jsonl(tmp_path / "pairs.failures.jsonl", [
        {"id": "c", "stage": "y2", "reason": "x", "method": "rmboost", "usage": usage(2, 0, 100, 10)}])
    per = time_budget(out)["rmboost"].per_pair()
    assert per["prompt_tokens"] is None and per["pairs_per_hour"] is None


@pytest.mark.parametrize("method", ["rmboost", "rlaif"])
def test_a_real_run_adds_up_to_what_the_engine_counted(tmp_path: Path, method: str) -> None:
    """Every first answer to a prompt's first stage is empty (refused, asked again); for one prompt
    that stage's answers are always empty (a failure after 3 refused tries). RLAIF lets the first
    judge order decide, so every other prompt makes a pair."""
    seen: set[str] = set()

    def responder(request: ChatRequest) -> str:
        content = request.message_dicts[-1]["content"]
        first_time = content not in seen
        seen.add(content)
        if request.stage in ("y1", "sample1") and ("doomed" in content or first_time):
            return ""
        return default_reply(request)

    prompts = [{"id": f"p{i}", "prompt": f"Question number {i}?"} for i in range(5)]
    prompts.append({"id": "bad", "prompt": "A doomed question?"})
    inp = write_jsonl(tmp_path / "in.jsonl", prompts)
    out = tmp_path / "out.jsonl"
    config = GenerateConfig(input=str(inp), output=str(out), method=method, backend="fake", progress=False,
                            cache=False, concurrency=1, **({"judge_decision": "first"} if method == "rlaif" else {}))
    summary = generate(config, backend=FakeBackend(responder=responder))
    b = time_budget(out)[method]
    assert (b.pairs, b.failures) == (summary.pairs, summary.failures) and b.failures >= 1
    assert b.calls == summary.calls_sent + summary.cache_hits
    assert (b.prompt_tokens, b.completion_tokens) == (summary.prompt_tokens, summary.completion_tokens)
    assert b.refused == summary.pairs * 1 + 3  # one per pair, three for the doomed prompt
    assert b.wall_seconds == summary.wall_seconds and b.session_pairs == summary.pairs


class Reusing(FakeBackend):
    """The fake backend, saying that all but the last 5 prompt tokens of each call came from a cache."""

    async def complete(self, requests: list[ChatRequest]) -> list:  # type: ignore[override]
        answers = await super().complete(requests)
        for a in answers:
            a.extra["reused_prompt_tokens"] = max(a.prompt_tokens - 5, 0)
        return answers


def test_reused_prompt_tokens_are_in_each_row_and_summed_per_method(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"Question {i}?"} for i in range(3)])
    out = tmp_path / "out.jsonl"
    config = GenerateConfig(input=str(tmp_path / "in.jsonl"), output=str(out), method="rlaif", seed=0,
                            concurrency=2, progress=False, cache=False)
    generate(config, backend=Reusing())
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for r in rows:  # the oracle: 5 tokens read per call sent
        u = r["usage"]
        assert u["reused_prompt_tokens"] == u["prompt_tokens"] - 5 * u["calls"]
    b = time_budget(out)["rlaif"]
    failures = tmp_path / "out.failures.jsonl"
    failed = [json.loads(line) for line in failures.read_text().splitlines()] if failures.exists() else []
    calls = sum(r["usage"]["calls"] for r in rows + failed)
    assert b.reused_prompt_tokens == b.prompt_tokens - 5 * calls
    assert b.per_pair()["evaluated_prompt_tokens"] == 5 * calls / b.pairs


def test_files_from_before_the_field_leave_reuse_unknown(tmp_path: Path) -> None:
    out = tmp_path / "old.jsonl"
    write_jsonl(out, [{"id": "a", "method": "rmboost", "usage": usage(2, 0, 900, 30), "attempts": {}}])
    b = time_budget(out)["rmboost"]
    assert b.reused_prompt_tokens is None and b.per_pair()["evaluated_prompt_tokens"] is None


def test_a_file_mixing_rows_with_and_without_the_field_leaves_reuse_unknown(tmp_path: Path) -> None:
    """A run continued across the change: summing the rows that have the field would undercount."""
    out = tmp_path / "mixed.jsonl"
    write_jsonl(out, [{"id": "a", "method": "rmboost", "usage": usage(2, 0, 900, 30), "attempts": {}},
                      {"id": "b", "method": "rmboost", "usage": {**usage(2, 0, 800, 30), "reused_prompt_tokens": 500},
                       "attempts": {}}])
    assert time_budget(out)["rmboost"].per_pair()["reused_prompt_tokens"] is None
