"""RMBoost's rewrite templates as data: the paper's standalone request (`--template paper`) where
the model names the aspects it chose, the checks on a template's fields, and the tag layout a
backend that can constrain output is held to."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest

from rmboost.backends.base import Capabilities, ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.backends.llamacpp_jobs import tags_grammar
from rmboost.errors import UsageError, UserError
from rmboost.llm import LLM
from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost
from rmboost.prompts.tasks import load_task
from rmboost.records import PairFailure, PromptRecord

QUESTION, PASSAGE, Y1 = "Who wrote Bloom?", "Bloom is an album by Troye Sivan.", "Bloom was written by Troye Sivan."


def item() -> WorkItem:
    return WorkItem(PromptRecord(prompt=QUESTION, id="a", context=PASSAGE, response=Y1), index=0, seed=0)


def named(aspects: str) -> FakeBackend:
    return FakeBackend(responder=lambda r: f"<aspects>{aspects}</aspects>\n<response>Troye Sivan wrote and "
                                            "released Bloom in 2018.</response>")


def test_the_paper_template_is_one_standalone_request_with_the_whole_guideline() -> None:
    backend = named("relevance, Faithfulness")
    method = RMBoost(load_task("qa"), template_file="paper")
    pair = asyncio.run(method.make_pair(item(), LLM(backend)))
    (request,) = backend.history
    (message,) = request.message_dicts
    text = message["content"]
    assert message["role"] == "user"
    for aspect in load_task("qa").aspects:  # the whole guideline, not a drawn few
        assert f"- {aspect.name}: {aspect.definition}" in text
    assert QUESTION in text and PASSAGE in text and Y1 in text
    assert "Step 1" in text and "Step 2" in text and "<aspects>" in text
    assert pair.aspects == ["relevance", "faithfulness"]
    assert Y1 in (pair.chosen, pair.rejected) and "2018" in pair.chosen + pair.rejected


def test_names_the_task_does_not_know_are_dropped_and_counted() -> None:
    method = RMBoost(load_task("qa"), template_file="paper")
    pair = asyncio.run(method.make_pair(item(), LLM(named("coherence and vibes; style"))))
    assert pair.aspects == ["coherence"]
    assert method.run_stats()["unknown_aspects_dropped"] == 2
    # An answer that names no aspect the task knows is refused (issue 25), and counted.
    with pytest.raises(PairFailure, match="names no aspect of the task"):
        asyncio.run(method.make_pair(item(), LLM(named("nothing known"))))
    assert method.run_stats()["no_aspect_named"] == 1


def test_the_default_template_draws_the_aspects_and_continues_the_conversation() -> None:
    backend = FakeBackend()
    pair = asyncio.run(RMBoost(load_task("qa")).make_pair(item(), LLM(backend)))
    (request,) = backend.history
    roles = [m["role"] for m in request.message_dicts]
    assert roles == ["user", "assistant", "user"] and 1 <= len(pair.aspects) <= 3


@pytest.mark.parametrize("body, field", [
    ("conversation: standalone\nrewrite: 'Make it {direction}: {conversation}'\n", "rewrite"),
    ("conversation: sideways\nrewrite: 'x'\n", "conversation"),
    ("stop: '</response>'\nrewrite: 'x'\n", "stop"),
])
def test_a_template_without_what_it_needs_names_the_file_and_field(tmp_path: Path, body: str, field: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(body)
    with pytest.raises(UserError, match=rf"{re.escape(str(path))}: field '{field}'"):
        RMBoost(load_task("qa"), template_file=path)


def test_an_unknown_built_in_name_lists_the_built_in_ones() -> None:
    with pytest.raises(UserError, match=r"--template papper: .*built-in: paper"):
        RMBoost(load_task("qa"), template_file="papper")


def test_aspects_per_pair_does_not_apply_when_the_model_chooses() -> None:
    with pytest.raises(UsageError, match="--aspects-per-pair does not apply"):
        RMBoost(load_task("qa"), template_file="paper", aspects_per_pair=2)


def test_the_tag_layout_goes_only_to_a_backend_that_can_hold_an_answer_to_it(tmp_path: Path) -> None:
    class Constraining(FakeBackend):
        capabilities = replace(FakeBackend.capabilities, grammar=True)

    paper = Path(__file__).resolve().parents[1] / "src/rmboost/resources/templates/rmboost_paper.yaml"
    template = tmp_path / "constrained.yaml"
    template.write_text(paper.read_text().replace("constrain: false", "constrain: true"))
    plain, constraining = named("relevance"), Constraining(responder=named("relevance")._responder)
    method = RMBoost(load_task("qa"), template_file=template)
    asyncio.run(method.make_pair(item(), LLM(plain)))
    asyncio.run(method.make_pair(item(), LLM(constraining)))
    assert plain.history[0].tags == () and constraining.history[0].tags == ("aspects", "response")
    assert isinstance(FakeBackend.capabilities, Capabilities) and not FakeBackend.capabilities.grammar


def test_tags_grammar_spells_the_layout() -> None:
    grammar = tags_grammar(("aspects", "response"))
    assert grammar.splitlines() == ['root ::= ws "<aspects>" text "</aspects>" ws "<response>" text "</response>"',
                                    "text ::= [^<]*", r"ws ::= [ \t\n]*"]


@pytest.mark.slow
def test_the_embedded_model_is_held_to_the_tags() -> None:
    from rmboost.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_seq=1)
    ask = [{"role": "user", "content": "Say something about Paris."}]
    request = ChatRequest.of(ask, max_tokens=48, temperature=0.7, seed=3, tags=("response",), stop=["</response>"])
    text = asyncio.run(backend.complete([request]))[0].text
    assert text.lstrip().startswith("<response>") and "<" not in text.lstrip()[len("<response>"):]
    asyncio.run(backend.aclose())
