"""The experiment end to end on the fake backend (the CI smoke of the paper's comparison)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK
from rmboost.errors import UserError
from rmboost.experiment.run import load_config, run_experiment


def smoke_config(tmp_path: Path, **extra: str) -> Path:
    text = f"""
name: test-smoke
data: {QA_FEEDBACK}
train_prompts: 6
test_pairs: 40
methods: [rmboost, {{name: rmboost-short, method: rmboost, length_control: true}}]
reward_models: [embed-linear]
generation: {{backend: fake, concurrency: 4}}
rm_overrides: {{embed-linear: {{epochs: 3}}}}
bootstrap: 100
embeddings: false
"""
    path = tmp_path / "smoke.yaml"
    path.write_text(text + "".join(f"{k}: {v}\n" for k, v in extra.items()))
    return path


def test_smoke_writes_table_chart_json_and_reruns_for_free(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(smoke_config(tmp_path), out)
    sets = [r["train_set"] for r in summary["results"]]
    assert sets == ["real", "rmboost", "rmboost-short", "real+rmboost", "real+rmboost-short"]  # Syn before Real+Syn
    syn = [r for r in summary["results"] if r["train_set"] in ("rmboost", "rmboost-short")]
    assert len({r["train_pairs"] for r in syn}) == 1  # Syn sets of one size
    for r in summary["results"]:
        assert 0 <= r["ci_low"] <= r["accuracy"] <= r["ci_high"] <= 1 and r["n"] == 40
    table = (out / "results.md").read_text()
    assert "| real+rmboost |" in table and "longer" in table
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG" and (out / "stats.png").exists()
    assert json.loads((out / "results.json").read_text())["results"] == summary["results"]
    made = {g["set"]: g for g in summary["generation"]}
    for name in ("rmboost", "rmboost-short"):
        lines = (out / "pairs" / f"{name}.jsonl").read_text().splitlines()
        assert made[name]["pairs"] == len(lines) and made[name]["calls_sent"] > 0
    assert "| rmboost | 6 | 0 | 0 |" in table  # pairs made, failures, resumed
    stats = {Path(s["file"]).stem: s for s in summary["stats"]}
    assert stats["rmboost"]["better_share"] == pytest.approx(0.5)

    rerun = run_experiment(smoke_config(tmp_path), out)
    assert rerun["results"] == summary["results"]  # nothing retrained
    again = {g["set"]: g for g in rerun["generation"]}
    assert again["rmboost"]["calls_sent"] == 0 and again["rmboost"]["skipped_done"] == 6
    # The summary file stays the run's that made the pairs (a no-op resume does not rewrite it).
    pairs_summary = json.loads((out / "pairs" / "rmboost.summary.json").read_text())
    assert pairs_summary["calls_sent"] == made["rmboost"]["calls_sent"] > 0
    assert {g["set"]: g["skipped_done"] for g in rerun["generation"]}["rmboost"] == 6


def test_unknown_config_field_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown field.*reward_model"):
        load_config(smoke_config(tmp_path, reward_model="x"))


def test_unknown_generate_option_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("methods: [{method: rmboost, temprature: 1}]\n")
    with pytest.raises(UserError, match="temprature"):
        load_config(path)


def test_a_run_that_dies_in_training_keeps_the_rows_it_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rmboost.experiment.run import Experiment

    real = Experiment.train_and_score
    calls = []

    def dies_on_third(self: Experiment, name: str, *args: object) -> dict:
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Experiment, "train_and_score", dies_on_third)
    monkeypatch.setattr("rmboost.experiment.run.PARTIAL_EVERY", 0.0)  # a partial write after every model
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(smoke_config(tmp_path), out)
    saved = json.loads((out / "results.json").read_text())
    assert [r["train_set"] for r in saved["results"]] == ["real", "rmboost"]
    assert saved["note"] == "partial: 2 of 5 reward models done"
    assert "(partial: 2 of 5 reward models done)" in (out / "results.md").read_text()
    # The diagnostics came with the reference model (the first job), not at the end of the run.
    assert {Path(s["file"]).stem for s in saved["stats"]} == {"rmboost", "rmboost-short", "real_train"}
    # no reference reward model any more (for West-of-N it was its own scorer): agreement is rmboost agree's
    assert (out / "stats.md").exists() and saved["stats"][0]["reference_agreement"] is None

    monkeypatch.setattr(Experiment, "train_and_score", real)
    done = run_experiment(smoke_config(tmp_path), out)  # the rerun finishes and drops the note
    assert len(done["results"]) == 5 and "note" not in json.loads((out / "results.json").read_text())


def test_a_set_with_the_same_training_pairs_reuses_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rmboost.rm.train as rm_train

    trained = []
    real_train = rm_train.train_reward_model

    def counting(pairs: list, *args: object, **kw: object) -> object:
        trained.append(len(pairs))
        return real_train(pairs, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(rm_train, "train_reward_model", counting)
    config = smoke_config(tmp_path).read_text().replace(
        "methods: [rmboost, {name: rmboost-short, method: rmboost, length_control: true}]",
        "methods: [rmboost, {name: rmboost-again, method: rmboost, seed: 0}]")
    path = tmp_path / "again.yaml"
    path.write_text(config)
    out = tmp_path / "run"
    summary = run_experiment(path, out)
    rows = {r["train_set"]: r for r in summary["results"]}
    assert len(trained) == 3  # real, rmboost, real+rmboost; the "again" sets reuse those models
    for name in ("rmboost", "real+rmboost"):
        twin = rows[name.replace("rmboost", "rmboost-again")]
        assert twin["same_model_as"] == name
        assert {k: v for k, v in twin.items() if k not in ("train_set", "same_model_as")} == \
            {k: v for k, v in rows[name].items() if k != "train_set"}
    assert "same pairs as real+rmboost" in (out / "results.md").read_text()
    assert not (out / "models" / "rmboost-again--embed-linear" / "rmboost_rm.json").exists()


def test_syn_sets_are_cut_by_id_whatever_order_the_prompts_finished_in(tmp_path: Path) -> None:
    from rmboost.experiment.run import Experiment, ExperimentConfig

    rows = [{"id": f"q{i:02d}", "prompt": f"p{i}", "chosen": "c", "rejected": "r"} for i in range(20)]
    made = {}
    for name, order in [("a", rows), ("b", rows[::-1]), ("c", rows[7:] + rows[:7])]:
        made[name] = tmp_path / f"{name}.jsonl"
        made[name].write_text("".join(json.dumps(r) + "\n" for r in order))
    short = tmp_path / "short.jsonl"
    short.write_text("".join(json.dumps(r) + "\n" for r in rows[:12]))
    cut = Experiment(ExperimentConfig(seed=3), tmp_path / "run").equalise({**made, "short": short})
    picked = {k: [json.loads(line)["id"] for line in p.read_text().splitlines()] for k, p in cut.items()}
    assert len(picked["a"]) == 12 and picked["a"] == sorted(picked["a"])
    assert picked["a"] == picked["b"] == picked["c"]
    assert picked["a"] != [r["id"] for r in rows[:12]]  # a sample, not the first rows


def test_paired_differences_are_written_and_rebuilt_for_models_saved_without_outcomes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(smoke_config(tmp_path), out)
    acc = {r["train_set"]: r["accuracy"] for r in summary["results"]}
    diffs = {(d["a"], d["b"]): d for d in summary["differences"] if d["yardstick"] == "human-pairs"}
    assert set(diffs) == {("rmboost", "rmboost-short"), ("real+rmboost", "real"), ("real+rmboost-short", "real"),
                          ("rmboost", "real"), ("rmboost-short", "real")}
    for (a, b), d in diffs.items():
        assert d["difference"] == pytest.approx(acc[a] - acc[b]) and d["n"] == 40
        assert d["ci_low"] <= d["difference"] <= d["ci_high"]
    assert "| real+rmboost - real |" in (out / "results.md").read_text()

    # A model saved before per-pair outcomes were kept is scored again, not retrained.
    saved = out / "models" / "real--embed-linear" / "eval.json"
    old = json.loads(saved.read_text())
    saved.write_text(json.dumps({k: v for k, v in old.items() if k != "wins"}))
    rerun = run_experiment(smoke_config(tmp_path), out)
    assert rerun["differences"] == summary["differences"] and rerun["results"] == summary["results"]
    assert json.loads(saved.read_text())["wins"] == old["wins"]


def test_several_training_seeds_are_averaged_per_test_pair(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(smoke_config(tmp_path, rm_seeds="2"), out)
    runs = summary["results"]
    assert len(runs) == 10 and {r["seed"] for r in runs} == {0, 1}
    assert [r["train_set"] for r in runs[:5]] == [r["train_set"] for r in runs[5:]]  # all of seed 0 first
    assert (out / "models" / "real--embed-linear" / "eval.json").exists()
    assert (out / "models" / "real--embed-linear--seed1" / "eval.json").exists()
    by_seed = {(r["train_set"], r["seed"]): r for r in runs}
    wins = {(name, seed): json.loads((out / "models" / f"{name}--embed-linear{'' if seed == 0 else '--seed1'}"
                                      / "eval.json").read_text())["wins"] for name, seed in by_seed}
    assert any(wins[(n, 0)] != wins[(n, 1)] for n in ("real", "rmboost")), "two seeds, two models"
    combined = {r["train_set"]: r for r in summary["combined"]}
    for name, row in combined.items():
        seeds = [by_seed[(name, 0)]["accuracy"], by_seed[(name, 1)]["accuracy"]]
        assert row["seed_accuracies"] == seeds and row["seeds"] == [0, 1]
        assert row["accuracy"] == pytest.approx(sum(seeds) / 2)  # the mean outcome's accuracy is the mean accuracy
        assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    diffs = {(d["a"], d["b"]): d["difference"] for d in summary["differences"] if d["yardstick"] == "human-pairs"}
    assert diffs[("real+rmboost", "real")] == pytest.approx(combined["real+rmboost"]["accuracy"]
                                                            - combined["real"]["accuracy"])
    table = (out / "results.md").read_text()
    low, high = sorted(combined["real"]["seed_accuracies"])
    assert f"2 seeds {low:.3f}-{high:.3f}" in table

    rerun = run_experiment(smoke_config(tmp_path, rm_seeds="2"), out)
    assert rerun["results"] == runs and rerun["combined"] == summary["combined"]  # nothing retrained
    # Back to one seed is another config: refused in this folder (its tables average two seeds) ...
    with pytest.raises(UserError, match="rm_seeds"):
        run_experiment(smoke_config(tmp_path), out)
    # ... and with --replace the seed-0 models are trained again, to the same results.
    one = run_experiment(smoke_config(tmp_path), out, replace=True)
    assert [r["accuracy"] for r in one["results"]] == [r["accuracy"] for r in runs if r["seed"] == 0]
    assert "combined" not in one


def test_rm_seeds_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="rm_seeds"):
        load_config(smoke_config(tmp_path, rm_seeds="0"))
