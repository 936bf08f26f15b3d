"""`rmboost agree`: label agreement with humans on hand-made files whose answer is known by hand (a
method that copies the human labels scores 1.0, one that flips them 0.0, ties left out and counted,
pairs about no label counted), the rules beside it, RLAIF's decision rules and disagreement, the
correction-direction measure against its controls, and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import rmboost.cli as cli
from rmboost.data.agreement import agreement_report
from rmboost.data.qa_corrections import export_corrections, flipped, load_corrections
from rmboost.data.rewrite_direction import rouge_l
from rmboost.errors import InputError
from rmboost.io.rows import write_rows

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "qa_feedback" / "dev_feedback.json"
A1, B1, C1 = "Short one.", "A much longer second response here.", "Medium third text."
D, E = "Paris is the capital of France.", "Lyon."
P1, P2 = "Which one is short?", "Is Paris the capital of France?"

# q1: (A1, B1) -> A1, (A1, C1) -> C1, (B1, C1) a tie; q2: (D, E) -> D. By hand, over the 3 non-tied:
# first listed preferred in 2; the preferred is the longer in 2 (C1 over A1, D over E); it has more
# words of its prompt in 2 (A1 over B1: 1.0 vs 0; D over E: 1.0 vs 0; C1 0 vs A1 1.0 loses).
HUMAN_PROMPTS = [
    {"id": "q1", "prompt": P1, "responses": [A1, B1, C1], "human": [1, 2, 0]},
    {"id": "q2", "prompt": P2, "responses": [D, E], "pairs": [[0, 1]], "human": [1]},
]
HUMAN_PAIRS = [
    {"prompt": P1, "chosen": A1, "rejected": B1, "question_id": "q1", "chosen_listed_first": True},
    {"prompt": P1, "chosen": C1, "rejected": A1, "question_id": "q1", "chosen_listed_first": False},
    {"prompt": P1, "chosen": B1, "rejected": C1, "question_id": "q1", "tie": True},
    {"prompt": P2, "chosen": D, "rejected": E, "question_id": "q2", "chosen_listed_first": True},
]


def pair(pid: str, prompt: str, chosen: str, rejected: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "prompt": prompt, "chosen": chosen, "rejected": rejected, "method": "m", **extra}


COPY = [pair("q1#0", P1, A1, B1), pair("q1#1", P1, C1, A1), pair("q1#2", P1, B1, C1), pair("q2", P2, D, E),
        pair("q3", "Who?", "Someone.", "No one."), pair("q2#1", P2, D, "Marseille.")]
FLIP = [{**p, "chosen": p["rejected"], "rejected": p["chosen"]} for p in COPY]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    write_rows(path, rows)
    return path


@pytest.mark.parametrize("human_rows", [HUMAN_PROMPTS, HUMAN_PAIRS], ids=["prompt-rows", "pair-rows"])
@pytest.mark.parametrize("rows, expected", [(COPY, 1.0), (FLIP, 0.0)], ids=["copies", "flips"])
def test_agreement_is_known_by_hand(tmp_path: Path, human_rows: list[dict[str, Any]], rows: list[dict[str, Any]],
                                    expected: float) -> None:
    report = agreement_report(write(tmp_path / "m.jsonl", rows), write(tmp_path / "h.jsonl", human_rows))
    labels = report.labels
    assert labels is not None and report.pairs == 6
    assert (labels.matched, labels.ties, len(labels.misses)) == (4, 1, 2)
    assert [(m.line, m.field) for m in labels.misses] == [(5, "prompt"), (6, "rejected" if rows is COPY else "chosen")]
    shares = {k: (None if v is None else (round(v.share, 4), v.n)) for k, v in labels.rows.items()}
    assert shares == {"labels": (expected, 3), "first": (0.6667, 3), "longer": (0.6667, 3), "overlap": (0.6667, 3)}
    assert labels.disagreement is None  # no verdicts: not RLAIF pairs


def test_a_pair_file_without_ties_or_listing_order(tmp_path: Path) -> None:
    bare = [{k: v for k, v in r.items() if k != "chosen_listed_first"} for r in HUMAN_PAIRS if "tie" not in r]
    report = agreement_report(write(tmp_path / "m.jsonl", COPY), write(tmp_path / "h.jsonl", bare))
    assert report.labels is not None
    assert (report.labels.matched, report.labels.ties, len(report.labels.misses)) == (3, 0, 3)
    assert report.labels.rows["first"] is None and report.labels.rows["labels"].share == 1.0  # type: ignore[union-attr]


def test_rlaif_rows_each_decision_rule_and_the_disagreement_rate(tmp_path: Path) -> None:
    rows = [
        pair("q1#0", P1, A1, B1, given_pair=[0, 1], chosen_index=0, rejected_index=1,
             verdicts={"ab": "A", "ba": "B"}, agree=True, confidence=0.7, method="rlaif"),
        pair("q1#1", P1, A1, C1, given_pair=[0, 2], chosen_index=0, rejected_index=2,
             verdicts={"ab": "A", "ba": "A"}, agree=False, confidence=0.45, method="rlaif"),
        pair("q2", P2, E, D, given_pair=[0, 1], chosen_index=1, rejected_index=0,
             verdicts={"ab": "B", "ba": "A"}, agree=True, confidence=0.6, method="rlaif"),
    ]
    path = write(tmp_path / "rlaif.jsonl", rows)
    failures = [{"id": f"x{i}", "stage": "judge", "reason": r} for i, r in
                enumerate(["judges disagree", "judges disagree", "unparseable verdict"])]
    write(tmp_path / "rlaif.failures.jsonl", failures)
    labels = agreement_report(path, write(tmp_path / "h.jsonl", HUMAN_PROMPTS)).labels
    assert labels is not None
    got = {k: (round(v.share, 4), v.n) for k, v in labels.rows.items() if v is not None}
    # by hand: labels right on q1#0 only; first order picks A1, A1, E; both orders agree on q1#0 (right)
    # and q2 (wrong); averaging keeps A1 (0.7), turns q1#1 to C1 (0.45), keeps E (0.6)
    assert got["labels"] == (0.3333, 3) and got["rlaif_first_order"] == (0.3333, 3)
    assert got["rlaif_both_orders_agree"] == (0.5, 2) and got["rlaif_order_averaged"] == (0.6667, 3)
    assert labels.disagreement == {"pairs_with_both_verdicts": 3, "pairs_disagreeing": 1,
                                   "failures_judges_disagree": 2, "rate": 0.6}


@pytest.mark.parametrize("a, b, expected", [
    ("a b c d", "a c d e", 0.75),  # LCS a c d: P = R = 3/4
    ("The cat sat.", "the cat sat", 1.0),
    ("x y", "a b", 0.0),
    ("a b", "b a", 0.5),  # LCS of one word: P = R = 1/2
    ("", "a", 0.0),
])
def test_rouge_l_by_hand(a: str, b: str, expected: float) -> None:
    assert rouge_l(a, b) == pytest.approx(expected)


Y1 = "Bloom came out in 2019 through a small label."
FIXED = "Bloom came out on 31 August 2018 through EMI Australia and Capitol Records."
CORRECTIONS = [{"id": "q1:correction", "question_id": "q1", "prompt": P1, "chosen": FIXED, "rejected": Y1,
                "label": "BETTER", "method": "oracle-rewrite"}]


def test_direction_controls_and_what_is_counted_apart(tmp_path: Path) -> None:
    corrections = write(tmp_path / "c.jsonl", CORRECTIONS)
    halfway = "Bloom came out on 31 August 2018 through a small label."
    rows = [pair("q1#0", P1, FIXED, Y1, label="BETTER"),  # the correction itself, BETTER: right
            pair("q1#1", P1, Y1, FIXED, label="WORSE"),  # the same pair with the label flipped: wrong
            pair("q1#2", P1, halfway, Y1, label="BETTER"),  # moved towards it: right
            pair("q1#3", P1, Y1, halfway, label="WORSE"),  # moved towards it although WORSE: wrong
            pair("q1#4", P1, Y1, Y1 + " Really.", label="WORSE"),  # moved away: right
            pair("q1#5", P1, A1, B1, label="WORSE"),  # a rewrite of an uncorrected response
            pair("q1#6", P1, A1, B1)]  # no label: no rewrite
    d = agreement_report(write(tmp_path / "m.jsonl", rows), corrections_file=corrections).direction
    assert d is not None and (d.rewrites, d.matched, d.ties, d.not_rewrites) == (6, 5, 0, 1)
    assert [(m.line, m.field) for m in d.misses] == [(6, "chosen")]
    assert d.share is not None and (d.share.share, d.share.n) == (pytest.approx(3 / 5), 5)
    controls = agreement_report(write(tmp_path / "ctl.jsonl", rows[:1]), corrections_file=corrections).direction
    flipped_control = agreement_report(write(tmp_path / "f.jsonl", rows[1:2]), corrections_file=corrections).direction
    assert controls.share.share == 1.0 and flipped_control.share.share == 0.0  # type: ignore[union-attr]


@pytest.mark.skipif(not REAL.exists(), reason="QA-Feedback's dev_feedback.json is not in ../shared")
def test_direction_controls_on_every_real_correction(tmp_path: Path) -> None:
    corrections = tmp_path / "corrections.jsonl"
    n = export_corrections(REAL, corrections, "train")
    pairs = load_corrections(REAL, "train")
    write(tmp_path / "flipped.jsonl", [p.to_dict() for p in flipped(pairs)])
    right = agreement_report(corrections, corrections_file=corrections).direction
    wrong = agreement_report(tmp_path / "flipped.jsonl", corrections_file=corrections).direction
    for d, expected in ((right, 1.0), (wrong, 0.0)):
        assert d is not None and d.matched == n and not d.misses and d.share is not None
        assert d.share.share == expected and d.share.n + d.ties == n and d.ties < n / 50


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "COMMANDS", ["agree"])  # this command alone: the others are not under test here
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_prints_a_table_or_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    m, h = write(tmp_path / "m.jsonl", COPY), write(tmp_path / "h.jsonl", HUMAN_PROMPTS)
    code, out, _ = run_cli(["agree", str(m), "--human", str(h)], monkeypatch, capsys)
    assert code == 0 and "the file's labels" in out and "rule: first listed" in out and "1 of them human ties" in out
    assert f"about none: {m}:5: field 'prompt'" in out
    code, out, _ = run_cli(["agree", str(m), "--human", str(h), "--json"], monkeypatch, capsys)
    data = json.loads(out)
    assert code == 0 and data["labels"]["agreement"]["labels"]["share"] == 1.0
    assert data["labels"]["human_ties_left_out"] == 1 and data["labels"]["unmatched"] == 2


def bad_files(tmp: Path) -> dict[str, tuple[list[str], str]]:
    h = write(tmp / "h.jsonl", HUMAN_PROMPTS)
    (tmp / "garbled.jsonl").write_text(json.dumps(COPY[0]) + "\n{not json\n")
    return {
        "missing": (["agree", str(tmp / "none.jsonl"), "--human", str(h)], f"{tmp / 'none.jsonl'}: no such file"),
        "garbled": (["agree", str(tmp / "garbled.jsonl"), "--human", str(h)], f"{tmp / 'garbled.jsonl'}:2:"),
        "no chosen": (["agree", str(write(tmp / "nc.jsonl", [{"prompt": P1, "rejected": A1}])), "--human", str(h)],
                      f"{tmp / 'nc.jsonl'}:1: field 'chosen'"),
        "not in the human file": (["agree", str(write(tmp / "o.jsonl", [COPY[4]])), "--human", str(h)],
                                  f"{tmp / 'o.jsonl'}:1: field 'prompt' its question is not in {h}"),
        "bad human labels": (["agree", str(write(tmp / "m.jsonl", COPY)), "--human",
                              str(write(tmp / "bad.jsonl", [{**HUMAN_PROMPTS[0], "human": [1, 2]}]))],
                             f"{tmp / 'bad.jsonl'}:1: field 'human'"),
        "rewrites against human labels": (["agree", str(write(tmp / "r.jsonl", [pair("q2", P2, D, "Rome.",
                                                                                      label="BETTER")])),
                                           "--human", str(h)], f"{tmp / 'r.jsonl'}:1: field 'rejected'"),
        "no rewrite to check": (["agree", str(write(tmp / "n.jsonl", COPY)), "--corrections",
                                 str(write(tmp / "c.jsonl", CORRECTIONS))], f"{tmp / 'n.jsonl'}:1: field 'label'"),
    }


@pytest.mark.parametrize("case", ["missing", "garbled", "no chosen", "not in the human file", "bad human labels",
                                  "rewrites against human labels", "no rewrite to check"])
def test_errors_are_one_line_with_file_line_and_field(tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    argv, expected = bad_files(tmp_path)[case]
    code, out, err = run_cli(argv, monkeypatch, capsys)
    assert code == 3 and not out
    assert err.count("\n") == 1 and err.startswith("rmboost: error: ") and expected in err, err


def test_nothing_to_compare_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["agree", str(write(tmp_path / "m.jsonl", COPY))], monkeypatch, capsys)
    assert code == 2 and "needs --human FILE, --corrections FILE or both" in err


def test_require_matches_is_the_library_call_the_command_makes(tmp_path: Path) -> None:
    report = agreement_report(write(tmp_path / "o.jsonl", [COPY[4]]), write(tmp_path / "h.jsonl", HUMAN_PROMPTS))
    assert report.labels is not None and report.labels.matched == 0  # the library counts ...
    with pytest.raises(InputError):  # ... and the command refuses
        report.require_matches()


def test_the_flat_row_for_the_experiment(tmp_path: Path) -> None:
    rows = [pair("q1#0", P1, FIXED, Y1, label="BETTER")]
    report = agreement_report(write(tmp_path / "m.jsonl", COPY), write(tmp_path / "h.jsonl", HUMAN_PROMPTS),
                              write(tmp_path / "c.jsonl", CORRECTIONS))
    row = report.row()
    assert (row["labels"], row["labels_n"], row["human_ties"], row["unmatched"]) == (1.0, 3, 1, 2)
    assert row["first"] == pytest.approx(2 / 3) and "direction" not in row and row["rewrites"] == 0
    both = agreement_report(write(tmp_path / "r.jsonl", rows), corrections_file=tmp_path / "c.jsonl").row()
    assert (both["direction"], both["direction_n"], both["rewrites_matched"]) == (1.0, 1, 1) and "labels" not in both
