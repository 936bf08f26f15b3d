"""Every RMBoost template passes the same content checks (issue 25): a y2 too short to be a response
("and"), one that carries the request's layout ("[Step 3: rewrite the paragraph so that the edited
response is worse..."), a comment on the edit, or the question again is refused whichever template
asked for it; with the paper's template, an answer that names no aspect is refused too. The bad
answers are the shapes `--template paper` kept on the demo's prompts; the good ones are controls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.llm import LLM
from rmboost.methods.base import WorkItem
from rmboost.methods.checks import echoes_question, leaks_layout, rewrite_problem, too_short
from rmboost.methods.rmboost import RMBoost
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair, PairFailure, PromptRecord

QUESTION = "When does bloom by troye sivan come out?"
PASSAGE = "Bloom is the second studio album by Troye Sivan, released on 31 August 2018 through EMI Australia."
Y1 = "Bloom by Troye Sivan came out in 2018, and it is his second studio album after Blue Neighbourhood."
TEMPLATES = [None, "paper", str(Path(__file__).resolve().parents[1] / "examples/templates/rmboost-answer-again.yaml")]
BAD = {
    "and": "too short to be a response",
    "Bloom.": "too short to be a response",
    "When does Bloom by Troye Sivan come out": "repeats the question",
    "Question: when does bloom by troye sivan come out?": "repeats the question",
    "[Step 3: rewrite the paragraph so that the edited response is worse on relevance.]": "",
    "Step 3: Bloom came out in 1990 and nobody knows who made it.": "copies the rewrite instruction's layout",
    "The edited response is less relevant: Bloom came out in 1990.": "comments on the responses",
}
GOOD = ["Bloom came out in 1990, long before Troye Sivan was born.",
        "Bloom by Troye Sivan was released on 31 August 2018 through EMI Australia and Capitol Records."]


def item() -> WorkItem:
    return WorkItem(PromptRecord(prompt=QUESTION, id="a", context=PASSAGE, response=Y1), index=0, seed=0)


def answering(y2: str, aspects: str = "relevance") -> FakeBackend:
    """Answers every rewrite request with `y2` in the tags the request asks for."""

    def respond(request: ChatRequest) -> str:
        asks_aspects = "<aspects>" in request.message_dicts[-1]["content"]
        return (f"<aspects>{aspects}</aspects>\n" if asks_aspects else "") + f"<response>{y2}</response>"

    return FakeBackend(responder=respond)


def rewrite(template: str | None, backend: FakeBackend) -> Pair:
    method = RMBoost(load_task("qa"), template_file=template, attempts=1)
    return asyncio.run(method.make_pair(item(), LLM(backend)))


@pytest.mark.parametrize("template", TEMPLATES, ids=["default", "paper", "answer-again"])
@pytest.mark.parametrize("y2", sorted(BAD))
def test_every_template_refuses_the_same_non_answers(template: str | None, y2: str) -> None:
    with pytest.raises(PairFailure) as e:
        rewrite(template, answering(y2))
    assert e.value.stage == "y2" and BAD[y2] in e.value.reason


@pytest.mark.parametrize("template", TEMPLATES, ids=["default", "paper", "answer-again"])
@pytest.mark.parametrize("y2", GOOD)
def test_every_template_keeps_a_real_rewrite(template: str | None, y2: str) -> None:
    pair = rewrite(template, answering(y2))
    assert {pair.chosen, pair.rejected} == {Y1, y2}


def test_the_paper_template_refuses_an_answer_that_names_no_aspect_and_counts_it() -> None:
    method = RMBoost(load_task("qa"), template_file="paper", attempts=1)
    with pytest.raises(PairFailure, match="names no aspect of the task"):
        asyncio.run(method.make_pair(item(), LLM(answering(GOOD[0], aspects="vibes"))))
    assert method.run_stats()["no_aspect_named"] == 1


@pytest.mark.parametrize("y1, y2, short", [
    (Y1, "and", True),
    (Y1, "and the", True),
    (Y1, "Bloom 2018.", True),  # 2 words for a y1 of 18
    (Y1, "It came out in 2018.", False),
    ("Paris is the capital.", "Lyon.", False),  # a short y1 allows a short y2
    ("It is.", "It was.", False),  # y1 has no content word either
])
def test_too_short(y1: str, y2: str, short: bool) -> None:
    assert too_short(y1, y2) is short


@pytest.mark.parametrize("text, echo", [
    ("When does Bloom by Troye Sivan come out", True),
    ("when does bloom come out?", True),
    ("Bloom by Troye Sivan came out on 31 August 2018.", False),
    ("Troye Sivan's Bloom comes out in 2018.", False),
    ("Sivan", False),  # one word of the question is an answer, not an echo
])
def test_echoes_question(text: str, echo: bool) -> None:
    assert echoes_question(text, QUESTION) is echo


def test_layout_counts_only_where_y1_has_none() -> None:
    instruction = "[Request]\n\n[Response]\n\nStep 1: select aspects between <aspects> and </aspects>."
    assert leaks_layout(Y1, "[Response] Bloom came out in 1990.", instruction)
    assert leaks_layout(Y1, "<aspects>relevance</aspects> Bloom came out in 1990.", instruction)
    assert leaks_layout(Y1, "Step 2. Bloom came out in 1990.", "no steps in this one")
    assert not leaks_layout("Step 1: boil water. Step 2: add tea.", "Step 1: boil milk. Step 2: add tea.", "")
    assert not leaks_layout(Y1, "Bloom [the album] came out in 1990.", instruction)


def test_rewrite_problem_lets_through_what_y1_already_does() -> None:
    assert rewrite_problem(QUESTION, QUESTION + " Soon.", "", "WORSE", QUESTION) is None
    assert rewrite_problem(Y1, QUESTION, "", "WORSE", QUESTION) == "repeats the question"
