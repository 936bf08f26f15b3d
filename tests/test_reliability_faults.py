"""Fault injection: the OpenAI backend against the fault server (429 with Retry-After, 500, 503,
dropped connections, timeouts, malformed JSON, empty `choices`, `finish_reason=length`).

A run at 20% faults ends every prompt exactly once as a pair or a failure with its reason, never
uses a truncated answer, honours Retry-After, and a backend that keeps failing stops the run early;
the rerun resumes. RMBOOST_SOAK=1 (`make soak`) raises the prompt count to the issue's 500.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.backends.base import BackendError, ChatRequest
from rmboost.backends.openai_backend import OpenAIBackend
from rmboost.errors import EarlyStop
from rmboost.generation.config import GenerateConfig
from rmboost.llm import LLM
from rmboost.records import PairFailure
from rmboost.testing.fault_server import FAULTS, TRANSIENT, FaultPlan, FaultServer

SOAK = os.environ.get("RMBOOST_SOAK") == "1"
RUN_PROMPTS = 500 if SOAK else 100
TAG = re.compile(r"[Aa]nswer ([0-9a-f]{12})")
# Tiny backoff and short timeouts keep the fast suite fast; Retry-After (0.2 s) still has to be waited.
FAST_RETRIES = ["backoff_base=0.002", "backoff_max=0.05", "timeout=0.4", "max_retries=6"]


def prompts(path: Path, n: int) -> Path:
    return write_jsonl(
        path, [{"id": f"p{i}", "prompt": f"Question {i}: who wrote song number {i}?"} for i in range(n)]
    )


def config(inp: Path, out: Path, server: FaultServer, backend_arg: list[str], **kw: object) -> GenerateConfig:
    return GenerateConfig(
        input=str(inp),
        output=str(out),
        backend="openai",
        base_url=server.url,
        model="fault-model",
        backend_arg=backend_arg,
        task="chat",
        progress=False,
        **kw,
    )  # type: ignore[arg-type]


def test_fault_choice_is_reproducible_and_rates_hold() -> None:
    plan = FaultPlan.uniform(0.05 * len(FAULTS), seed=7)  # 5% each
    keys = [f"{i:064x}" for i in range(8000)]
    first = [plan.choose(k, 0) for k in keys]
    assert first == [FaultPlan(rates=plan.rates, seed=7).choose(k, 0) for k in keys]
    assert first != [FaultPlan(rates=plan.rates, seed=8).choose(k, 0) for k in keys]
    for kind in TRANSIENT:
        assert abs(first.count(kind) / len(keys) - 0.05) < 0.015, kind
    answered = first.count("ok") + first.count("length")  # `length` is a share of the answers
    assert abs(first.count("length") / answered - 0.05) < 0.015
    # A retry rolls the transient faults again; a truncation is a property of the request.
    truncated = [k for k, o in zip(keys, first, strict=True) if o == "length"]
    assert all(plan.choose(k, 1) in (*TRANSIENT, "length") for k in truncated)
    faulted = [(k, o) for k, o in zip(keys, first, strict=True) if o in TRANSIENT]
    assert abs(sum(plan.choose(k, 1) == o for k, o in faulted) / len(faulted) - 0.05) < 0.02  # independent


@pytest.mark.parametrize("kind", FAULTS)
def test_each_fault_is_classified(kind: str) -> None:
    """Transient faults are retryable backend errors; a truncated answer is a final failure."""

    async def call(url: str) -> None:
        backend = OpenAIBackend(model="m", base_url=url, api_key="k", timeout=0.3, max_retries=0)
        try:
            await LLM(backend).chat(ChatRequest.of([{"role": "user", "content": "hi"}], stage="y1"))
        finally:
            await backend.aclose()

    with FaultServer(FaultPlan(rates={kind: 1.0}, hang=1.0)) as server:
        with pytest.raises(PairFailure) as caught:
            asyncio.run(call(server.url))
        assert server.served == {kind: 1}
    assert caught.value.retryable == (kind != "length")
    if kind == "length":
        assert "truncated" in caught.value.reason
    else:
        assert isinstance(caught.value.__cause__, BackendError)


def test_backoff_is_exponential_with_full_jitter_and_honours_retry_after() -> None:
    backend = OpenAIBackend(
        model="m", base_url="http://127.0.0.1:9/v1", api_key="k", backoff_base=0.5, backoff_max=4
    )
    waits = {a: [backend.backoff(a, None) for _ in range(2000)] for a in range(6)}
    for attempt, ws in waits.items():
        cap = min(4.0, 0.5 * 2**attempt)
        assert 0 <= min(ws) and max(ws) <= cap and max(ws) > 0.9 * cap  # full jitter: all of [0, cap]
        assert abs(statistics.mean(ws) - cap / 2) < 0.08 * cap
    assert all(backend.backoff(a, 3.0) >= 3.0 for a in range(6) for _ in range(50))


def test_run_at_20_percent_faults_ends_every_prompt_once(tmp_path: Path) -> None:
    inp, out = prompts(tmp_path / "in.jsonl", RUN_PROMPTS), tmp_path / "pairs.jsonl"
    plan = FaultPlan.uniform(0.2, seed=1, retry_after="0.2", hang=0.8)
    with FaultServer(plan) as server:
        # One try per stage, so that a truncated answer ends its prompt and the failures file shows it
        # (tests/test_retries.py covers asking again).
        summary = generate(config(inp, out, server, FAST_RETRIES, concurrency=8, attempts=1))
        log, answered = list(server.log), server.answered()
    pairs, failures = read_jsonl(out), read_jsonl(tmp_path / "pairs.failures.jsonl")
    ids = [r["id"] for r in pairs + failures]
    assert sorted(ids) == sorted(f"p{i}" for i in range(RUN_PROMPTS)) and len(ids) == len(set(ids))
    assert summary.stopped_early is None and summary.pairs == len(pairs) > 0.8 * RUN_PROMPTS
    assert all(f["reason"] and f["stage"] in ("y1", "y2") for f in failures)
    assert {kind for kind in FAULTS if server.served[kind]} == set(FAULTS)  # every fault was met

    # A truncated answer is recorded, never used: no pair holds text the server cut off.
    truncated = {s.key[:12] for s in log if s.outcome == "length"}
    used = {t for r in pairs for t in TAG.findall(r["chosen"] + r["rejected"])}
    assert truncated and used and not used & truncated
    assert any("truncated" in f["reason"] for f in failures)
    assert all(
        ("truncated at max_tokens" in f["reason"] and not f["retryable"])
        or (f["retryable"] and "gave up after 7 attempts" in f["reason"])
        for f in failures
    )

    # Each answered call was counted once and sent once; every other request was a fault, retried.
    assert summary.calls_sent == sum(answered.values()) and max(answered.values()) == 1
    assert server.requests - summary.calls_sent == sum(server.served[k] for k in TRANSIENT)

    # Retry-After is honoured: after a 429, the same request does not come back before 0.2 s.
    by_key: dict[str, list[float]] = {}
    gaps = []
    for s in log:
        if s.key in by_key and by_key[s.key][-1] >= 0:
            gaps.append(s.at - by_key[s.key][-1])
        by_key.setdefault(s.key, []).append(s.at if s.outcome == "429" else -1.0)
    assert gaps and min(gaps) >= 0.19


def test_backend_that_keeps_failing_stops_early_and_rerun_resumes(tmp_path: Path) -> None:
    n = 4 * RUN_PROMPTS // 5
    inp, out = prompts(tmp_path / "in.jsonl", n), tmp_path / "pairs.jsonl"
    retries = ["backoff_base=0.001", "backoff_max=0.01", "timeout=0.5", "max_retries=2"]
    with FaultServer(FaultPlan(rates={"503": 0.9}, seed=3)) as server:
        with pytest.raises(
            EarlyStop,
            match=r"stopped early: more than 50% of the last \d+ prompts failed at the "
            r"backend \(last: backend error: gave up after 3 attempts: HTTP 503.*"
            r"rerun the same command to resume",
        ):
            generate(config(inp, out, server, retries, concurrency=4))
        # It stopped after about the budget's 20 outcomes, not after trying all prompts 3 times.
        sent_before_stop = server.requests
        assert sent_before_stop < 3 * 2 * 30
        made_before = len(read_jsonl(out)) if out.exists() else 0
        stop_summary = json.loads((tmp_path / "pairs.summary.json").read_text())
        assert stop_summary["stopped_early"].startswith("stopped early")
        failed = read_jsonl(tmp_path / "pairs.failures.jsonl")
        assert failed and all(f["retryable"] for f in failed)

        server.plan = FaultPlan()  # the server recovers
        summary = generate(config(inp, out, server, retries, concurrency=4))
    pairs = read_jsonl(out)
    assert sorted(r["id"] for r in pairs) == sorted(f"p{i}" for i in range(n)) and len(pairs) == n
    assert summary.skipped_done == made_before and summary.pairs == n - made_before
    assert read_jsonl(tmp_path / "pairs.failures.jsonl") == []  # the transient failures were retried
