"""West-of-N with a cross-fitted scorer in the experiment (`scorer: crossfit`): each half of the
training prompts is scored by a `features` model trained on the other half's Real pairs only. The
oracle is the documented manual procedure (results/README.md: split, `rmboost train`, `rmboost
generate --scorer`), run here with the CLI: the experiment must pick the same best and worst."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, read_jsonl, write_jsonl
from rmboost.cli import main
from rmboost.errors import UserError
from rmboost.experiment.config import load_config
from rmboost.experiment.run import run_experiment


def crossfit_config(tmp_path: Path, method: str = "{name: won-cf, method: west-of-n, given_responses: true, "
                                                  "scorer: crossfit}", extra: str = "") -> Path:
    path = tmp_path / "crossfit.yaml"
    path.write_text(f"""
name: crossfit
data: {QA_FEEDBACK}
train_prompts: 40
test_pairs: 40
methods: [{method}]
reward_models: [features]
train_sets: [syn]
generation: {{backend: fake, progress: false}}
bootstrap: 50
stats: false
{extra}""")
    return path


def half(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2


def test_each_half_is_scored_by_the_model_of_the_other_half(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_experiment(crossfit_config(tmp_path), out)
    pool = read_jsonl(out / "data" / "train_prompts_pool.jsonl")
    real = read_jsonl(out / "data" / "real_train.jsonl")
    made = {r["id"]: r for r in read_jsonl(out / "pairs" / "won-cf.jsonl")}
    assert 0 < len(made) <= len(pool)
    # the oracle: the manual procedure, step by step with the CLI
    manual = {}
    for h in (0, 1):
        other = [r for r in real if half(r["question_id"]) != h]
        write_jsonl(tmp_path / f"real{h}.jsonl", other)
        write_jsonl(tmp_path / f"pool{h}.jsonl", [r for r in pool if half(r["id"]) == h])
        assert main(["train", "--rm", "features", "--data", str(tmp_path / f"real{h}.jsonl"), "--output",
                     str(tmp_path / f"rm{h}"), "-q"]) == 0
        assert main(["generate", "--method", "west-of-n", "--scorer", str(tmp_path / f"rm{h}"), "--backend", "fake",
                     "--input", str(tmp_path / f"pool{h}.jsonl"), "--output", str(tmp_path / f"won{h}.jsonl"),
                     "--seed", "0", "-q"]) == 0
        manual.update({r["id"]: r for r in read_jsonl(tmp_path / f"won{h}.jsonl")})
    assert set(made) == set(manual)
    assert all((made[i]["chosen"], made[i]["rejected"]) == (manual[i]["chosen"], manual[i]["rejected"]) for i in made)
    # no scorer saw the labels of a prompt it scored: each model trained on the other half's pairs only
    for h in (0, 1):
        model = json.loads((out / "models" / f"crossfit-half{h}--features" / "eval.json").read_text())
        assert model["result"]["train_pairs"] == sum(half(r["question_id"]) == h for r in real)
    rows = {r["set"]: r for r in summary["agreement"]["rows"]}
    assert rows["won-cf"]["pairs"] == len(made)


def test_a_rerun_from_the_archive_restores_the_same_pairs(tmp_path: Path) -> None:
    first = run_experiment(crossfit_config(tmp_path), tmp_path / "a", archive=tmp_path / "archive")
    again = run_experiment(crossfit_config(tmp_path), tmp_path / "b", pairs_from=tmp_path / "archive")
    made = [read_jsonl(tmp_path / run / "pairs" / "won-cf.jsonl") for run in ("a", "b")]
    assert made[0] == made[1] and made[0]
    assert [r["accuracy"] for r in first["results"] if r["train_set"] == "won-cf"] == \
        [r["accuracy"] for r in again["results"] if r["train_set"] == "won-cf"]


@pytest.mark.parametrize("method", ["{name: w, method: west-of-n, scorer: crossfit}",
                                    "{name: w, method: rlaif, given_responses: true, scorer: crossfit}"])
def test_crossfit_without_given_west_of_n_is_refused(tmp_path: Path, method: str) -> None:
    with pytest.raises(UserError, match="crossfit"):
        load_config(crossfit_config(tmp_path, method))


def test_a_syn_size_sets_no_pairs_per_prompt_on_given_west_of_n(tmp_path: Path) -> None:
    """A table config asks for Syn sets of a size: West-of-N over given responses makes one pair per
    prompt whatever the size asks (found when table-tldr stopped on it: exit 2)."""
    summary = run_experiment(crossfit_config(tmp_path, extra="syn_size: 100\n"), tmp_path / "run")
    made = read_jsonl(tmp_path / "run" / "pairs" / "won-cf.jsonl")
    assert 0 < len(made) <= 40 and all("#" not in str(r["id"]) for r in made)
    assert summary["sizes"]["syn_pairs"] == len(made)  # the set short of 100 sets the size, as the tables say
