"""RLCD on the fake backend: the positive/negative prompt pair, orientation, and failures."""

from __future__ import annotations

import asyncio
import difflib
import re

import pytest

from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.errors import UserError
from rmboost.llm import LLM
from rmboost.methods.base import WorkItem
from rmboost.methods.rlcd import RLCD, join_words
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair, PairFailure, PromptRecord

QA_POSITIVE = ["relevant", "faithful to the passages", "correct", "complete", "coherent"]
QA_NEGATIVE = ["irrelevant", "unfaithful to the passages", "incorrect", "incomplete", "incoherent"]


def item(prompt: object = "Who wrote Bloom?", context: str | None = "PASSAGE") -> WorkItem:
    return WorkItem(PromptRecord(prompt=prompt, id="id0", context=context), index=0, seed=0)  # type: ignore[arg-type]


def by_stage(request: ChatRequest) -> str:
    return {"positive": "a careful answer", "negative": "a sloppy answer"}[request.stage]


def run(method: RLCD, backend: FakeBackend, work: WorkItem | None = None) -> Pair:
    return asyncio.run(method.make_pair(work or item(), LLM(backend)))


def test_join_words() -> None:
    assert join_words(["a"]) == "a" and join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"]) == "a, b and c"


def test_positive_and_negative_prompts_differ_only_in_the_aspect_words() -> None:
    method = RLCD(load_task("qa"))
    positive = method.contrast_messages(item(), "positive")
    negative = method.contrast_messages(item(), "negative")
    pos_text, neg_text = positive[-1]["content"], negative[-1]["content"]
    assert "relevant, faithful to the passages, correct, complete and coherent" in pos_text
    assert "irrelevant, unfaithful to the passages, incorrect, incomplete and incoherent" in neg_text
    # Word by word, the prompts differ only where one has an aspect word and the other its opposite.
    pos_words, neg_words = re.findall(r"\w+|[^\w\s]", pos_text), re.findall(r"\w+|[^\w\s]", neg_text)
    diff = difflib.SequenceMatcher(a=pos_words, b=neg_words, autojunk=False)
    changed_pos, changed_neg = [], []
    for op, i1, i2, j1, j2 in diff.get_opcodes():
        if op != "equal":
            changed_pos += pos_words[i1:i2]
            changed_neg += neg_words[j1:j2]
    assert changed_pos == ["relevant", "faithful", "correct", "complete", "coherent"]
    assert changed_neg == ["irrelevant", "unfaithful", "incorrect", "incomplete", "incoherent"]
    assert len(positive) == len(negative) == 1


def test_contrast_prompt_wraps_the_policy_prompt() -> None:
    method = RLCD(load_task("qa"))
    work = item()
    policy = method.policy_messages(work.record)[-1]["content"]
    positive = method.contrast_messages(work, "positive")[-1]["content"]
    assert positive.startswith(policy) and "Who wrote Bloom?" in positive and "PASSAGE" in positive
    assert positive.endswith("Write a response that is relevant, faithful to the passages, correct, "
                             "complete and coherent.")


def test_positive_output_is_chosen_and_the_prompt_is_the_original() -> None:
    backend = FakeBackend(responder=by_stage)
    method = RLCD(load_task("qa"))
    pair = run(method, backend)
    assert (pair.chosen, pair.rejected) == ("a careful answer", "a sloppy answer")
    assert pair.prompt == method.policy_messages(item().record)[0]["content"]
    assert "Write a response" not in str(pair.prompt)
    assert pair.method == "rlcd" and pair.usage.calls == 2
    requests = {r.stage: r for r in backend.history}
    assert set(requests) == {"positive", "negative"}
    assert requests["positive"].seed == requests["negative"].seed  # only the prompt words differ
    assert "irrelevant" in requests["negative"].message_dicts[-1]["content"]
    assert "irrelevant" not in requests["positive"].message_dicts[-1]["content"]


def test_conversational_prompt_gets_the_instruction_on_its_last_user_turn() -> None:
    conv = [{"role": "user", "content": "Tell me a joke"}, {"role": "assistant", "content": "Why?"},
            {"role": "user", "content": "About cats"}]
    method = RLCD(load_task("chat"))
    negative = method.contrast_messages(item(conv, None), "negative")
    assert negative[:2] == conv[:2]
    assert negative[2]["content"].startswith("About cats")
    assert "unhelpful, dishonest, harmful" in negative[2]["content"]
    pair = run(method, FakeBackend(responder=by_stage), item(conv, None))
    assert pair.to_dict()["prompt"] == conv and pair.to_dict()["chosen"][0]["content"] == "a careful answer"


def test_aspects_without_words_use_the_fallback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    aspects = tmp_path / "aspects.yaml"
    aspects.write_text("aspects:\n  - {name: politeness, definition: kind words}\n"
                       "  - {name: relevance, definition: on topic}\n")
    method = RLCD(load_task("qa", aspects))
    positive = method.contrast_messages(item(), "positive")[-1]["content"]
    negative = method.contrast_messages(item(), "negative")[-1]["content"]
    assert positive.endswith("good in politeness and relevant.")
    assert negative.endswith("poor in politeness and irrelevant.")


def test_malformed_words_are_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = tmp_path / "t.yaml"
    t.write_text("contrast: '{request} {qualities}'\nwords:\n  relevance: [only-one]\n")
    with pytest.raises(UserError, match="relevance"):
        RLCD(load_task("qa"), template_file=t)


@pytest.mark.parametrize(
    "replies, stage, reason",
    [
        (["paris is the capital", "Paris is the capital."], "negative", "identical to the positive response"),
        (["", "an answer"], "positive", "empty response"),
        (["an answer", "  "], "negative", "empty response"),
    ],
)
def test_bad_outputs_are_failures(replies: list[str], stage: str, reason: str) -> None:
    with pytest.raises(PairFailure) as e:
        run(RLCD(load_task("qa")), FakeBackend(replies=replies))
    assert (e.value.stage, e.value.reason) == (stage, reason)
