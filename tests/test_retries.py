"""Retry on rejection: a response that fails a content check is asked for again with a fresh
seed, up to `attempts` tries per stage, for every method; a pair records the tries it took, a
final failure every try's reason. No check is loosened: what is refused once is refused again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend, default_reply
from rmboost.generation.config import GenerateConfig
from rmboost.llm import LLM
from rmboost.methods.base import SamplingConfig, WorkItem
from rmboost.methods.rlaif import RLAIF
from rmboost.methods.rlcd import RLCD
from rmboost.methods.rmboost import RMBoost
from rmboost.methods.west_of_n import WestOfN
from rmboost.prompts.tasks import load_task
from rmboost.records import PairFailure, PromptRecord

LEAD_IN = "The answer is:"


def item(i: int = 0) -> WorkItem:
    return WorkItem(PromptRecord(prompt="Who wrote Bloom?", id=f"id{i}", context="Bloom is by Troye Sivan."),
                    index=i, seed=0)


def refusing_first(stages: tuple[str, ...], tries: int) -> Callable[[ChatRequest], str]:
    """A responder that answers only a lead-in on the first `tries` tries of each of `stages`
    (told apart by their seeds), then as the fake backend does."""
    seen: dict[str, list[int | None]] = {}

    def respond(request: ChatRequest) -> str:
        if request.stage in stages:
            seeds = seen.setdefault(request.stage, [])
            if request.seed not in seeds:
                seeds.append(request.seed)
            if seeds.index(request.seed) < tries:
                return LEAD_IN
        return default_reply(request)

    return respond


def run(method, backend):  # type: ignore[no-untyped-def]
    return asyncio.run(method.make_pair(item(), LLM(backend)))


def test_rmboost_asks_again_with_a_fresh_seed_and_records_the_tries() -> None:
    backend = FakeBackend(responder=refusing_first(("y1", "y2"), tries=1))
    pair = run(RMBoost(load_task("qa"), attempts=3), backend)
    assert pair.extra["attempts"] == {"y1": 2, "y2": 2}
    for stage in ("y1", "y2"):
        seeds = [r.seed for r in backend.history if r.stage == stage]
        assert len(seeds) == 2 and seeds[0] != seeds[1]
    assert LEAD_IN not in (pair.chosen, pair.rejected)


def test_the_first_try_keeps_the_seed_of_a_run_without_retries() -> None:
    once, thrice = FakeBackend(), FakeBackend()
    run(RMBoost(load_task("qa"), attempts=1), once)
    run(RMBoost(load_task("qa"), attempts=3), thrice)
    assert [r.seed for r in once.history] == [r.seed for r in thrice.history]


def test_after_every_try_the_prompt_fails_with_each_reason() -> None:
    backend = FakeBackend(responder=refusing_first(("y2",), tries=99))
    with pytest.raises(PairFailure) as e:
        run(RMBoost(load_task("qa"), attempts=3), backend)
    assert (e.value.stage, e.value.reason) == ("y2", "only a lead-in, no answer")
    assert e.value.detail["attempts"] == 3 and e.value.detail["reasons"] == ["only a lead-in, no answer"] * 3
    assert sum(r.stage == "y2" for r in backend.history) == 3


def test_a_truncated_answer_is_tried_again() -> None:
    class Truncating(FakeBackend):
        async def complete(self, requests):  # type: ignore[no-untyped-def]
            out = await super().complete(requests)
            for r, c in zip(requests, out, strict=True):
                if r.stage == "y1" and sum(h.stage == "y1" for h in self.history) == 1:
                    c.finish_reason = "length"
            return out

    pair = run(RMBoost(load_task("qa"), attempts=2), Truncating())
    assert pair.extra["attempts"]["y1"] == 2


def test_a_call_at_temperature_zero_gets_one_try() -> None:
    backend = FakeBackend(responder=lambda r: LEAD_IN)
    with pytest.raises(PairFailure):
        run(RMBoost(load_task("qa"), SamplingConfig(temperature=0.0), attempts=3), backend)
    assert len(backend.history) == 1  # the same seedless answer would come back


@pytest.mark.parametrize("method, stages, without", [
    (lambda: RLAIF(load_task("qa"), attempts=3), ("sample1", "sample2"), "lead-in"),
    (lambda: WestOfN(load_task("qa"), n=3, attempts=3), ("sample1", "sample2", "sample3"), "fewer than 2 distinct"),
    (lambda: RLCD(load_task("qa"), attempts=3), ("positive",), "lead-in"),
])
def test_every_method_asks_again(method: Callable[[], object], stages: tuple[str, ...], without: str) -> None:
    backend = FakeBackend(responder=refusing_first(stages, tries=1))
    pair = run(method(), backend)
    assert LEAD_IN not in (pair.chosen, pair.rejected)
    assert max(pair.extra["attempts"].values()) == 2
    # without retries the same answers make no pair
    with pytest.raises(PairFailure, match=without):
        m = method()
        m.attempts = 1  # type: ignore[attr-defined]
        asyncio.run(m.make_pair(item(), LLM(FakeBackend(responder=refusing_first(stages, tries=1)))))


def test_rlaif_asks_again_for_a_second_sample_that_repeats_the_first() -> None:
    def respond(request: ChatRequest) -> str:
        if request.stage.startswith("sample"):
            first_try = request.seed in (derive("sample1"), derive("sample2"))
            return "The same answer." if first_try else "Another answer."
        return default_reply(request)

    def derive(stage: str) -> int:
        return item().call_seed(stage)

    pair = run(RLAIF(load_task("qa"), attempts=2, keep_disagreements=True), FakeBackend(responder=respond))
    assert {pair.chosen, pair.rejected} == {"The same answer.", "Another answer."}
    assert pair.extra["attempts"]["sample2"] == 2


def test_failures_file_holds_every_reason_and_the_pair_file_the_tries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"Question {i}?"} for i in range(4)])
    out = tmp_path / "pairs.jsonl"
    backend = FakeBackend(responder=lambda r: LEAD_IN if r.stage == "y2" and r.message_dicts[0]["content"]
                          .endswith("Question 3?") else default_reply(r))
    summary = generate(GenerateConfig(input=str(inp), output=str(out), backend="fake", progress=False, attempts=2),
                       backend=backend)
    assert summary.pairs == 3 and summary.failures == 1
    assert all(row["attempts"] == {"y1": 1, "y2": 1} for row in read_jsonl(out))
    (failure,) = read_jsonl(tmp_path / "pairs.failures.jsonl")
    assert failure["id"] == "q3" and failure["detail"]["reasons"] == ["only a lead-in, no answer"] * 2
