"""HH-RLHF, RewardBench and TRL pair loaders on tiny fixtures, malformed rows included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rmboost.data.formats import load_pairs
from rmboost.data.hh import DIVERGED, load_hh, split_transcript
from rmboost.data.rewardbench import load_rewardbench
from rmboost.data.trl_pairs import load_trl_pairs
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, write_rows

FIX = Path(__file__).parent / "fixtures"


def test_hh_splits_transcripts_into_prompt_and_final_reply():
    counter = SkipCounter("skip")
    single, multi = load_hh(FIX / "hh_small.jsonl", counter)
    assert single.prompt == [{"role": "user", "content": "What is 2+2?"}]
    assert (single.chosen, single.rejected) == ("4.", "5.")
    assert [m["role"] for m in multi.prompt] == ["user", "assistant", "user"]
    assert multi.chosen == "An apple." and multi.rejected == "A chair."
    assert single.to_dict()["chosen"] == [{"role": "assistant", "content": "4."}]
    assert counter.skipped == 1  # broken JSON
    assert counter.left_out == {DIVERGED: 1}  # different histories: left out, not an error


def test_hh_rows_whose_transcripts_diverge_are_left_out_and_counted_even_without_skip():
    counter = SkipCounter()  # on_error raise: a diverged row is no error
    with pytest.raises(InputError) as e:
        load_hh(FIX / "hh_quirks.jsonl", counter)
    assert (e.value.line, e.value.field) == (5, "rejected")  # really broken rows still stop the load
    assert counter.left_out == {DIVERGED: 2}  # rows 3 (a turn missing) and 4 (two turns merged)
    counter = SkipCounter("skip")
    clean, spaced = load_hh(FIX / "hh_quirks.jsonl", counter)
    assert clean.chosen == "4." and counter.skipped == 2 and counter.left_out == {DIVERGED: 2}
    # Earlier turns that differ only in spacing are the same conversation: chosen's turns are the prompt.
    assert spaced.prompt == [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"},
                             {"role": "user", "content": "Name a fruit."}]
    assert (spaced.chosen, spaced.rejected) == ("An apple.", "A chair.")


def test_eval_reports_the_rows_it_left_out(tmp_path, capsys):
    from rmboost.cli import main
    from rmboost.rm.train import train_reward_model

    pairs = load_hh(FIX / "hh_quirks.jsonl", SkipCounter("skip"))
    train_reward_model(pairs * 4, "embed-linear", 0, epochs=1).save(tmp_path / "rm")
    assert main(["eval", "--rm", str(tmp_path / "rm"), "--data", str(FIX / "hh_quirks.jsonl"), "--format", "hh",
                 "--on-error", "skip", "--n-boot", "10"]) == 0
    err = capsys.readouterr().err
    assert "skipped 2 malformed rows" in err and f"left out 2 rows: {DIVERGED}" in err


def test_hh_rejects_text_before_first_turn():
    with pytest.raises(ValueError):
        split_transcript("preamble\n\nHuman: hi\n\nAssistant: hello")


def test_rewardbench_keeps_subset_and_reports_missing_field():
    with pytest.raises(InputError) as e:
        load_rewardbench(FIX / "rewardbench_small.jsonl")
    assert (e.value.line, e.value.field) == (3, "rejected")
    counter = SkipCounter("skip")
    got = load_rewardbench(FIX / "rewardbench_small.jsonl", counter)
    assert [p.extra["subset"] for p in got] == ["alpacaeval-easy", "math-prm"]
    assert got[1].prompt == "2+2?" and got[1].chosen == "4" and counter.skipped == 1


def test_trl_standard_conversational_and_implicit_prompt():
    counter = SkipCounter("skip")
    std, conv, implicit = load_trl_pairs(FIX / "trl_small.jsonl", counter)
    assert (std.prompt, std.chosen, std.rejected, std.conversational) == ("Say hi.", "Hi!", "Go away.", False)
    assert std.id == "s1" and std.method == "rmboost"
    assert conv.conversational and conv.prompt == [{"role": "user", "content": "Say hi."}]
    assert conv.chosen == "Hi!" and conv.rejected == "Go away."
    assert implicit.prompt == [{"role": "user", "content": "Q"}] and implicit.chosen == "good"
    assert counter.skipped == 1
    with pytest.raises(InputError) as e:
        load_trl_pairs(FIX / "trl_small.jsonl")
    assert (e.value.line, e.value.field) == (4, "rejected")


def test_trl_parquet_round_trip(tmp_path):
    pairs = load_trl_pairs(FIX / "trl_small.jsonl", SkipCounter("skip"))
    for conversational in (False, True):
        originals = [p for p in pairs if p.conversational == conversational]
        path = tmp_path / f"{conversational}.parquet"
        write_rows(path, [p.to_dict() for p in originals])
        back = load_trl_pairs(path)
        assert [(p.prompt, p.chosen, p.rejected, p.conversational) for p in back] == [
            (p.prompt, p.chosen, p.rejected, p.conversational) for p in originals
        ]


def test_trl_reports_invalid_json_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n{oops\n")
    with pytest.raises(InputError) as e:
        load_trl_pairs(f)
    assert e.value.line == 2 and "bad.jsonl:2" in str(e.value)


def test_load_pairs_dispatches_by_format():
    assert len(load_pairs(FIX / "rewardbench_small.jsonl", "rewardbench", SkipCounter("skip"))) == 2
    assert len(load_pairs(FIX / "qa_feedback_small.json", "qa-feedback", SkipCounter("skip"))) == 8
    with pytest.raises(ValueError):
        load_pairs(FIX / "trl_small.jsonl", "csv")
