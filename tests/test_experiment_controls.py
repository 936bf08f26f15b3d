"""The experiment's controls (QA-Feedback's human corrections and their flipped copy) and the
Syn sets' size (`syn_size`, pairs per prompt, the cut and its notes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, read_jsonl
from rmboost.data.qa_feedback import question_id
from rmboost.errors import UserError
from rmboost.experiment.run import run_experiment
from rmboost.experiment.summary import CANNOT_TELL, SEES, controls_verdict
from rmboost.experiment.syn_sets import cut_sets


def qa_config(tmp_path: Path, extra: str, methods: str = "[rmboost]") -> Path:
    path = tmp_path / "qa.yaml"
    path.write_text(f"""
name: controls-test
data: {QA_FEEDBACK}
train_prompts: 6
test_pairs: 40
methods: {methods}
reward_models: [embed-linear]
generation: {{backend: fake, concurrency: 4, progress: false}}
rm_overrides: {{embed-linear: {{epochs: 3}}}}
bootstrap: 100
embeddings: false
{extra}
""")
    return path


def test_controls_are_the_training_corrections_and_their_flipped_copy(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(qa_config(tmp_path, "controls: true"), out)
    assert [r["train_set"] for r in summary["results"]] == [
        "real", "rmboost", "oracle-rewrite", "oracle-rewrite-flipped",
        "real+rmboost", "real+oracle-rewrite", "real+oracle-rewrite-flipped"]
    size = summary["sizes"]["syn_pairs"]
    assert summary["sizes"]["control_pairs"] == size  # no syn_size: every set cut to the smallest
    assert {r["train_pairs"] for r in summary["results"] if r["train_set"] in ("rmboost", "oracle-rewrite")} == {size}

    # The oracle: the raw file's corrections of the training questions.
    raw = {question_id(q["question"]): q for q in json.loads(QA_FEEDBACK.read_text())}
    training = {p["id"] for p in read_jsonl(out / "data" / "train_prompts.jsonl")}
    good = read_jsonl(out / "pairs" / f"oracle-rewrite.syn{size}.jsonl")
    bad = read_jsonl(out / "pairs" / f"oracle-rewrite-flipped.syn{size}.jsonl")
    assert len(good) == size and {r["question_id"] for r in good} <= training
    for row in good:
        q = raw[row["question_id"]]
        assert row["chosen"] == q["feedback"]["corrected-prediction"].strip()
        assert row["rejected"] == q["prediction 1"].strip() and row["label"] == "BETTER"
    assert [(r["id"], r["chosen"], r["rejected"]) for r in bad] == [(r["id"], r["rejected"], r["chosen"]) for r in good]

    acc = {r["train_set"]: r["accuracy"] for r in summary["results"]}
    verdicts = {v["yardstick"]: v for v in summary["controls"]["verdicts"]}  # one kind, two yardsticks
    assert set(verdicts) == {"human-pairs", "human-corrections"}
    v = verdicts["human-pairs"]
    rows = {(r["a"], r["b"]): r for r in v["rows"]}
    assert set(rows) == {("oracle-rewrite", "oracle-rewrite-flipped"), ("real+oracle-rewrite", "real"),
                         ("real+oracle-rewrite", "real+oracle-rewrite-flipped")}
    row = rows[("oracle-rewrite", "oracle-rewrite-flipped")]
    assert row["difference"] == pytest.approx(acc["oracle-rewrite"] - acc["oracle-rewrite-flipped"])
    assert row["ci_low"] <= row["difference"] <= row["ci_high"]
    assert v["verdict"].startswith("not readable: not calibrated")  # no calibration, no verdict
    table = (out / "results.md").read_text()
    assert "## Controls" in table and f"embed-linear on human-pairs: {v['verdict']}" in table
    assert "| oracle-rewrite - oracle-rewrite-flipped | embed-linear |" in table
    assert v in json.loads((out / "results.json").read_text())["controls"]["verdicts"]

    rerun = run_experiment(qa_config(tmp_path, "controls: true"), out)
    assert rerun["results"] == summary["results"]  # the controls resume like every set


def _row(a: str, b: str, d: float, lo: float, hi: float) -> dict:
    return {"a": a, "b": b, "difference": d, "ci_low": lo, "ci_high": hi}


READABLE = {"readable": True, "mdd": 0.03, "sensitivity": 0.16, "sensitivity_ci": [0.1, 0.22]}
MAIN, WITH_REAL, ADDED = ("oracle-rewrite", "oracle-rewrite-flipped"), \
    ("real+oracle-rewrite", "real+oracle-rewrite-flipped"), ("real+oracle-rewrite", "real")


@pytest.mark.parametrize("rows, instrument, says", [
    ([_row(*MAIN, 0.05, 0.02, 0.08)], READABLE, SEES),
    # above 0, but under the smallest readable difference
    ([_row(*MAIN, 0.02, 0.005, 0.035)], READABLE, CANNOT_TELL),
    # the small profile on main: "cannot tell" while two control rows were significant the wrong way
    ([_row(*MAIN, -0.01, -0.05, 0.03), _row(*WITH_REAL, -0.043, -0.078, -0.013), _row(*ADDED, 0.0, -0.02, 0.02)],
     READABLE, "contradicts the known-good data: real+oracle-rewrite - real+oracle-rewrite-flipped -0.043"),
    ([_row(*MAIN, 0.05, 0.02, 0.08), _row(*ADDED, -0.02, -0.035, -0.005)], READABLE, "contradicts"),
    ([_row(*MAIN, 0.05, 0.02, 0.08)], {**READABLE, "readable": False}, "not readable at this size"),
    ([_row(*MAIN, 0.05, 0.02, 0.08)], None, "not readable: not calibrated"),
])
def test_the_controls_verdict_weighs_every_row_and_needs_a_readable_instrument(rows: list, instrument: dict | None,
                                                                                says: str) -> None:
    assert controls_verdict(rows, instrument).startswith(says)


def test_a_config_with_no_method_trains_the_controls_alone(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(qa_config(tmp_path, "controls: true", methods="[]"), out)
    assert [r["train_set"] for r in summary["results"]] == [
        "real", "oracle-rewrite", "oracle-rewrite-flipped", "real+oracle-rewrite", "real+oracle-rewrite-flipped"]
    assert summary["generation"] == [] and summary["sizes"]["syn_pairs"] is None
    assert summary["sizes"]["control_pairs"] == len(read_jsonl(out / "pairs" / "oracle-rewrite.jsonl")) > 0
    table = (out / "results.md").read_text()
    assert "## Generation in this invocation\n\nNone: the config names no method." in table
    assert "| set | pairs made |" not in table


def test_cut_sets_says_when_a_set_falls_short(tmp_path: Path) -> None:
    def rows(n: int, tag: str) -> list[dict]:
        return [{"id": f"{tag}{i:02d}#0", "prompt": "p", "chosen": f"c{i}", "rejected": "r"} for i in range(n)]

    cut = cut_sets({"a": rows(12, "a"), "b": rows(9, "b"), "empty": []},
                   {"oracle-rewrite": rows(5, "o"), "oracle-rewrite-flipped": rows(5, "o")}, 10, 0, tmp_path)
    assert {k: len(read_jsonl(p)) for k, p in cut.files.items()} == {
        "a": 9, "b": 9, "oracle-rewrite": 5, "oracle-rewrite-flipped": 5}
    assert cut.info["syn_pairs"] == 9 and cut.info["control_pairs"] == 5
    assert cut.info["sets"]["a"] == {"made": 12, "prompts": 12, "kept": 9}
    notes = " | ".join(cut.notes)
    assert "empty made no pairs" in notes and "b made only 9: every Syn set is cut to 9" in notes
    assert "the controls hold 5 pairs" in notes
    # Without syn_size every set, the controls included, is cut to the smallest.
    cut = cut_sets({"a": rows(12, "a")}, {"oracle-rewrite": rows(5, "o")}, None, 0, tmp_path)
    assert (cut.info["syn_pairs"], cut.info["control_pairs"], cut.notes) == (5, 5, [])
    with pytest.raises(UserError, match="no method made any pair"):
        cut_sets({"a": []}, {}, None, 0, tmp_path)


def test_syn_size_asks_for_enough_pairs_per_prompt_and_reports_a_short_set(tmp_path: Path) -> None:
    methods = "[rmboost, {name: rmboost-one, method: rmboost, pairs_per_prompt: 1}]"
    out = tmp_path / "run"
    summary = run_experiment(qa_config(tmp_path, "syn_size: 10\ntrain_sets: [syn]\nstats: false", methods), out)
    # ceil(10 / 6 prompts) for rmboost; rmboost-one keeps its own option
    assert [g["pairs_per_prompt"] for g in summary["generation"]] == [2, 1]
    ids = [r["id"] for r in read_jsonl(out / "pairs" / "rmboost.jsonl")]
    assert len(ids) == 12 and all(i.split("#")[1] in ("0", "1") for i in ids)
    sets = summary["sizes"]["sets"]
    assert sets["rmboost"] == {"made": 12, "prompts": 6, "kept": 6}
    assert sets["rmboost-one"] == {"made": 6, "prompts": 6, "kept": 6}
    assert {r["train_pairs"] for r in summary["results"]} == {6}  # never silently unequal
    table = (out / "results.md").read_text()
    assert "rmboost 12 from 6 prompts, 6 kept" in table
    assert "syn_size asks for 10 pairs, but rmboost-one made only 6: every Syn set is cut to 6" in table

    out = tmp_path / "run-real"
    summary = run_experiment(qa_config(tmp_path, "syn_size: real\ntrain_sets: [real, syn]\nstats: false"), out)
    real = summary["dataset"]["real_pairs"]
    per_prompt = -(-real // 6)
    assert summary["generation"][0]["pairs_per_prompt"] == per_prompt
    assert summary["sizes"]["sets"]["rmboost"] == {"made": 6 * per_prompt, "prompts": 6, "kept": real}
    assert {r["train_set"]: r["train_pairs"] for r in summary["results"]} == {"real": real, "rmboost": real}


def test_syn_size_must_be_a_number_or_real(tmp_path: Path) -> None:
    from rmboost.experiment.config import load_config

    for bad in ("0", "half", "true"):
        with pytest.raises(UserError, match="syn_size"):
            load_config(qa_config(tmp_path, f"syn_size: {bad}"))
    assert load_config(qa_config(tmp_path, "syn_size: real")).syn_size == "real"
