"""The experiment end to end on the TL;DR and UltraFeedback fixtures (the CI profiles: fake backend,
embed-linear, calibration on): the split each data set's rule gives, the counts of every quirk, and
results that name the data set and its split sizes. Expected sizes are hand counts of the fixtures
(tldr) or the documented split rule written out again (ultrafeedback), not the code's output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import REPO, read_jsonl
from rmboost.cli import main

FIX = Path(__file__).parent / "fixtures"
SUMMARIZATION = {"coverage", "accuracy", "conciseness", "coherence"}
ULTRAFEEDBACK = {"helpfulness", "honesty", "instruction-following", "truthfulness"}


def side(text: str) -> str:
    """The documented split rule, written out again: the parity of sha256('split:' + text)."""
    return "train" if int(hashlib.sha256(("split:" + text.strip()).encode()).hexdigest()[:8], 16) % 2 == 0 else "test"


def run(profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    monkeypatch.chdir(REPO)  # the profile names its fixture relative to the checkout
    out = tmp_path / "run"
    assert main(["experiment", "--config", f"configs/{profile}.yaml", "--output", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_the_tldr_profile_runs_end_to_end_on_its_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, summary = run("tldr-small", tmp_path, monkeypatch)
    info = summary["dataset"]
    # tldr_experiment.jsonl, by hand: train posts 0-11 with two comparisons each (24 pairs), a repeat of
    # post 0's first comparison, a same-text comparison and a CNN/DM row; valid2 posts 12-17 with two
    # each (12), a 1:1 repeat of post 13's first (tied: 2 comparisons, no pair), a valid2 comparison of
    # training post 2 (leaked); one valid1 comparison (not chosen: counted).
    assert (info["format"], info["task"]) == ("tldr", "summarization")
    assert (info["train_prompts"], info["real_pairs"], info["test_pairs"]) == (12, 24, 11)
    assert info["left_out"] == {
        "both summaries are the same text": 1, "CNN/DM article, not a Reddit post": 1,
        "test comparisons of a post that is also a training post": 1, "comparisons of a split not chosen": 1,
        "repeat comparison of the same two summaries (merged by majority vote)": 1,
        "comparisons of the same two summaries whose votes split evenly": 2}
    prompts = read_jsonl(out / "data" / "train_prompts.jsonl")
    assert [p["id"] for p in prompts] == [f"tldr-t3_ex{i:04d}" for i in range(12)]
    assert all(p["context"].startswith("SUBREDDIT: r/") and p["task"] == "summarization" for p in prompts)
    tested = read_jsonl(out / "data" / "test_pairs.jsonl")
    assert {t["question_id"] for t in tested} == {f"tldr-t3_ex{i:04d}" for i in range(12, 18)}
    assert all(t["split"] == "valid2" for t in tested)
    real_prompts = {r["prompt"] for r in read_jsonl(out / "data" / "real_train.jsonl")}
    for name in ("rmboost", "rlaif"):  # the methods answered the training posts, as the Real pairs show them
        syn = read_jsonl(out / "pairs" / f"{name}.jsonl")
        assert syn and all(p["prompt"] in real_prompts and p["task"] == "summarization" for p in syn)
        assert {a for p in syn for a in p["aspects"]} <= SUMMARIZATION
    table = (out / "results.md").read_text()
    assert "Data: tldr tests/fixtures/tldr_experiment.jsonl (train comparisons for training, valid2 for testing, " \
           "by the file's split field): 12 training prompts, 24 Real pairs, 11 test pairs" in table
    assert summary["calibration"]


def test_the_ultrafeedback_profile_runs_end_to_end_on_its_fixture(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, summary = run("ultrafeedback-small", tmp_path, monkeypatch)
    raw = read_jsonl(FIX / "ultrafeedback_experiment.jsonl")
    tied = raw[-1]  # the fixture's last row: two completions with the same ratings
    rows = raw[:-1]
    train = [r for r in rows if side(r["instruction"]) == "train"]
    test = [r for r in rows if side(r["instruction"]) == "test"]
    assert train and test
    info = summary["dataset"]
    assert (info["format"], info["task"]) == ("ultrafeedback", "ultrafeedback")
    assert (info["train_prompts"], info["real_pairs"], info["test_pairs"]) == (len(train), len(train), len(test))
    assert info["left_out"] == {"chosen and rejected have the same score": 1}

    def by_model(row: dict, model: str) -> str:
        return next(c["response"] for c in row["completions"] if c["model"] == model)

    # Every row's best-rated completion is gpt-4's and its worst alpaca-7b's.
    real = read_jsonl(out / "data" / "real_train.jsonl")
    assert sorted((p["chosen"], p["rejected"]) for p in real) == sorted(
        (by_model(r, "gpt-4"), by_model(r, "alpaca-7b")) for r in train)
    tested = read_jsonl(out / "data" / "test_pairs.jsonl")
    assert sorted(p["prompt"] for p in tested) == sorted(r["instruction"] for r in test)
    prompts = read_jsonl(out / "data" / "train_prompts.jsonl")
    assert sorted(p["prompt"] for p in prompts) == sorted(r["instruction"] for r in train)
    assert tied["instruction"] not in {p["prompt"] for p in prompts + tested}
    syn = read_jsonl(out / "pairs" / "rmboost.jsonl")
    assert syn and {a for p in syn for a in p["aspects"]} <= ULTRAFEEDBACK
    table = (out / "results.md").read_text()
    assert f"Data: ultrafeedback tests/fixtures/ultrafeedback_experiment.jsonl (split by a hash of the prompt): " \
           f"{len(train)} training prompts, {len(train)} Real pairs, {len(test)} test pairs; 1 rows left out: " \
           "chosen and rejected have the same score" in table
