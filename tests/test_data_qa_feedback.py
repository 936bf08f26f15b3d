"""QA-Feedback loading, the question-level split and the `rmboost data qa-feedback` export."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rmboost.cli import data as data_cli
from rmboost.data.qa_feedback import (
    export,
    load_questions,
    pairs,
    passages_text,
    prompt_records,
    question_id,
    split_of,
)
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter
from rmboost.prompts.tasks import load_task

FIXTURE = Path(__file__).parent / "fixtures" / "qa_feedback_small.json"
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "qa_feedback" / "dev_feedback.json"


def run_data_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    data_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", *argv])
    return args.func(args)


def test_malformed_question_names_file_and_row():
    with pytest.raises(InputError) as e:
        load_questions(FIXTURE)
    assert e.value.line == 3 and e.value.field == "preference"
    assert str(FIXTURE) in str(e.value)


def test_malformed_question_skipped_and_counted():
    counter = SkipCounter(on_error="skip")
    qs = load_questions(FIXTURE, counter=counter)
    assert len(qs) == 2 and counter.skipped == 1


def test_pairs_follow_the_six_labels_and_drop_ties():
    (q,) = load_questions(FIXTURE, counter=SkipCounter("skip"))[:1]
    # preference [0, 1, 2, 1, 0, 2] over 1v2, 1v3, 1v4, 2v3, 2v4, 3v4
    got = {p.id.split(":")[1]: p for p in pairs([q])}
    assert sorted(got) == ["1v3", "1v4", "2v3", "3v4"]
    assert got["1v3"].chosen == q.predictions[0] and got["1v3"].rejected == q.predictions[2]
    assert got["1v4"].chosen == q.predictions[3] and got["1v4"].rejected == q.predictions[0]
    assert got["1v3"].extra["chosen_listed_first"] is True
    assert got["1v4"].extra["chosen_listed_first"] is False
    row = got["3v4"].to_dict()
    assert row["method"] == "human" and row["task"] == "qa" and row["id"] == f"{q.id}:3v4"
    assert row["prompt"] == load_task("qa").render_user(q.question, q.context)


def test_passages_text_drops_repeated_title():
    text = passages_text([["Bloom", "Bloom\n\nBloom is an album.", "It came out in 2018."], ["Other", "x"]])
    assert text == "Bloom: Bloom is an album. It came out in 2018.\n\nOther: x"


def test_split_is_by_question_text_not_position():
    qs = load_questions(FIXTURE, counter=SkipCounter("skip"))
    assert [split_of(q.question) for q in qs] == [split_of(q.question) for q in reversed(qs)][::-1]
    assert question_id("  Who?  ") == question_id("Who?")


def test_real_split_is_disjoint_deterministic_and_about_half():
    train = load_questions(REAL, "train")
    test = load_questions(REAL, "test")
    assert not {q.question for q in train} & {q.question for q in test}
    assert len(train) + len(test) == 500
    assert 200 <= len(train) <= 300
    assert [q.id for q in load_questions(REAL, "train")] == [q.id for q in train]
    train_pairs, test_pairs = pairs(train), pairs(test)
    assert len(train_pairs) + len(test_pairs) == 2616
    assert not {p.prompt for p in train_pairs} & {p.prompt for p in test_pairs}


def test_cli_exports_prompts_and_pairs_with_the_same_split(tmp_path):
    prompts_out, pairs_out = tmp_path / "p.jsonl", tmp_path / "pairs.jsonl"
    assert (
        run_data_cli(
            [
                "qa-feedback",
                str(FIXTURE),
                "--as",
                "prompts",
                "--split",
                "all",
                "--on-error",
                "skip",
                "--output",
                str(prompts_out),
            ]
        )
        == 0
    )
    records = [json.loads(line) for line in prompts_out.read_text().splitlines()]
    assert [set(r) for r in records] == [{"id", "prompt", "context", "task"}] * 2
    assert records[0]["task"] == "qa" and records[0]["context"].startswith("Bloom (Troye Sivan album): ")
    run_data_cli(
        ["qa-feedback", str(FIXTURE), "--as", "pairs", "--on-error", "skip", "--output", str(pairs_out)]
    )
    rows = [json.loads(line) for line in pairs_out.read_text().splitlines()]
    assert {r["id"].split(":")[0] for r in rows} == {r["id"] for r in records}
    assert all(r["method"] == "human" for r in rows)


def test_export_parquet_round_trips(tmp_path):
    out = tmp_path / "pairs.parquet"
    n = export(FIXTURE, out, "all", "pairs", "parquet", SkipCounter("skip"))
    table = pq.read_table(out).to_pylist()
    assert len(table) == n == 4 + 4  # both fixture questions have two ties
    assert {"prompt", "chosen", "rejected", "id", "method"} <= set(table[0])


def test_prompt_records_shape():
    qs = load_questions(FIXTURE, "all", SkipCounter("skip"))
    assert prompt_records(qs)[0] == {
        "id": qs[0].id,
        "prompt": qs[0].question,
        "context": qs[0].context,
        "task": "qa",
    }
