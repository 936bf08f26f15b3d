"""Prefix sharing between concurrent requests on the real embedded model: the second order of a
judged pair takes the instructions, question and passage its first order evaluated, several samples
of one prompt evaluate it once, and greedy answers are the same with and without any reuse.

The oracle for the shared length is a plain loop over the two prompts' tokens; the oracle for the
answers is the same requests on a backend that reuses nothing (`prefix_reuse=False`), one at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rmboost.api import generate
from rmboost.backends.base import ChatRequest
from rmboost.backends.llamacpp import LlamaCppBackend
from rmboost.generation.config import GenerateConfig
from rmboost.methods import SamplingConfig
from rmboost.methods.base import WorkItem
from rmboost.methods.judge import ORDERS
from rmboost.methods.rlaif import RLAIF
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord

pytestmark = pytest.mark.slow

PASSAGE = ("Bloom is the second studio album by Australian singer Troye Sivan. It was released on 31 August 2018 "
           "by EMI Music Australia and Capitol Records. The album was preceded by the singles My My My!, The "
           "Good Side, Bloom, Dance to This and Animal. It debuted at number two in Australia and number four "
           "in the United States, and it was praised for its production and its candid songwriting. ") * 2
RECORD = PromptRecord(prompt="When did Bloom by Troye Sivan come out?", id="bloom", context=PASSAGE)
ANSWERS = ("Bloom came out on 31 August 2018.", "It was released in 2018 by EMI and Capitol.")


def shared_length(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def judge_requests() -> list[ChatRequest]:
    """RLAIF's two judge requests for one pair, as the method builds them (greedy, its own template)."""
    method = RLAIF(load_task("qa"), SamplingConfig(temperature=0.7, max_tokens=24))
    item = WorkItem(record=RECORD, index=0, seed=0)
    conversation = method.conversation_text(RECORD)
    shown = {"ab": ANSWERS, "ba": ANSWERS[::-1]}
    return [method.request(method.judge.messages(conversation, *shown[o]), f"judge_{o}", item, max_tokens=12,
                           temperature=0.0) for o in ORDERS]


@pytest.fixture(scope="module")
def shared() -> Iterator[LlamaCppBackend]:
    b = LlamaCppBackend(n_threads=2, n_seq=4, n_ctx=1024)
    yield b
    asyncio.run(b.aclose())


@pytest.fixture(scope="module")
def nothing_reused() -> Iterator[LlamaCppBackend]:
    b = LlamaCppBackend(n_threads=2, n_seq=4, n_ctx=1024, prefix_reuse=False)
    yield b
    asyncio.run(b.aclose())


def one_at_a_time(b: LlamaCppBackend, requests: list[ChatRequest]) -> list[str]:
    return [asyncio.run(b.complete([r]))[0].text for r in requests]


def test_the_second_judge_order_reads_only_its_own_tail(shared: LlamaCppBackend,
                                                         nothing_reused: LlamaCppBackend) -> None:
    requests = judge_requests()
    tokens = [shared.prompt_tokens(r.message_dicts)[0] for r in requests]
    common = shared_length(*tokens)
    assert common > 0.6 * len(tokens[0])  # the layout puts the passage before the responses

    shared.forget()
    before = shared.counters()
    answers = asyncio.run(shared.complete(requests))  # both at once, as the judge asks
    after = shared.counters()
    assert [a.extra["reused_prompt_tokens"] for a in answers] == [0, common]
    assert [a.extra["copied_prompt_tokens"] for a in answers] == [0, common]
    assert after["copies"] - before["copies"] == 1
    evaluated = [a.prompt_tokens - a.extra["reused_prompt_tokens"] for a in answers]
    assert evaluated == [len(tokens[0]), len(tokens[1]) - common]
    assert evaluated[1] <= 0.4 * evaluated[0]  # issue 31's target for a judged pair
    assert [a.text for a in answers] == one_at_a_time(nothing_reused, requests)


def test_without_sharing_the_second_order_reads_everything_again() -> None:
    b = LlamaCppBackend(n_threads=2, n_seq=4, n_ctx=1024, share_prefix=False)
    try:
        answers = asyncio.run(b.complete(judge_requests()))
        assert [a.extra["reused_prompt_tokens"] for a in answers] == [0, 0]
        assert b.counters()["copies"] == 0
    finally:
        asyncio.run(b.aclose())


def test_samples_of_one_prompt_evaluate_it_once(shared: LlamaCppBackend, nothing_reused: LlamaCppBackend) -> None:
    """RLAIF's two samples, West-of-N's N, K pairs per prompt: one prompt asked for several times
    at once. Greedy here, so the answers must also be the same text each time."""
    messages = [{"role": "user", "content": f"{PASSAGE}\n\n{RECORD.prompt}"}]
    requests = [ChatRequest.of(messages, max_tokens=10, temperature=0.0, seed=k) for k in range(3)]
    n = shared.count_tokens(messages)
    shared.forget()
    answers = asyncio.run(shared.complete(requests))
    assert sorted(a.extra["reused_prompt_tokens"] for a in answers) == [0, n - 1, n - 1]
    alone = one_at_a_time(nothing_reused, requests[:1])[0]
    assert [a.text for a in answers] == [alone] * 3


def test_a_judged_run_writes_the_same_rows_with_and_without_reuse(tmp_path: Path) -> None:
    """RLAIF over given responses (its judge is greedy) through the engine at concurrency 4: the
    pairs, verdicts included, are the same whether prefixes are shared, kept per sequence, or not
    reused at all."""
    row = {"id": "bloom", "prompt": RECORD.prompt, "context": PASSAGE,
           "responses": [*ANSWERS, "Troye Sivan released Bloom in August 2018."]}
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(row) + "\n", encoding="utf-8")
    texts = {}
    for name, options in (("shared", {}), ("own", {"share_prefix": False}), ("none", {"prefix_reuse": False})):
        out = tmp_path / f"{name}.jsonl"
        config = GenerateConfig(input=str(inp), output=str(out), method="rlaif", judge_decision="first",
                                concurrency=4, cache=False, progress=False, max_tokens=64)
        backend = LlamaCppBackend(n_threads=2, n_seq=4, n_ctx=1024, **options)
        generate(config, backend=backend)
        rows = sorted((r["id"], r["chosen"], r["rejected"], json.dumps(r["verdicts"]))
                      for r in map(json.loads, out.read_text(encoding="utf-8").splitlines()))
        texts[name] = rows
        if name == "shared":
            assert backend.counters()["copies"] >= 2  # three pairs of one question, two orders each
    assert len(texts["none"]) == 3
    assert texts["shared"] == texts["own"] == texts["none"]
