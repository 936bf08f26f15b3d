"""The RMBoost method on the fake backend: labels, aspects, the y2 prompt, orientation, failures."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from rmboost.backends.fake import FakeBackend
from rmboost.errors import UserError
from rmboost.llm import LLM
from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost, balanced_label
from rmboost.prompts.tasks import load_task
from rmboost.records import PairFailure, PromptRecord


def item(i: int = 0, seed: int = 0, prompt: object = "Who wrote Bloom?", context: str | None = "P1") -> WorkItem:
    return WorkItem(PromptRecord(prompt=prompt, id=f"id{i}", context=context), index=i, seed=seed)  # type: ignore[arg-type]


def run(method: RMBoost, backend: FakeBackend, work: WorkItem):  # type: ignore[no-untyped-def]
    return asyncio.run(method.make_pair(work, LLM(backend)))


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
@pytest.mark.parametrize("n", [10, 11, 100])
def test_labels_are_exactly_balanced(seed: int, n: int) -> None:
    labels = Counter(balanced_label(i, seed) for i in range(n))
    assert abs(labels["BETTER"] - labels["WORSE"]) <= n % 2


def test_label_order_depends_on_seed() -> None:
    orders = {tuple(balanced_label(i, seed) for i in range(20)) for seed in range(10)}
    assert len(orders) > 1


def test_aspects_drawn_from_task_between_one_and_three_and_all_used() -> None:
    task = load_task("qa")
    method = RMBoost(task)
    names = {a.name for a in task.aspects}
    sizes, seen = Counter(), Counter()
    for i in range(300):
        chosen = method.choose_aspects(item(i))
        assert len({a.name for a in chosen}) == len(chosen)  # no repeats
        assert {a.name for a in chosen} <= names
        sizes[len(chosen)] += 1
        seen.update(a.name for a in chosen)
    assert set(sizes) == {1, 2, 3}
    assert set(seen) == names
    assert [a.name for a in method.choose_aspects(item(5))] == [a.name for a in method.choose_aspects(item(5))]


def test_fixed_number_of_aspects() -> None:
    method = RMBoost(load_task("chat"), aspects_per_pair=2)
    assert all(len(method.choose_aspects(item(i))) == 2 for i in range(50))


@pytest.mark.parametrize("label, word", [("BETTER", "BETTER"), ("WORSE", "WORSE")])
def test_y2_prompt_carries_prompt_context_y1_label_and_aspect_definitions(label: str, word: str) -> None:
    task = load_task("qa")
    method = RMBoost(task)
    aspects = [task.aspect("faithfulness"), task.aspect("completeness")]
    work = item(context="PASSAGE TEXT")
    messages = method.rewrite_messages(work, "THE FIRST ANSWER", label, aspects)
    # The y1 request is a prefix of the y2 request (so the prompt's KV cache can be reused).
    assert messages[: len(method.policy_messages(work.record))] == method.policy_messages(work.record)
    assert "Who wrote Bloom?" in messages[0]["content"] and "PASSAGE TEXT" in messages[0]["content"]
    assert messages[-2] == {"role": "assistant", "content": "THE FIRST ANSWER"}
    instruction = messages[-1]["content"]
    assert messages[-1]["role"] == "user"
    assert f"that is {word} than your previous response" in instruction
    other = "WORSE" if word == "BETTER" else "BETTER"
    assert other not in instruction
    for a in aspects:
        assert a.name in instruction and a.definition in instruction
    assert "correctness" not in instruction  # only the chosen aspects


def test_length_control_adds_the_length_rule() -> None:
    task = load_task("qa")
    plain = RMBoost(task).rewrite_messages(item(), "y1", "BETTER", [task.aspects[0]])[-1]["content"]
    controlled = RMBoost(task, length_control=True).rewrite_messages(item(), "y1", "BETTER", [task.aspects[0]])
    assert "20%" in controlled[-1]["content"] and "20%" not in plain


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_pair_orientation_follows_the_label(index: int) -> None:
    backend = FakeBackend(replies=["first answer", "<response>second answer</response>"])
    pair = run(RMBoost(load_task("qa")), backend, item(index))
    if pair.label == "BETTER":
        assert (pair.chosen, pair.rejected) == ("second answer", "first answer")
    else:
        assert (pair.chosen, pair.rejected) == ("first answer", "second answer")
    assert pair.label == balanced_label(index, 0)
    assert [r.stage for r in backend.history] == ["y1", "y2"]
    assert pair.usage.calls == 2 and pair.method == "rmboost"


@pytest.mark.parametrize(
    "replies, stage, reason",
    [
        (["", "<response>x</response>"], "y1", "empty"),
        (["paris is the capital", "<response>Paris is the capital.</response>"], "y2", "identical to y1"),
        (["paris is the capital", "<response> </response>"], "y2", "no response could be extracted"),
        (["paris is the capital", ""], "y2", "no response could be extracted"),
        (["paris is the capital", "<response>The original response was not coherent.</response>"], "y2", "comments on"),
        (["paris is the capital", "<response>I'll ensure every sentence is supported.</response>"], "y2", "comments"),
        (["paris is the capital", "<response>It is worse than the answer above: Lyon.</response>"], "y2", "comments"),
        (["paris is the capital", "<response>I will try to provide a better one. Paris.</response>"], "y2", "comments"),
        (["paris is the capital", "<response>This answer is better than that one.</response>"], "y2", "comments"),
        (["The answer is:", "<response>Paris.</response>"], "y1", "only a lead-in"),
        (["Paris is the capital.", "<response>The answer is:</response>"], "y2", "only a lead-in"),
        (["Paris.", "<response>Paris, this one is BETTER, not WORSE.</response>"], "y2", "echoes the instruction"),
        # seen in the demo's output: a meta comment and a refusal passed as "WORSE" rewrites
        (["Bonnie was played by Cammie King.", "<response>I'm looking for a response that is exactly the same "
          "as the previous one but with improvements.</response>"], "y2", "comments on"),
        (["Bloom came out in 2018.", "<response>I'm sorry, but I'm unable to provide a response. I'm unable to "
          "edit my responses.</response>"], "y2", "refuses or talks about itself"),
        (["The series has 291 episodes.", "<response>The answer to the question is perfectly coherent and "
          "coherent.</response>"], "y2", "comments on"),
    ],
)
def test_bad_y2_is_a_failure_not_a_pair(replies: list[str], stage: str, reason: str) -> None:
    with pytest.raises(PairFailure) as e:
        run(RMBoost(load_task("qa")), FakeBackend(replies=replies), item())
    assert e.value.stage == stage and reason in e.value.reason


def test_a_y2_that_pastes_back_an_aspect_definition_or_the_question_is_a_failure() -> None:
    task = load_task("qa")
    rec = item()
    pasted = f"<response>- {task.aspects[0].name}: {task.aspects[0].definition}</response>"
    method = RMBoost(task, aspects_per_pair=len(task.aspects))  # every definition is in the instruction
    with pytest.raises(PairFailure, match="copies the rewrite instruction"):
        run(method, FakeBackend(replies=["Paris is the capital.", pasted]), rec)
    question = f"<response>{rec.record.prompt}</response>"
    with pytest.raises(PairFailure, match="repeats the question"):
        run(method, FakeBackend(replies=["Paris is the capital.", question]), rec)


def test_ordinary_words_are_not_mistaken_for_an_echo_or_a_lead_in() -> None:
    replies = ["Paris.", "<response>The answer is Paris, better known as the City of Light.</response>"]
    pair = run(RMBoost(load_task("qa")), FakeBackend(replies=replies), item())
    assert "City of Light" in pair.chosen + pair.rejected


def test_conversational_prompt_gives_message_lists() -> None:
    conv = [{"role": "user", "content": "Tell me a joke"}]
    backend = FakeBackend(replies=["a joke", "<response>a better joke</response>"])
    pair = run(RMBoost(load_task("chat")), backend, item(0, prompt=conv, context=None))
    row = pair.to_dict()
    assert row["prompt"] == conv
    assert row["chosen"][0]["role"] == "assistant" and row["rejected"][0]["role"] == "assistant"
    assert {row["chosen"][0]["content"], row["rejected"][0]["content"]} == {"a joke", "a better joke"}


def test_custom_template_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = tmp_path / "t.yaml"
    t.write_text("rewrite: 'MAKE IT {direction}: {aspect_list}'\n")
    task = load_task("qa")
    messages = RMBoost(task, template_file=t).rewrite_messages(item(), "Y1", "WORSE", [task.aspects[0]])
    assert messages[-1] == {"role": "user", "content": f"MAKE IT WORSE: - relevance: {task.aspects[0].definition}"}


def test_template_with_an_unknown_field_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = tmp_path / "t.yaml"
    t.write_text("rewrite: 'MAKE IT {colour}'\n")
    task = load_task("qa")
    with pytest.raises(UserError, match="colour"):
        RMBoost(task, template_file=t).rewrite_messages(item(), "Y1", "WORSE", [task.aspects[0]])


def _judging(ab: str, ba: str):  # type: ignore[no-untyped-def]
    def respond(request):  # type: ignore[no-untyped-def]
        return {"y1": "first answer", "y2": "<response>second answer</response>",
                "judge_ab": f"Verdict: {ab}", "judge_ba": f"Verdict: {ba}"}[request.stage]
    return respond


@pytest.mark.parametrize(
    "ab, ba, kept",
    [
        ("B", "A", True),   # both orders pick y2: agrees with BETTER
        ("A", "B", False),  # both orders pick y1: contradicts BETTER in both orders
        ("A", "A", True),   # position-following judge: no contradiction in both orders
    ],
)
def test_verify_drops_pairs_the_judge_contradicts_in_both_orders(ab: str, ba: str, kept: bool) -> None:
    index = next(i for i in range(4) if balanced_label(i, 0) == "BETTER")
    method = RMBoost(load_task("qa"), verify=True)
    backend = FakeBackend(responder=_judging(ab, ba))
    if kept:
        pair = run(method, backend, item(index))
        assert pair.chosen == "second answer" and pair.to_dict()["verdicts"] == {"ab": ab, "ba": ba}
    else:
        with pytest.raises(PairFailure, match="contradicts the label"):
            run(method, backend, item(index))
    assert method.run_stats()["contradicted"] == (0 if kept else 1)
    assert sorted(r.stage for r in backend.history) == ["judge_ab", "judge_ba", "y1", "y2"]


def test_verify_keeps_a_pair_the_judge_could_not_answer_for() -> None:
    from dataclasses import replace

    class CutJudge(FakeBackend):  # the judge's answer in A/B order is cut at max_tokens
        async def complete(self, requests):  # type: ignore[no-untyped-def]
            out = await super().complete(requests)
            return [replace(c, finish_reason="length") if r.stage == "judge_ab" else c
                    for r, c in zip(requests, out, strict=True)]

    index = next(i for i in range(4) if balanced_label(i, 0) == "BETTER")
    method = RMBoost(load_task("qa"), verify=True)
    pair = run(method, CutJudge(responder=_judging("A", "B")), item(index))
    assert pair.chosen == "second answer"
    assert pair.to_dict()["verdicts"] == {"ab": None, "ba": None}
    assert "truncated" in pair.to_dict()["verify_note"]
    assert method.run_stats()["contradicted"] == 0 and method.run_stats()["verified"] == 1


def test_chat_many_counts_every_call_even_when_one_fails() -> None:
    from rmboost.backends.base import ChatRequest
    from rmboost.records import Usage

    def respond(request):  # type: ignore[no-untyped-def]
        return "ok" if request.stage == "good" else ""

    class Truncating(FakeBackend):
        async def complete(self, requests):  # type: ignore[no-untyped-def]
            out = await super().complete(requests)
            for request, completion in zip(requests, out, strict=True):
                if request.stage == "bad":
                    completion.finish_reason = "length"
            return out

    usage = Usage()
    llm = LLM(Truncating(responder=respond))
    requests = [ChatRequest.of([{"role": "user", "content": s}], stage=s) for s in ("bad", "good", "good2")]
    with pytest.raises(PairFailure, match="truncated"):
        asyncio.run(llm.chat_many(requests, usage))
    assert usage.calls == 3


@pytest.mark.parametrize("favoured, kept", [("second answer", True), ("first answer", False)])
def test_verify_with_average_reads_through_a_position_bias(favoured: str, kept: bool) -> None:
    import math

    class Leaning(FakeBackend):  # "Verdict: A" in both orders; P(A) 0.9 when A is `favoured`, else 0.6
        async def complete(self, requests):  # type: ignore[no-untyped-def]
            out = await super().complete(requests)
            for r, c in zip(requests, out, strict=True):
                if r.stage.startswith("judge"):
                    a = r.message_dicts[-1]["content"].split("[Response A]\n", 1)[1].split("\n\n", 1)[0]
                    p = 0.9 if a == favoured else 0.6
                    c.top_logprobs = [{"Verdict:": 0.0}, {" A": math.log(p), " B": math.log(1 - p)}]
            return out

    index = next(i for i in range(4) if balanced_label(i, 0) == "BETTER")  # y2 must win
    method = RMBoost(load_task("qa"), verify=True, judge_decision="average")
    backend = Leaning(responder=_judging("A", "A"))
    if kept:
        pair = run(method, backend, item(index))
        assert pair.chosen == "second answer" and pair.to_dict()["p_label"] == pytest.approx(0.65)
    else:
        with pytest.raises(PairFailure, match="under 0.5") as e:
            run(method, backend, item(index))
        assert e.value.detail["p_label"] == pytest.approx(0.35)
    assert method.run_stats()["contradicted"] == (0 if kept else 1)
    # the agreement rule lets both through: the verdicts A, A pick different samples, so they
    # contradict the label in one order only
    agreed = run(RMBoost(load_task("qa"), verify=True), Leaning(responder=_judging("A", "A")), item(index))
    assert agreed.chosen == "second answer" and agreed.extra["verdicts"] == {"ab": "A", "ba": "A"}
