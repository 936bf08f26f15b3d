"""One acceptance rule for RMBoost's rewrites (issue 34): the CLI's method (`RMBoost.make_pair`) and
the distilabel step (`RMBoostRewrite.format_output`) keep and refuse exactly the same y2s, for the
same reasons, on a fixed set of rewrite answers, with both the default and the paper template.
The expected outcomes are written out by hand; the step is run when distilabel is installed, the
rule it calls (`RMBoost.check_rewrite`) always."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rmboost.backends.fake import FakeBackend
from rmboost.llm import LLM
from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost, balanced_label
from rmboost.prompts.tasks import load_task
from rmboost.records import PairFailure, PromptRecord

QUESTION = "Who wrote the album Bloom?"
Y1 = "Bloom was written by Troye Sivan, who released it in 2018."
GOOD = "Troye Sivan wrote Bloom and released it in 2018 as his second album."
# name -> the answer (cut before the stop string `</response>`, as a backend returns it)
ANSWERS = {
    "good": f"<aspects>faithfulness, relevance</aspects>\n<response>{GOOD}",
    "names no aspect": f"<aspects>vibes; style</aspects>\n<response>{GOOD}",
    "no aspects tag": f"<response>{GOOD}",
    "identical to y1": ("<aspects>relevance</aspects>\n<response>"
                        "bloom was written by Troye Sivan,  who released it in 2018"),
    "empty": "<aspects>relevance</aspects>\n<response>",
    "no answer at all": "",
    "talks about the edit": ("<aspects>relevance</aspects>\n<response>I will rewrite the response so that "
                             "the edited response is better."),
    "the question again": "<aspects>relevance</aspects>\n<response>Who wrote the album Bloom?",
}
NO_RESPONSE = "no response could be extracted"
REFUSED_BY_BOTH = {
    "identical to y1": "identical to y1",
    "empty": NO_RESPONSE,
    "no answer at all": NO_RESPONSE,
    "talks about the edit": "comments on the responses instead of answering",
    "the question again": "repeats the question",
}
# template -> answer name -> the reason it is refused (None: kept). The default template draws the
# aspects itself and asks for none by name; the paper's has the model name them.
EXPECTED: dict[str | None, dict[str, str | None]] = {
    None: {"good": None, "names no aspect": None, "no aspects tag": None, **REFUSED_BY_BOTH},
    "paper": {"good": None, "names no aspect": "names no aspect of the task",
              "no aspects tag": "names no aspect of the task", **REFUSED_BY_BOTH},
}
Outcome = tuple[str | None, str | None, list[str]]  # (refusal reason, kept y2, the pair's aspects)


def work_item() -> WorkItem:
    return WorkItem(PromptRecord(prompt=QUESTION, id="a", response=Y1), index=0, seed=0)


def cli_outcome(template: str | None, answer: str) -> Outcome:
    method = RMBoost(load_task("qa"), template_file=template)
    try:
        pair = asyncio.run(method.make_pair(work_item(), LLM(FakeBackend(replies=[answer]))))
    except PairFailure as e:
        assert e.stage == "y2"
        return e.reason, None, []
    y2 = pair.chosen if pair.label == "BETTER" else pair.rejected
    assert (pair.rejected if pair.label == "BETTER" else pair.chosen) == Y1
    return None, y2, pair.aspects


def rule_outcome(template: str | None, answer: str) -> Outcome:
    """The rule the step calls, called as the step calls it (on the raw instruction string)."""
    method = RMBoost(load_task("qa"), template_file=template)
    drawn = method.choose_aspects(work_item())
    check = method.check_rewrite(answer, Y1, balanced_label(0, 0), drawn, QUESTION)
    aspects = check.named if method.template.aspects_from == "model" else [a.name for a in drawn]
    return check.problem, None if check.problem else check.y2, [] if check.problem else aspects


def step_outcome(template: str | None, answer: str) -> Outcome:
    from distilabel.models import OpenAILLM

    from rmboost.integrations.distilabel_rmboost import RMBoostRewrite

    # Never called: format_output is given the answer, as `Task.process` gives it the LLM's.
    llm = OpenAILLM(model="m", base_url="http://127.0.0.1:9/v1", api_key="not-needed", max_retries=0)
    step = RMBoostRewrite(name="rewrite", llm=llm, task="qa", template=template, seed=0)
    step.load()
    row: dict[str, Any] = {"id": "a", "instruction": QUESTION, "response": Y1, "label": balanced_label(0, 0)}
    row["aspects"] = [a.name for a in step._method.choose_aspects(step.item(row))]
    out = step.format_output(answer, row)
    if out["rewrite_failure"]:
        assert out["chosen"] is None and out["rejected"] is None
        return out["rewrite_failure"], None, []
    y2 = out["chosen"] if out["label"] == "BETTER" else out["rejected"]
    return None, y2, out["aspects"]


@pytest.mark.parametrize("template", [None, "paper"])
def test_the_cli_method_keeps_and_refuses_the_expected_rewrites(template: str | None) -> None:
    for name, answer in ANSWERS.items():
        reason, y2, aspects = cli_outcome(template, answer)
        assert reason == EXPECTED[template][name], name
        assert (y2 == GOOD) == (reason is None), name
        assert rule_outcome(template, answer) == (reason, y2, aspects), name
    assert cli_outcome("paper", ANSWERS["good"])[2] == ["faithfulness", "relevance"]


@pytest.mark.parametrize("template", [None, "paper"])
def test_the_distilabel_step_keeps_and_refuses_exactly_what_the_cli_does(template: str | None) -> None:
    pytest.importorskip("distilabel")
    for name, answer in ANSWERS.items():
        assert step_outcome(template, answer) == cli_outcome(template, answer), name


def test_a_given_response_that_is_no_answer_is_refused_alike() -> None:
    pytest.importorskip("distilabel")
    from distilabel.models import OpenAILLM

    from rmboost.integrations.distilabel_rmboost import RMBoostRewrite

    record = PromptRecord(prompt=QUESTION, id="a", response="The answer is:")
    with pytest.raises(PairFailure) as refused:
        asyncio.run(RMBoost(load_task("qa")).make_pair(WorkItem(record, 0, 0), LLM(FakeBackend())))
    llm = OpenAILLM(model="m", base_url="http://127.0.0.1:9/v1", api_key="not-needed", max_retries=0)
    step = RMBoostRewrite(name="rewrite", llm=llm, task="qa")
    step.load()
    row = {"instruction": QUESTION, "response": "The answer is:", "label": "BETTER", "aspects": ["relevance"]}
    out = step.format_output(ANSWERS["good"], row)
    assert out["rewrite_failure"] == refused.value.reason == "the given response: only a lead-in, no answer"
