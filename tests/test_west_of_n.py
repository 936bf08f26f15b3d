"""West-of-N on the fake backend: N samples, LLM or reward-model scores, best/worst and ties."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from rmboost.backends.base import BackendError, ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.errors import UserError
from rmboost.llm import LLM
from rmboost.methods.base import SamplingConfig, WorkItem
from rmboost.methods.west_of_n import WestOfN, best_and_worst
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair, PairFailure, PromptRecord


def item(i: int = 0) -> WorkItem:
    return WorkItem(PromptRecord(prompt="Who wrote Bloom?", id=f"id{i}", context="PASSAGE"), index=i, seed=0)


def scripted(samples: list[str], scores: dict[str, str]):  # type: ignore[no-untyped-def]
    """sample{i} answers samples[i-1]; a score request answers the line given for the response it shows."""

    def respond(request: ChatRequest) -> str:
        if request.stage.startswith("sample"):
            return samples[int(request.stage[len("sample"):]) - 1]
        response = request.message_dicts[-1]["content"].split("[Response]\n", 1)[1].split("\n\n", 1)[0]
        return scores[response]

    return respond


def run(method: WestOfN, backend: FakeBackend) -> Pair:
    return asyncio.run(method.make_pair(item(), LLM(backend)))


@pytest.mark.parametrize(
    "scores, expected",
    [
        ([3, 9, 1, 5], (1, 2)),
        ([4, 4, 4, 4], None),  # all equal: no pair
        ([7, 9, 9, 2], (1, 3)),  # equal best: the earliest
        ([2, 5, 2], (1, 0)),  # equal worst: the earliest
        ([None, 5, None], None),  # one scored response cannot make a pair
        ([6, None, 2], (0, 2)),
        ([0.25, -1.5], (0, 1)),
    ],
)
def test_best_and_worst(scores: list[float | None], expected: tuple[int, int] | None) -> None:
    assert best_and_worst(scores) == expected


def test_llm_scores_pick_the_best_as_chosen_and_the_worst_as_rejected() -> None:
    samples = ["ok answer", "best answer", "worst answer", "fine answer"]
    scores = {"ok answer": "Good.\nScore: 6", "best answer": "Score: 9", "worst answer": "Score: 2",
              "fine answer": "**Score:** 7/10"}
    backend = FakeBackend(responder=scripted(samples, scores))
    pair = run(WestOfN(load_task("qa"), n=4), backend)
    assert (pair.chosen, pair.rejected) == ("best answer", "worst answer")
    assert pair.extra["scores"] == [6, 9, 2, 7] and pair.extra["scorer"] == "llm"
    stages = [r.stage for r in backend.history]
    assert sorted(stages) == sorted([f"sample{i}" for i in range(1, 5)] + [f"score{i}" for i in range(1, 5)])
    sample_requests = [r for r in backend.history if r.stage.startswith("sample")]
    assert len({r.seed for r in sample_requests}) == 4 and all(r.temperature > 0 for r in sample_requests)
    score_text = next(r for r in backend.history if r.stage == "score1").message_dicts[0]["content"]
    assert "Who wrote Bloom?" in score_text and "PASSAGE" in score_text
    assert "1 (very poor) to 10" in score_text
    assert pair.usage.calls == 8 and pair.method == "west-of-n"


def test_n_sets_the_number_of_samples() -> None:
    backend = FakeBackend()
    run(WestOfN(load_task("qa"), n=6), backend)
    assert sum(r.stage.startswith("sample") for r in backend.history) == 6


def test_equal_scores_make_no_pair() -> None:
    samples = ["a one", "a two", "a three"]
    backend = FakeBackend(responder=scripted(samples, dict.fromkeys(samples, "Score: 5")))
    with pytest.raises(PairFailure) as e:
        run(WestOfN(load_task("qa"), n=3), backend)
    assert (e.value.stage, e.value.reason) == ("select", "all scores equal")
    assert e.value.detail["scores"] == [5, 5, 5]


def test_an_unscored_sample_is_left_out() -> None:
    samples = ["a one", "a two", "a three"]
    backend = FakeBackend(responder=scripted(samples, {"a one": "Score: 3", "a two": "Score: 99",
                                                        "a three": "Score: 4"}))
    pair = run(WestOfN(load_task("qa"), n=3), backend)
    assert (pair.chosen, pair.rejected) == ("a three", "a one") and pair.extra["scores"] == [3, None, 4]


def test_too_few_scored_samples_is_a_failure() -> None:
    samples = ["a one", "a two", "a three"]
    scores = {"a one": "Score: 3", "a two": "no idea", "a three": "hmm"}
    backend = FakeBackend(responder=scripted(samples, scores))
    with pytest.raises(PairFailure) as e:
        run(WestOfN(load_task("qa"), n=3), backend)
    assert (e.value.stage, e.value.reason) == ("score", "fewer than 2 responses scored")


def test_repeated_samples_are_scored_once() -> None:
    samples = ["same", "Same.", "other", "same"]
    backend = FakeBackend(responder=scripted(samples, {"same": "Score: 8", "other": "Score: 3"}))
    pair = run(WestOfN(load_task("qa"), n=4), backend)
    assert (pair.chosen, pair.rejected) == ("same", "other")
    assert sum(r.stage.startswith("score") for r in backend.history) == 2


def test_all_samples_alike_is_a_failure() -> None:
    backend = FakeBackend(responder=scripted(["x", "x", "", "X."], {}))
    with pytest.raises(PairFailure) as e:
        run(WestOfN(load_task("qa"), n=4), backend)
    assert e.value.stage == "sample" and "fewer than 2 distinct usable" in e.value.reason


class LengthScorer:
    """A stand-in reward model: longer is better. Records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[list, list[str]]] = []

    def score(self, prompts: Sequence[object], responses: Sequence[str]) -> list[float]:
        self.calls.append((list(prompts), list(responses)))
        return [float(len(r)) for r in responses]


def test_reward_model_scorer_replaces_the_llm_scores() -> None:
    scorer = LengthScorer()
    samples = ["medium text", "a much longer text here", "short"]
    backend = FakeBackend(responder=scripted(samples, {}))
    method = WestOfN(load_task("qa"), n=3, scorer=scorer)
    pair = run(method, backend)
    assert (pair.chosen, pair.rejected) == ("a much longer text here", "short")
    assert all(r.stage.startswith("sample") for r in backend.history) and pair.usage.calls == 3
    (prompts, responses), = scorer.calls
    assert responses == samples
    # The reward model scores the same prompt the pair will hold (the rendered user message).
    assert prompts == [pair.prompt] * 3 and "PASSAGE" in str(pair.prompt)
    assert pair.extra["scorer"] == "LengthScorer"


def test_scorer_path_must_be_a_saved_reward_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="not a saved reward model"):
        WestOfN(load_task("qa"), scorer=str(tmp_path))


@pytest.mark.parametrize("kw", [{"n": 1}, {"sampling": SamplingConfig(temperature=0.0)}])
def test_bad_settings_are_refused(kw: dict) -> None:
    with pytest.raises(UserError):
        WestOfN(load_task("qa"), **kw)


@pytest.mark.slow  # trains a real (tiny) reward model on frozen MiniLM embeddings: ~10 s of CPU
def test_a_saved_reward_model_picks_the_polite_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rm_toy_task import BAD, GOOD, train_and_test
    from rmboost.rm.embed_linear import EmbedLinearRM

    train, _ = train_and_test()
    EmbedLinearRM.train(train[:16], epochs=40, seed=0).save(tmp_path / "rm")
    samples = [BAD[0], GOOD[2].format(t="bees", T="Bees"), BAD[3]]
    method = WestOfN(load_task("chat"), n=3, scorer=str(tmp_path / "rm"))
    work = WorkItem(PromptRecord(prompt="Tell me about bees.", id="b", context=None), index=0, seed=0)
    pair = asyncio.run(method.make_pair(work, LLM(FakeBackend(responder=scripted(samples, {})))))
    assert pair.chosen == samples[1] and pair.rejected in (BAD[0], BAD[3])
    assert pair.extra["scorer"] == str(tmp_path / "rm") and pair.usage.calls == 3


def cut_when(predicate):  # type: ignore[no-untyped-def]
    """A backend whose answers to the requests `predicate` picks are cut at max_tokens."""

    class Cut(FakeBackend):
        async def complete(self, requests):  # type: ignore[no-untyped-def]
            out = await super().complete(requests)
            for request, completion in zip(requests, out, strict=True):
                if predicate(request):
                    completion.finish_reason = "length"
            return out

    return Cut


def test_a_sample_or_score_cut_at_max_tokens_is_left_out_not_the_prompt() -> None:
    samples = ["a one", "a two", "a three", "a four"]
    scores = {"a one": "Score: 3", "a two": "Score: 8", "a three": "Score: 9", "a four": "Score: 1"}
    # sample 4 runs away; the score of sample 3 runs away
    backend = cut_when(lambda r: r.stage in ("sample4", "score3"))(responder=scripted(samples, scores))
    pair = run(WestOfN(load_task("qa"), n=4), backend)
    assert (pair.chosen, pair.rejected) == ("a two", "a one") and pair.extra["scores"] == [3, 8, None]
    assert pair.usage.calls == 7  # every call is counted, the unusable ones too


def test_a_transient_error_fails_the_prompt_to_be_retried() -> None:
    class Flaky(FakeBackend):
        async def complete(self, requests):  # type: ignore[no-untyped-def]
            if requests[0].stage == "sample2":
                raise BackendError("HTTP 503", retryable=True)
            return await super().complete(requests)

    backend = Flaky(delay=0.01)
    with pytest.raises(PairFailure) as e:
        run(WestOfN(load_task("qa"), n=3), backend)
    assert e.value.retryable and "503" in e.value.reason
    assert sorted(r.stage for r in backend.history) == ["sample1", "sample3"]
