"""UltraFeedback in both forms on hand-made fixtures in the official formats: the rating rule of raw
rows (N/A ratings, empty responses, ties, too few completions, each counted), binarized rows through
the TRL reader (the repeated prompt split off, diverging conversations left out and counted), and the
`rmboost data ultrafeedback` command. Expected numbers are hand counts from the fixtures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import read_jsonl
from rmboost.cli import main
from rmboost.data.trl_pairs import DIVERGED, load_trl_pairs
from rmboost.data.ultrafeedback import (
    EMPTY,
    ONE_RESPONSE,
    TIED,
    TOO_FEW,
    UNRATED,
    load_rows,
    load_ultrafeedback,
    prompt_records,
)
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter

FIX = Path(__file__).parent / "fixtures"
RAW_FILE = FIX / "ultrafeedback_raw.jsonl"
BIN_FILE = FIX / "ultrafeedback_binarized.jsonl"
BAD_FILE = FIX / "ultrafeedback_malformed.jsonl"
RAW = [json.loads(line) for line in RAW_FILE.read_text().splitlines()]
BIN = [json.loads(line) for line in BIN_FILE.read_text().splitlines()]


def response(row: int, k: int) -> str:
    return RAW[row - 1]["completions"][k]["response"]


def test_raw_rows_pair_the_highest_over_the_lowest_mean_rating() -> None:
    counter = SkipCounter()
    pairs = load_ultrafeedback(RAW_FILE, counter)
    # Means by hand: row 1 4.5/2.0/3.25/4.0; row 2 (c0 N/A) 5.0/1.5/3.0; row 5 (c0 empty) 2.75/4.25/4.25;
    # row 6 1.0/3.0/2.0/4.5. Row 3 ties at 4.0; row 4 has one fully rated completion, row 7 only one.
    expected = [(1, 0, 1), (2, 1, 2), (5, 2, 1), (6, 3, 0)]
    assert [(p.chosen, p.rejected) for p in pairs] == [(response(r, c), response(r, w)) for r, c, w in expected]
    assert [p.extra["chosen_listed_first"] for p in pairs] == [True, True, False, False]
    assert [(p.extra["score_chosen"], p.extra["score_rejected"]) for p in pairs] == [
        (4.5, 2.0), (5.0, 1.5), (4.25, 2.75), (4.5, 1.0)]
    assert counter.left_out == {TIED: 1, TOO_FEW: 2}
    assert counter.notes == {UNRATED: 4, EMPTY: 1}  # N/A: row 2 one, row 4 three; empty: row 5
    assert len(pairs) + sum(counter.left_out.values()) == len(RAW)
    first = pairs[0]
    assert first.prompt == RAW[0]["instruction"] and not first.conversational and first.task == "ultrafeedback"
    assert first.extra["subset"] == "sharegpt" and first.extra["chosen_model"] == "gpt-4"
    assert first.id == "uf-" + hashlib.sha256(RAW[0]["instruction"].encode()).hexdigest()[:16]


def test_binarized_rows_split_off_the_repeated_prompt() -> None:
    counter = SkipCounter()
    pairs = load_ultrafeedback(BIN_FILE, counter)
    # Row 2 ties (7.0 = 7.0); row 3's first assistant turns differ; rows 1, 4, 5 are pairs.
    assert counter.left_out == {TIED: 1, DIVERGED: 1} and len(pairs) == 3
    one, multi, spaced = pairs
    assert one.prompt == BIN[0]["prompt"] and not one.conversational  # one user turn: a plain prompt
    assert (one.chosen, one.rejected) == (BIN[0]["chosen"][1]["content"], BIN[0]["rejected"][1]["content"])
    assert one.id == "uf-" + BIN[0]["prompt_id"][:16] and one.extra["score_chosen"] == 8.5
    assert multi.conversational and multi.prompt == BIN[3]["chosen"][:3]
    assert (multi.chosen, multi.rejected) == ("Bartholomew.", "Cat.")
    assert spaced.prompt == BIN[4]["chosen"][0]["content"]  # the prompt string differs only in spacing


def test_binarized_rows_load_through_the_trl_reader() -> None:
    counter = SkipCounter()
    pairs = load_trl_pairs(BIN_FILE, counter)
    # TRL knows no scores, so the tied row 2 is a pair; row 3 diverges and is left out, not raised.
    assert len(pairs) == 4 and counter.left_out == {DIVERGED: 1} and counter.skipped == 0
    assert pairs[0].prompt == [{"role": "user", "content": BIN[0]["prompt"]}] and pairs[0].conversational
    assert pairs[0].chosen == BIN[0]["chosen"][-1]["content"]
    assert pairs[2].prompt == BIN[3]["chosen"][:-1]


def test_trl_implicit_prompt_rows_that_diverge_are_counted_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "implicit.jsonl"
    turn = [{"role": "user", "content": "Hi"}]
    rows = [
        {"chosen": turn + [{"role": "assistant", "content": "Hello"}],
         "rejected": turn + [{"role": "assistant", "content": "Go"}]},
        {"chosen": turn + [{"role": "assistant", "content": "A"}, {"role": "user", "content": "More"},
                           {"role": "assistant", "content": "B"}],
         "rejected": turn + [{"role": "assistant", "content": "C"}]},  # a turn fewer: diverged
        {"chosen": [{"role": "assistant", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError) as e:  # no turn before the reply: malformed, not diverged
        load_trl_pairs(path)
    assert (e.value.line, e.value.field) == (3, "chosen")
    counter = SkipCounter("skip")
    assert len(load_trl_pairs(path, counter)) == 1
    assert counter.left_out == {DIVERGED: 1} and counter.skipped == 1


def test_prompt_records_with_every_completion() -> None:
    counter = SkipCounter()
    records = prompt_records(load_rows(RAW_FILE, counter), "all", counter)
    assert len(records) == 7  # a prompt needs no rating: every row is one
    assert [len(r.get("responses", [])) for r in records] == [4, 4, 4, 4, 3, 4, 0]  # row 5's empty one dropped
    assert records[6]["response"] == response(7, 0)
    assert counter.notes == {EMPTY: 1, ONE_RESPONSE: 1}  # row 5's empty completion; row 7's one completion
    assert records[0]["responses"] == [c["response"] for c in RAW[0]["completions"]]
    assert all(r["task"] == "ultrafeedback" for r in records)
    assert "responses" not in prompt_records(load_rows(RAW_FILE))[0]


def test_a_malformed_row_names_file_line_and_field() -> None:
    with pytest.raises(InputError) as e:
        load_ultrafeedback(BAD_FILE)
    assert (e.value.line, e.value.field) == (2, "completions[1].annotations.honesty.Rating")
    counter = SkipCounter("skip")
    pairs = load_ultrafeedback(BAD_FILE, counter)
    # Rows 1 (raw) and 7 (binarized) are good; 2 a rating "six", 3 completions not a list, 4 chosen
    # scored below rejected, 5 a prompt that is no user turn, 6 an aspect missing, 8 not an object,
    # 9 chosen without the prompt's turn.
    assert len(pairs) == 2 and counter.skipped == 7
    fields = [err.split("field '")[1].split("'")[0] for err in counter.first_errors]
    assert fields == ["completions[1].annotations.honesty.Rating", "completions", "score_chosen", "prompt",
                      "completions[0].annotations.truthfulness"]


def test_cli_pairs_prompts_and_errors(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pairs.jsonl"
    assert main(["data", "ultrafeedback", str(RAW_FILE), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert len(read_jsonl(out)) == 4 and f"wrote 4 pairs to {out}" in err
    assert f"left out 1: {TIED}" in err and f"left out 2: {TOO_FEW}" in err and f"4 {UNRATED}" in err
    prompts = tmp_path / "prompts.parquet"
    assert main(["data", "ultrafeedback", str(BIN_FILE), "--as", "prompts", "--with-responses", "all",
                 "--output", str(prompts)]) == 0
    assert f"wrote 4 prompts to {prompts}, left out 1: {DIVERGED}" in capsys.readouterr().err
    assert main(["data", "ultrafeedback", str(BAD_FILE), "--output", str(tmp_path / "x.jsonl")]) == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"rmboost: error: {BAD_FILE}:2: field 'completions[1].annotations.honesty.Rating' must be a "
                     "rating '1'-'5' or 'N/A', got 'six'"]
    assert main(["data", "ultrafeedback", str(RAW_FILE), "--with-responses", "all", "--output", str(out)]) == 2


def test_prompt_records_read_back_through_the_prompt_reader(tmp_path: Path) -> None:
    from rmboost.data.ultrafeedback import export
    from rmboost.io.prompts import read_prompts
    from rmboost.records import PromptRecord

    out = tmp_path / "prompts.jsonl"
    assert export(RAW_FILE, out, "prompts", with_responses="all") == 7
    records = list(read_prompts(out))
    assert all(isinstance(r, PromptRecord) for r in records)
    assert [len(r.responses or ()) for r in records] == [4, 4, 4, 4, 3, 4, 0]  # type: ignore[union-attr]
    assert records[6].response == response(7, 0)  # type: ignore[union-attr]
    assert export(BIN_FILE, out, "prompts") == 4  # row 3 diverges: no prompt
    assert [r.prompt for r in read_prompts(out)][2] == BIN[3]["chosen"][:3]  # type: ignore[union-attr]
