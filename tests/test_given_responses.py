"""Given responses (`responses`, `pairs`) for every method, on the fake backend: RLAIF judges exactly
the listed pairs, West-of-N with a reward-model scorer makes no LLM call, RMBoost rewrites response
k mod n, RLCD refuses the record; the prompt reader's checks; QA-Feedback's `--with-responses all`."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend
from rmboost.cli import data as data_cli
from rmboost.data.qa_feedback import COMPARISONS, load_questions, prompt_records
from rmboost.errors import InputError, UsageError
from rmboost.generation.engine import run_method
from rmboost.io.prompts import parse_row
from rmboost.io.rows import SkipCounter
from rmboost.llm import LLM
from rmboost.methods import create_method
from rmboost.methods.base import Method
from rmboost.prompts.tasks import load_task
from rmboost.records import Failure, Pair, PromptRecord

FIXTURE = Path(__file__).parent / "fixtures" / "qa_feedback_small.json"
RESPONSES = ["Response number 0 says Troye Sivan.", "Response number 1 says it came out in 2018.",
             "Response number 2 says August.", "Response number 3 says 31 August 2018, through EMI."]


def record(pairs: list[list[int]] | None = None, **extra: Any) -> PromptRecord:
    row = {"id": "q1", "prompt": "When does Bloom come out?", "context": "PASSAGE", "responses": RESPONSES, **extra}
    if pairs is not None:
        row["pairs"] = pairs
    return parse_row(row, "prompts.jsonl", 7)


def number(text: str) -> int:
    return int(re.search(r"Response number (\d)", text).group(1))  # type: ignore[union-attr]


def shown(request: ChatRequest) -> tuple[int, int]:
    """The given responses a judge request shows as A and as B, by their number."""
    text = request.message_dicts[-1]["content"]
    a = text.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
    b = text.split("[Response B]\n", 1)[1].split("\n\n", 1)[0]
    return number(a), number(b)


def prefers_higher_numbers(request: ChatRequest) -> str:
    a, b = shown(request)
    return f"Verdict: {'A' if a > b else 'B'}"


def run(method: Method, backend: FakeBackend, records: list[PromptRecord],
        **options: Any) -> tuple[list[Pair], list[Failure]]:
    pairs: list[Pair] = []
    failures: list[Failure] = []
    asyncio.run(run_method(method, LLM(backend), records, pairs.append, failures.append, **options))
    return pairs, failures


@pytest.mark.parametrize("listed", [[[0, 1], [0, 2], [3, 2]], None])
def test_rlaif_judges_exactly_the_listed_pairs_and_samples_nothing(listed: list[list[int]] | None) -> None:
    backend = FakeBackend(responder=prefers_higher_numbers)
    pairs, failures = run(create_method("rlaif", task=load_task("qa")), backend, [record(listed)])
    expected = [tuple(p) for p in listed] if listed else list(combinations(range(4), 2))
    assert not failures and not any(r.stage.startswith("sample") for r in backend.history)
    judged = [shown(r) for r in backend.history]
    assert len(judged) == 2 * len(expected)  # each pair once in each order, no other call
    assert sorted(judged) == sorted([(i, j) for i, j in expected] + [(j, i) for i, j in expected])
    assert sorted(tuple(p.extra["given_pair"]) for p in pairs) == sorted(expected)
    for p in pairs:  # the judge prefers the higher number, and the indices name the texts
        assert p.extra["chosen_index"] == max(p.extra["given_pair"]) == number(p.chosen)
        assert p.extra["rejected_index"] == min(p.extra["given_pair"]) == number(p.rejected)
        assert p.extra["agree"] is True and p.prompt == pairs[0].prompt and "PASSAGE" in str(p.prompt)
    assert sorted(p.id for p in pairs) == sorted(f"q1#{k}" for k in range(len(expected)))


def test_rlaif_over_given_responses_takes_one_pair_per_listed_pair_only() -> None:
    with pytest.raises(UsageError, match="--pairs-per-prompt does not apply to rlaif over given responses"):
        run(create_method("rlaif", task=load_task("qa")), FakeBackend(), [record()], pairs_per_prompt=2)


def test_rlaif_refuses_a_listed_pair_of_two_equal_responses() -> None:
    same = parse_row({"prompt": "Q?", "responses": ["Same text.", "same text", "Other."]}, "p.jsonl", 1)
    pairs, failures = run(create_method("rlaif", task=load_task("qa")), FakeBackend(responder=lambda r: "Verdict: A"),
                          [same])
    assert len(pairs) + len(failures) == 3
    assert [(f.stage, f.reason) for f in failures if f.stage == "given"] == [
        ("given", "given responses 0 and 1 are the same")]


class LengthScorer:
    """A stand-in reward model: longer is better."""

    def score(self, prompts: Sequence[object], responses: Sequence[str]) -> list[float]:
        return [float(len(r)) for r in responses]


def test_west_of_n_over_given_responses_with_a_reward_model_makes_no_llm_call() -> None:
    backend = FakeBackend()
    method = create_method("west-of-n", task=load_task("qa"), scorer=LengthScorer())
    pairs, failures = run(method, backend, [record()])
    assert not failures and len(backend.history) == 0
    (pair,) = pairs
    assert pair.usage.calls == 0 and pair.usage.cached_calls == 0
    longest = max(range(4), key=lambda i: len(RESPONSES[i]))
    shortest = min(range(4), key=lambda i: len(RESPONSES[i]))
    assert (pair.chosen, pair.rejected) == (RESPONSES[longest], RESPONSES[shortest])
    assert (pair.extra["chosen_index"], pair.extra["rejected_index"]) == (longest, shortest)
    assert pair.extra["n"] == 4 and pair.extra["scores"] == [float(len(r)) for r in RESPONSES]


def test_west_of_n_over_given_responses_with_the_llm_scorer_only_scores() -> None:
    backend = FakeBackend(responder=lambda r: f"Score: {1 + number(r.message_dicts[-1]['content'])}")
    pairs, _ = run(create_method("west-of-n", task=load_task("qa")), backend, [record()])
    assert sorted(r.stage for r in backend.history) == ["score1", "score2", "score3", "score4"]
    assert (pairs[0].extra["chosen_index"], pairs[0].extra["rejected_index"]) == (3, 0)
    with pytest.raises(UsageError, match="--pairs-per-prompt does not apply to west-of-n"):
        run(create_method("west-of-n", task=load_task("qa")), backend, [record()], pairs_per_prompt=2)


def test_rlcd_refuses_given_responses_naming_file_line_and_field() -> None:
    method = create_method("rlcd", task=load_task("qa"))
    with pytest.raises(InputError) as e:
        run(method, FakeBackend(), [record()])
    assert (e.value.source, e.value.line, e.value.field) == ("prompts.jsonl", 7, "responses")
    assert "\n" not in str(e.value) and str(e.value).startswith("prompts.jsonl:7: field 'responses'")
    backend = FakeBackend()
    pairs, failures = run(method, backend, [record()], on_error="skip")
    assert not pairs and [f.stage for f in failures] == ["input"] and not backend.history


@pytest.mark.parametrize("k_pairs", [1, 4, 6])
def test_rmboost_rewrites_response_k_mod_n_and_records_which(k_pairs: int) -> None:
    backend = FakeBackend()
    pairs, failures = run(create_method("rmboost", task=load_task("qa")), backend, [record()],
                          pairs_per_prompt=k_pairs)
    assert not failures and len(pairs) == k_pairs
    assert [r.stage for r in backend.history] == ["y2"] * k_pairs  # y1 is given: never asked for
    for pair in pairs:
        k = 0 if k_pairs == 1 else int(pair.id.rsplit("#", 1)[1])
        y1 = pair.rejected if pair.label == "BETTER" else pair.chosen
        assert pair.extra["given_index"] == k % 4 and y1 == RESPONSES[k % 4]
        assert pair.extra["given_response"] is True


def test_the_one_response_form_keeps_its_columns() -> None:
    one = parse_row({"prompt": "When does Bloom come out?", "response": RESPONSES[0]}, "p.jsonl", 1)
    pairs, _ = run(create_method("rmboost", task=load_task("qa")), FakeBackend(), [one])
    assert pairs[0].extra["given_response"] is True and "given_index" not in pairs[0].extra


@pytest.mark.parametrize("row, field", [
    ({"responses": ["only one"]}, "responses"),
    ({"responses": "a, b"}, "responses"),
    ({"responses": ["a", " "]}, "responses[1]"),
    ({"responses": ["a", "b"], "response": "c"}, "responses"),
    ({"pairs": [[0, 1]]}, "pairs"),
    ({"responses": ["a", "b"], "pairs": []}, "pairs"),
    ({"responses": ["a", "b"], "pairs": [[0, 2]]}, "pairs[0]"),
    ({"responses": ["a", "b"], "pairs": [[1, 1]]}, "pairs[0]"),
    ({"responses": ["a", "b"], "pairs": [[0, 1], [1, 0]]}, "pairs[1]"),
    ({"responses": ["a", "b"], "pairs": [[0, True]]}, "pairs[0]"),
])
def test_bad_given_responses_name_the_file_line_and_field(row: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as e:
        parse_row({"prompt": "Q?", **row}, "in.jsonl", 4)
    assert (e.value.source, e.value.line, e.value.field) == ("in.jsonl", 4, field)


def test_given_pairs_default_to_every_pair() -> None:
    assert record().given_pairs() == list(combinations(range(4), 2))
    assert record([[2, 0]]).given_pairs() == [(2, 0)]


def test_qa_feedback_with_responses_all_gives_four_predictions_six_pairs_and_their_labels() -> None:
    questions = load_questions(FIXTURE, counter=SkipCounter("skip"))
    rows = prompt_records(questions, with_responses=True)
    for q, row in zip(questions, rows, strict=True):
        assert row["responses"] == list(q.predictions) and row["human"] == list(q.preference)
        assert row["pairs"] == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
        assert [(a - 1, b - 1) for a, b in COMPARISONS] == [tuple(p) for p in row["pairs"]]
        rec = parse_row(json.loads(json.dumps(row)), "x.jsonl", 1)  # what generation reads back
        assert rec.responses == q.predictions and rec.response is None
    assert "responses" not in prompt_records(questions)[0]
    assert prompt_records(questions, with_response=2)[0]["response"] == questions[0].predictions[1]
    with pytest.raises(UsageError, match="do not go together"):
        prompt_records(questions, with_response=1, with_responses=True)


def run_data_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    data_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", *argv])
    return int(args.func(args))


def test_with_responses_cli_writes_the_rows_and_applies_to_prompts_only(tmp_path: Path) -> None:
    out = tmp_path / "prompts.jsonl"
    assert run_data_cli(["qa-feedback", str(FIXTURE), "--output", str(out), "--with-responses", "all",
                         "--on-error", "skip"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and all(len(r["responses"]) == 4 and len(r["human"]) == 6 for r in rows)
    with pytest.raises(UsageError, match="--with-responses applies to --as prompts only"):
        run_data_cli(["qa-feedback", str(FIXTURE), "--as", "pairs", "--output", str(out), "--with-responses", "all"])
