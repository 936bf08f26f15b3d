"""QA-Feedback's human corrections as known-good pairs: the real file, each quirk, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, read_jsonl
from rmboost.cli import main
from rmboost.data.qa_corrections import NO_CORRECTION, UNCHANGED, flipped, load_corrections
from rmboost.data.qa_feedback import load_questions, question_id, split_of
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter

FIX = Path(__file__).parent / "fixtures"


def collapse(text: str) -> str:
    return " ".join(text.split())


def test_real_file_pairs_are_the_raw_corrections_over_prediction_1():
    raw = json.loads(QA_FEEDBACK.read_text())
    # The oracle: read the raw JSON directly, not through the loader.
    has = [q for q in raw if q["feedback"]["corrected-prediction"].strip()]
    usable = [q for q in has if collapse(q["feedback"]["corrected-prediction"]) != collapse(q["prediction 1"])]
    assert len(has) == 487  # as the issue counts
    counter = SkipCounter()
    got = load_corrections(QA_FEEDBACK, counter=counter)
    assert len(got) == len(usable) == 481
    assert counter.left_out == {NO_CORRECTION: 500 - 487, UNCHANGED: 487 - 481} and counter.skipped == 0
    by_question = {p.extra["question_id"]: p for p in got}
    bonnie = raw[6]
    assert bonnie["question"] == "Who played bonnie in gone with the wind?"
    pair = by_question[question_id(bonnie["question"])]
    assert pair.chosen == bonnie["feedback"]["corrected-prediction"].strip()
    assert pair.rejected == bonnie["prediction 1"].strip()
    # Irrelevant, Unverifiable, Wrong-Grounding, Missing-Answer, Missing-Major-Auxiliary:
    assert pair.aspects == ["relevance", "faithfulness", "correctness", "completeness"]
    assert (pair.label, pair.method, pair.task) == ("BETTER", "oracle-rewrite", "qa")
    assert pair.prompt.endswith("Question: " + bonnie["question"]) and bonnie["passages"][0][0] in pair.prompt
    # Incoherent, Irrelevant, Missing-Minor-Auxiliary, Redundant, Unverifiable:
    masters = by_question[question_id(raw[46]["question"])]
    assert masters.aspects == ["relevance", "faithfulness", "completeness", "coherence"]


def test_real_file_split_keeps_to_its_side():
    train = load_corrections(QA_FEEDBACK, "train")
    test = load_corrections(QA_FEEDBACK, "test")
    assert len(train) + len(test) == 481
    train_ids = {q.id for q in load_questions(QA_FEEDBACK, "train")}
    assert {p.extra["question_id"] for p in train} <= train_ids
    assert not {p.extra["question_id"] for p in test} & train_ids


def test_missing_identical_and_empty_corrections_are_counted_never_pairs():
    raw = json.loads((FIX / "qa_corrections_quirks.json").read_text())
    counter = SkipCounter()
    (pair,) = load_corrections(FIX / "qa_corrections_quirks.json", counter=counter)
    assert pair.chosen == raw[0]["feedback"]["corrected-prediction"].strip()
    assert pair.rejected == raw[0]["prediction 1"]
    assert pair.aspects == ["correctness", "completeness", "coherence"]  # Wrong-Grounding, Missing-Answer, Redundant
    # row 2 has no corrected-prediction, row 4 an empty one; row 3 repeats prediction 1 with other spacing
    assert counter.left_out == {NO_CORRECTION: 2, UNCHANGED: 1}


def test_malformed_feedback_names_file_question_and_field(tmp_path: Path):
    with pytest.raises(InputError) as e:
        load_corrections(FIX / "qa_corrections_malformed.json")
    assert str(e.value) == (f"{FIX / 'qa_corrections_malformed.json'}:2: field 'feedback.corrected-prediction' "
                            "must be a string")
    counter = SkipCounter("skip")
    assert len(load_corrections(FIX / "qa_corrections_malformed.json", counter=counter)) == 1
    assert counter.skipped == 1

    row = json.loads((FIX / "qa_corrections_quirks.json").read_text())[0]
    for feedback, field in [("text", "feedback"), ({"errors": {}, "corrected-prediction": "x"}, "feedback.errors"),
                            ({"errors": [{"error type": "Typo"}], "corrected-prediction": "x"},
                             "feedback.errors[0].error type"),
                            ({"missing-info": [3], "corrected-prediction": "x"},
                             "feedback.missing-info[0].error type")]:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps([row, {**row, "feedback": feedback}]))
        with pytest.raises(InputError) as e:
            load_corrections(path)
        assert (e.value.line, e.value.field) == (2, field), feedback


def test_flipped_swaps_chosen_and_rejected():
    pairs = load_corrections(FIX / "qa_corrections_quirks.json", counter=SkipCounter())
    (flip,) = flipped(pairs)
    assert (flip.chosen, flip.rejected) == (pairs[0].rejected, pairs[0].chosen)
    assert flip.id == pairs[0].id and flip.label == "WORSE" and flip.method == "oracle-rewrite-flipped"


def test_cli_writes_corrections_and_reports_what_it_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "corrections.jsonl"
    assert main(["data", "qa-feedback", str(FIX / "qa_corrections_quirks.json"), "--as", "corrections",
                 "--output", str(out)]) == 0
    (row,) = read_jsonl(out)
    assert row["label"] == "BETTER" and row["aspects"] == ["correctness", "completeness", "coherence"]
    first = json.loads((FIX / "qa_corrections_quirks.json").read_text())[0]
    assert row["question_id"] == question_id(first["question"])
    err = capsys.readouterr().err
    assert "wrote 1 corrections" in err and f"left out 2 questions: {NO_CORRECTION}" in err
    assert f"left out 1 questions: {UNCHANGED}" in err

    train = tmp_path / "train.jsonl"
    assert main(["data", "qa-feedback", str(QA_FEEDBACK), "--as", "corrections", "--split", "train",
                 "--output", str(train)]) == 0
    raw = json.loads(QA_FEEDBACK.read_text())
    expected = [q for q in raw if split_of(q["question"]) == "train" and q["feedback"]["corrected-prediction"].strip()
                and collapse(q["feedback"]["corrected-prediction"]) != collapse(q["prediction 1"])]
    assert [r["chosen"] for r in read_jsonl(train)] == [q["feedback"]["corrected-prediction"].strip() for q in expected]
    assert main(["data", "qa-feedback", str(FIX / "qa_corrections_malformed.json"), "--as", "corrections",
                 "--output", str(tmp_path / "x.jsonl")]) != 0
    assert "qa_corrections_malformed.json:2: field 'feedback.corrected-prediction'" in capsys.readouterr().err
