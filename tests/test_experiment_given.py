"""Issue 25 in the experiment: variants over the data set's own responses (one pool shared with
Real), scored by label agreement with the humans as well as by the reward-model yardsticks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, read_jsonl
from rmboost.errors import UserError
from rmboost.experiment.config import load_config
from rmboost.experiment.run import run_experiment

METHODS = ("[{name: rlaif-given, method: rlaif, given_responses: true, judge_decision: first}, "
           "{name: west-of-n-given, method: west-of-n, given_responses: true, scorer: llm}, "
           "{name: rmboost-given, method: rmboost, given_responses: true, pairs_per_prompt: 4}]")


def given_config(tmp_path: Path, methods: str = METHODS) -> Path:
    path = tmp_path / "given.yaml"
    path.write_text(f"""
name: given
data: {QA_FEEDBACK}
train_prompts: 6
test_pairs: 30
methods: {methods}
reward_models: [features]
train_sets: [syn]
generation: {{backend: fake, concurrency: 4, progress: false}}
bootstrap: 50
stats: false
""")
    return path


def test_given_variants_share_the_pool_and_report_label_agreement(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(given_config(tmp_path), out)
    pool = {r["id"]: r for r in read_jsonl(out / "data" / "train_prompts_pool.jsonl")}
    assert len(pool) == 6 and all(len(r["responses"]) == 4 and len(r["pairs"]) == 6 for r in pool.values())
    rlaif = read_jsonl(out / "pairs" / "rlaif-given.jsonl")
    for row in rlaif:  # every RLAIF pair is two of the question's own predictions
        responses = pool[row["id"].split("#")[0]]["responses"]
        assert {row["chosen"], row["rejected"]} <= set(responses)
    rows = {r["set"]: r for r in summary["agreement"]["rows"]}
    assert set(rows) == {"rlaif-given", "west-of-n-given", "rmboost-given"}
    human_ties = sum(h == 0 for r in pool.values() for h in r["human"])
    assert rows["rlaif-given"]["matched"] == len(rlaif) and rows["rlaif-given"]["unmatched"] == 0
    def human_label(row: dict) -> int:
        q = pool[row["id"].split("#")[0]]
        return q["human"][[sorted(p) for p in q["pairs"]].index(sorted(row["given_pair"]))]

    assert rows["rlaif-given"]["human_ties"] == sum(human_label(r) == 0 for r in rlaif) <= human_ties
    assert "direction" in rows["rmboost-given"] or rows["rmboost-given"]["rewrites_matched"] == 0
    table = (out / "results.md").read_text()
    assert "## Label agreement with humans" in table and "| rlaif-given |" in table
    assert json.loads((out / "results.json").read_text())["agreement"] == summary["agreement"]


@pytest.mark.parametrize("methods, says", [
    ("[{name: r, method: rlcd, given_responses: true}]", "applies to rlaif, west-of-n and rmboost"),
    ("[{name: r, method: rlaif, given_responses: 4}]", "must be true"),
])
def test_given_responses_is_refused_where_it_does_not_apply(tmp_path: Path, methods: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        load_config(given_config(tmp_path, methods))


def test_pairs_from_an_archive_rerun_without_generation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rmboost.cli import main

    config = given_config(tmp_path, "[{name: rmboost-given, method: rmboost, given_responses: true}]")
    archive = tmp_path / "archive"
    assert main(["experiment", "--config", str(config), "--output", str(tmp_path / "a"),
                 "--archive-pairs", str(archive)]) == 0
    assert (archive / "rmboost-given.jsonl.gz").is_file() and (archive / "rmboost-given.settings.json").is_file()
    # The fake backend is not reachable in the rerun: a generation attempt would fail the run.
    config.write_text(config.read_text().replace("backend: fake", "backend: openai, base_url: 'http://127.0.0.1:9/v1'"))
    assert main(["experiment", "--config", str(config), "--output", str(tmp_path / "b"),
                 "--pairs-from", str(archive)]) == 0
    first, second = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("a", "b"))
    assert [r["accuracy"] for r in first["results"]] == [r["accuracy"] for r in second["results"]]
    assert (tmp_path / "b" / "pairs" / "rmboost-given.jsonl").read_bytes() == \
        (tmp_path / "a" / "pairs" / "rmboost-given.jsonl").read_bytes()
    assert main(["experiment", "--config", str(config), "--output", str(tmp_path / "c"),
                 "--pairs-from", str(tmp_path / "nothing")]) == 3
    assert "rmboost-given.jsonl.gz" in capsys.readouterr().err and not (tmp_path / "c").exists()
