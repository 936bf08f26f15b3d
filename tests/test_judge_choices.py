"""The judge's answer held to its allowed answers ("Verdict: A" / "Verdict: B"): the grammar that
spells them, which backends are asked for them, the field a vLLM-style server gets, and the
embedded model giving one of them with a readable verdict probability."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.backends.llamacpp_jobs import Sampling, choices_grammar, grammar_of
from rmboost.llm import LLM
from rmboost.methods.base import WorkItem
from rmboost.methods.rlaif import RLAIF
from rmboost.methods.verdicts import verdict_probability
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord

VERDICTS = ("Verdict: A", "Verdict: B")


def test_choices_grammar_spells_each_answer_whole_with_quotes_escaped() -> None:
    assert choices_grammar(VERDICTS) == 'root ::= "Verdict: A" | "Verdict: B"\n'
    assert choices_grammar(('say "hi"', "a\\b")) == 'root ::= "say \\"hi\\"" | "a\\\\b"\n'


def test_a_request_is_held_to_tags_or_to_choices_never_both() -> None:
    assert grammar_of(Sampling()) is None
    assert grammar_of(Sampling(choices=VERDICTS)) == choices_grammar(VERDICTS)
    with pytest.raises(ValueError, match="not both"):
        grammar_of(Sampling(tags=("response",), choices=VERDICTS))


def test_choices_go_into_the_cache_key_only_when_set() -> None:
    ask = [{"role": "user", "content": "Which?"}]
    assert "choices" not in ChatRequest.of(ask).params()
    assert ChatRequest.of(ask, choices=list(VERDICTS)).params()["choices"] == list(VERDICTS)


class Constraining(FakeBackend):
    capabilities = replace(FakeBackend.capabilities, grammar=True)


def given_item() -> WorkItem:
    record = PromptRecord(prompt="Summarise the post.", id="p", context="POST", responses=["one", "two"])
    return WorkItem(record, index=0, seed=0)


def judge_requests(backend: FakeBackend) -> list[ChatRequest]:
    method = RLAIF(load_task("summarization"), judge_decision="first")
    asyncio.run(method.make_pair(given_item(), LLM(backend)))
    return [r for r in backend.history if r.stage.startswith("judge")]


def test_only_a_backend_that_can_constrain_is_asked_for_the_allowed_answers() -> None:
    verdict = lambda r: "Verdict: A"  # noqa: E731
    plain, constraining = FakeBackend(responder=verdict), Constraining(responder=verdict)
    assert [r.choices for r in judge_requests(plain)] == [(), ()]
    assert [r.choices for r in judge_requests(constraining)] == [VERDICTS, VERDICTS]


def test_a_guided_openai_server_gets_the_answers_as_guided_choice() -> None:
    pytest.importorskip("openai")
    from rmboost.backends.openai_backend import OpenAIBackend

    sent: list[dict[str, Any]] = []

    async def create(**kwargs: Any) -> Any:
        sent.append(kwargs)
        message = SimpleNamespace(content="Verdict: B")
        return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop", logprobs=None)],
                               usage=SimpleNamespace(prompt_tokens=3, completion_tokens=4))

    client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
    ask = [{"role": "user", "content": "Which?"}]
    for guided in (True, False):
        backend = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", guided=guided)
        backend.clients = [client]  # type: ignore[assignment]
        asyncio.run(backend._send("m", ChatRequest.of(ask, choices=list(VERDICTS))))
    assert sent[0]["extra_body"] == {"guided_choice": list(VERDICTS)}
    assert "extra_body" not in sent[1]


@pytest.mark.slow
def test_the_embedded_model_answers_one_choice_with_its_verdict_probability() -> None:
    from rmboost.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_seq=1)
    ask = [{"role": "user", "content": "Is Paris in France? Answer A for yes, B for no. Tell me why first."}]
    request = ChatRequest.of(ask, max_tokens=64, temperature=0.0, logprobs=5, choices=list(VERDICTS))
    (answer,) = asyncio.run(backend.complete([request]))
    asyncio.run(backend.aclose())
    assert answer.text in VERDICTS and answer.finish_reason == "stop"
    # Every generated token, forced or not, is among its position's alternatives, so the text can be
    # matched token by token and the letter's probability is read (1.0 when the other letter is
    # not among the top 5).
    assert answer.top_logprobs is not None and answer.completion_tokens == len(answer.top_logprobs)
    p = verdict_probability(answer.top_logprobs, answer.text, answer.text[-1])
    assert p is not None and 0.5 <= p <= 1.0
