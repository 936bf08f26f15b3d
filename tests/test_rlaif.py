"""RLAIF on the fake backend: two samples, the judge in both orders, agreement filter, orientation,
confidence from logprobs, and the run's disagreement rate."""

from __future__ import annotations

import asyncio
import math

import pytest

from rmboost.backends.base import BackendError, ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.errors import UserError
from rmboost.llm import LLM
from rmboost.methods.base import SamplingConfig, WorkItem
from rmboost.methods.judge import winner
from rmboost.methods.rlaif import RLAIF
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair, PairFailure, PromptRecord


def item(i: int = 0) -> WorkItem:
    record = PromptRecord(prompt=f"Who wrote Bloom {i}?", id=f"id{i}", context="PASSAGE")
    return WorkItem(record, index=i, seed=0)


def shown(request: ChatRequest) -> tuple[str, str]:
    """The responses a judge request shows as A and as B."""
    text = request.message_dicts[-1]["content"]
    a = text.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
    b = text.split("[Response B]\n", 1)[1].split("\n\n", 1)[0]
    return a, b


def judge_preferring(best: str, samples: tuple[str, str] = ("first answer", "second answer")):  # type: ignore[no-untyped-def]
    """Samples in stage order; a judge that picks whichever position holds `best`."""

    def respond(request: ChatRequest) -> str:
        if request.stage.startswith("sample"):
            return samples[int(request.stage[-1]) - 1]
        a, _ = shown(request)
        return f"Reasons.\nVerdict: {'A' if a == best else 'B'}"

    return respond


def position_biased(letter: str):  # type: ignore[no-untyped-def]
    def respond(request: ChatRequest) -> str:
        if request.stage.startswith("sample"):
            return f"answer {request.stage}"
        return f"Verdict: {letter}"

    return respond


def run(method: RLAIF, backend: FakeBackend, work: WorkItem | None = None) -> Pair:
    return asyncio.run(method.make_pair(work or item(), LLM(backend)))


def test_winner_maps_positions_back_to_samples() -> None:
    assert [winner("ab", "A"), winner("ab", "B"), winner("ba", "A"), winner("ba", "B")] == [1, 2, 2, 1]


@pytest.mark.parametrize("best", ["first answer", "second answer"])
def test_the_sample_both_orders_prefer_is_chosen(best: str) -> None:
    backend = FakeBackend(responder=judge_preferring(best))
    pair = run(RLAIF(load_task("qa")), backend)
    other = "second answer" if best == "first answer" else "first answer"
    assert (pair.chosen, pair.rejected) == (best, other)
    assert pair.extra["agree"] is True and pair.method == "rlaif"
    expected = {"ab": "A", "ba": "B"} if best == "first answer" else {"ab": "B", "ba": "A"}
    assert pair.extra["verdicts"] == expected
    assert pair.usage.calls == 4


def test_two_samples_then_judge_shows_them_in_both_orders() -> None:
    backend = FakeBackend(responder=judge_preferring("first answer"))
    run(RLAIF(load_task("qa")), backend)
    samples = [r for r in backend.history if r.stage.startswith("sample")]
    judges = {r.stage: r for r in backend.history if r.stage.startswith("judge")}
    assert [r.stage for r in samples] == ["sample1", "sample2"]
    assert samples[0].messages == samples[1].messages and samples[0].seed != samples[1].seed
    assert all(r.temperature > 0 for r in samples)
    assert shown(judges["judge_ab"]) == ("first answer", "second answer")
    assert shown(judges["judge_ba"]) == ("second answer", "first answer")
    text = judges["judge_ab"].message_dicts[0]["content"]
    assert "Who wrote Bloom 0?" in text and "PASSAGE" in text
    assert all(a.name in text and a.definition in text for a in load_task("qa").aspects)
    assert judges["judge_ab"].temperature == 0.0


@pytest.mark.parametrize("letter", ["A", "B"])
def test_a_position_biased_judge_makes_no_pair(letter: str) -> None:
    with pytest.raises(PairFailure) as e:
        run(RLAIF(load_task("qa")), FakeBackend(responder=position_biased(letter)))
    assert (e.value.stage, e.value.reason) == ("judge", "judges disagree")
    assert e.value.detail["verdicts"] == {"ab": letter, "ba": letter}


@pytest.mark.parametrize("letter, chosen", [("A", "answer sample1"), ("B", "answer sample2")])
def test_keep_disagreements_lets_the_first_order_decide(letter: str, chosen: str) -> None:
    method = RLAIF(load_task("qa"), keep_disagreements=True)
    pair = run(method, FakeBackend(responder=position_biased(letter)))
    assert pair.chosen == chosen and pair.extra["agree"] is False


def test_disagreement_rate_counts_judged_prompts() -> None:
    method = RLAIF(load_task("qa"))
    llm = LLM(FakeBackend(responder=judge_preferring("second answer")))
    biased = LLM(FakeBackend(responder=position_biased("A")))
    asyncio.run(method.make_pair(item(0), llm))
    asyncio.run(method.make_pair(item(1), llm))
    asyncio.run(method.make_pair(item(2), llm))
    with pytest.raises(PairFailure):
        asyncio.run(method.make_pair(item(3), biased))
    assert method.run_stats() == {"judged": 4, "disagreements": 1, "disagreement_rate": 0.25}


@pytest.mark.parametrize(
    "replies, stage, reason",
    [
        (["same answer", "Same answer."], "sample2", "identical to sample1"),
        (["", "an answer"], "sample1", "empty response"),
        (["one", "two", "I cannot decide.", "Verdict: A"], "judge", "unparseable verdict"),
        (["one", "two", "Verdict: B", "A is better"], "judge", "unparseable verdict"),
    ],
)
def test_bad_samples_or_verdicts_are_failures(replies: list[str], stage: str, reason: str) -> None:
    method = RLAIF(load_task("qa"))
    with pytest.raises(PairFailure) as e:
        run(method, FakeBackend(replies=replies))
    assert (e.value.stage, e.value.reason) == (stage, reason)
    assert method.run_stats()["judged"] == 0


def test_confidence_comes_from_the_verdict_logprobs() -> None:
    # The fake backend gives a verdict letter p=0.75 against the other letter when asked for logprobs.
    pair = run(RLAIF(load_task("qa")), FakeBackend(responder=judge_preferring("first answer")))
    assert pair.extra["confidence"] == pytest.approx(0.75)
    kept = run(RLAIF(load_task("qa"), keep_disagreements=True), FakeBackend(responder=position_biased("A")))
    assert kept.extra["confidence"] == pytest.approx(0.5)  # 0.75 for sample 1 in one order, 0.25 in the other


def test_no_logprobs_means_no_confidence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = tmp_path / "judge.yaml"
    t.write_text("judge: 'A: {response_a} B: {response_b} on {aspect_list}'\n"
                 "judge_params: {temperature: 0.0}\n")
    backend = FakeBackend(replies=["one", "two", "Verdict: B", "Verdict: A"])
    pair = run(RLAIF(load_task("qa"), template_file=t), backend)
    assert pair.chosen == "two" and pair.extra["confidence"] is None
    assert all(r.logprobs is None for r in backend.history)
    assert backend.history[2].message_dicts[0]["content"].startswith("A: one B: two on - relevance")


def test_zero_temperature_is_refused() -> None:
    with pytest.raises(UserError, match="temperature"):
        RLAIF(load_task("qa"), SamplingConfig(temperature=0.0))


class NoLogprobsBackend(FakeBackend):
    """Refuses logprobs as a backend declares it: `BackendError.unsupported` names the feature."""

    async def complete(self, requests):  # type: ignore[no-untyped-def]
        if any(r.logprobs for r in requests):
            raise BackendError("logprobs is not supported for models created with logits_all=False",
                               unsupported="logprobs")
        return await super().complete(requests)


def test_a_backend_that_refuses_logprobs_is_asked_again_without_them() -> None:
    backend = NoLogprobsBackend(responder=judge_preferring("second answer"))
    method = RLAIF(load_task("qa"))
    llm = LLM(backend)
    first = asyncio.run(method.make_pair(item(0), llm))
    second = asyncio.run(method.make_pair(item(1), llm))
    assert first.chosen == second.chosen == "second answer" and first.extra["confidence"] is None
    judged = [r for r in backend.history if r.stage.startswith("judge")]
    assert len(judged) == 4 and all(r.logprobs is None for r in judged)  # not asked again after the refusal
    assert "logits_all" in method.run_stats()["logprobs_refused"]


class LeaningJudge(FakeBackend):
    """Answers `Verdict: A` in both orders (a position bias), but gives A more probability when A
    holds `best`: P(A) = 0.9 then, 0.6 otherwise."""

    def __init__(self, best: str) -> None:
        super().__init__(responder=position_biased("A"))
        self.best = best

    async def complete(self, requests):  # type: ignore[no-untyped-def]
        out = await super().complete(requests)
        for request, completion in zip(requests, out, strict=True):
            if request.stage.startswith("judge") and request.logprobs:
                a, _ = shown(request)
                p = 0.9 if a == self.best else 0.6
                completion.top_logprobs = [{"Verdict:": 0.0}, {" A": math.log(p), " B": math.log(1 - p)}]
        return out


@pytest.mark.parametrize("best", ["answer sample1", "answer sample2"])
def test_average_cancels_a_position_bias(best: str) -> None:
    method = RLAIF(load_task("qa"), judge_decision="average")
    pair = run(method, LeaningJudge(best))
    assert pair.chosen == best and pair.extra["agree"] is False and pair.extra["decision"] == "average"
    assert pair.extra["confidence"] == pytest.approx((0.9 + 0.4) / 2)
    # the agreement rule throws the same judgement away
    with pytest.raises(PairFailure, match="judges disagree"):
        run(RLAIF(load_task("qa")), LeaningJudge(best))
    assert method.run_stats()["disagreements"] == 1


def test_average_of_a_pure_position_bias_is_a_tie() -> None:
    # The fake judge gives its letter 0.75 whatever it shows: 0.75 for sample 1 in one order, 0.25 in the other.
    with pytest.raises(PairFailure) as e:
        run(RLAIF(load_task("qa"), judge_decision="average"), FakeBackend(responder=position_biased("B")))
    assert (e.value.stage, e.value.reason) == ("judge", "tie after averaging both orders")


def test_average_agrees_with_a_judge_that_agrees() -> None:
    backend = FakeBackend(responder=judge_preferring("second answer"))
    pair = run(RLAIF(load_task("qa"), judge_decision="average"), backend)
    assert pair.chosen == "second answer" and pair.extra["agree"] is True
    assert pair.extra["confidence"] == pytest.approx(0.75)


def test_average_without_logprobs_is_a_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = tmp_path / "judge.yaml"
    t.write_text("judge: 'A: {response_a} B: {response_b}'\njudge_params: {temperature: 0.0}\n")
    with pytest.raises(PairFailure, match="no verdict log-probabilities"):
        run(RLAIF(load_task("qa"), template_file=t, judge_decision="average"),
            FakeBackend(replies=["one", "two", "Verdict: B", "Verdict: A"]))
    method = RLAIF(load_task("qa"), judge_decision="average")
    backend = NoLogprobsBackend(responder=judge_preferring("second answer"))
    with pytest.raises(PairFailure, match="logits_all"):
        run(method, backend)
    # refused requests never reach `history`: an empty one means it was not asked again without logprobs
    assert [r for r in backend.history if r.stage.startswith("judge")] == []
    assert "logits_all" in method.run_stats()["logprobs_refused"]


def test_judge_decision_is_checked_and_keep_disagreements_means_first() -> None:
    with pytest.raises(UserError, match="judge_decision 'vote'"):
        RLAIF(load_task("qa"), judge_decision="vote")
    assert RLAIF(load_task("qa"), keep_disagreements=True).decision == "first"
    assert RLAIF(load_task("qa"), keep_disagreements=True, judge_decision="average").decision == "average"
