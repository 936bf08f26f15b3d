"""`embed-linear` learns the toy task, saves and loads to the same scores, and works end to end
through `rmboost train` and `rmboost eval`."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from rm_toy_task import toy_pairs, train_and_test
from rmboost.cli import eval as eval_cli
from rmboost.cli import train as train_cli
from rmboost.io.rows import write_rows
from rmboost.rm.base import META_FILE, RewardModel
from rmboost.rm.embed_linear import EmbedLinearRM
from rmboost.rm.evaluate import evaluate


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    train_cli.register(sub)
    eval_cli.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def trained() -> EmbedLinearRM:
    train, _ = train_and_test()
    return EmbedLinearRM.train(train, epochs=40, seed=0)


def test_learns_toy_task_on_unseen_topics(trained):
    _, test = train_and_test()
    assert evaluate(trained, test, n_boot=200).accuracy >= 0.9


def test_saved_model_scores_the_same_twice(trained, tmp_path):
    _, test = train_and_test()
    trained.save(tmp_path / "rm")
    assert json.loads((tmp_path / "rm" / META_FILE).read_text())["kind"] == "embed-linear"
    prompts, responses = [p.prompt for p in test], [p.chosen for p in test]
    first = RewardModel.load(tmp_path / "rm").score(prompts, responses)
    second = RewardModel.load(tmp_path / "rm").score(prompts, responses)
    assert first == second == pytest.approx(trained.score(prompts, responses), abs=1e-6)


def test_cli_train_mixes_files_and_eval_prints_json(tmp_path, capsys):
    train, test = train_and_test()
    a = write_rows(tmp_path / "a.jsonl", [p.to_dict() for p in train[:20]])
    b = write_rows(tmp_path / "b.parquet", [p.to_dict() for p in toy_pairs(["bread", "tigers"], True)])
    assert (a, b) == (20, 8)
    write_rows(tmp_path / "test.jsonl", [p.to_dict() for p in test])
    out = tmp_path / "rm"
    argv = ["train", "--data", str(tmp_path / "a.jsonl"), "--data", str(tmp_path / "b.parquet")]
    assert run_cli([*argv, "--rm", "embed-linear", "--output", str(out), "--epochs", "40",
                    "--validation-fraction", "0"]) == 0
    err = capsys.readouterr().err
    assert "trained embed-linear on 28 pairs" in err
    # the training progress: its steps and loss, and no validation accuracy when nothing is held out
    assert re.search(r"train embed-linear: \d+/\d+ steps .*loss=", err) and "val_acc" not in err
    assert run_cli(["eval", "--rm", str(out), "--data", str(tmp_path / "test.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == len(test) and report["accuracy"] >= 0.8
    assert report["ci_low"] <= report["accuracy"] <= report["ci_high"]
    assert report["baselines"]["first"] is None and "longer" in report["baselines"]
    assert report["baselines"]["longer"]["accuracy"] == 0.5  # length does not give the toy task away
    assert "overlap" in report["baselines"]


def test_cli_defaults_to_the_best_kind():
    from rmboost.rm.train import DEFAULT_KIND

    assert train_cli.TrainConfig.__dataclass_fields__["rm"].default == DEFAULT_KIND == "features-sim"


def test_unknown_setting_is_a_user_error():
    from rmboost.errors import UserError

    with pytest.raises(UserError, match="no setting"):
        EmbedLinearRM.train(toy_pairs(["salt"]), lora_rank=4)
