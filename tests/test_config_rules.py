"""Config checks in one place per rule (issue 34 item 6): naming something unknown is a usage mistake
(exit 2) wherever it is named, in one line, with the words the shared rule uses (`methods.method_class`,
`rm.base.kind_class`, `rm.base.check_overrides`); a file that is missing is bad input (3); a run parses
its `--backend-arg`s once; and `--quiet` reaches the experiment's steps without changing its config."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, write_jsonl
from rmboost.cli import main
from rmboost.generation import run as generation_run

FIX = REPO / "tests" / "fixtures"


def experiment(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str) -> tuple[int, str]:
    """`rmboost experiment` on a small QA-Feedback config with `line` added; (exit code, stderr)."""
    path = tmp_path / "c.yaml"
    path.write_text(f"data: {FIX / 'qa_feedback_small.json'}\ntrain_sets: [real]\nbootstrap: 20\nstats: false\n"
                    f"{line}\n")
    code = main(["experiment", "--config", str(path), "--output", str(tmp_path / "out")])
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("line, says", [
    ("methods: [rlaf]\nreward_models: [features]", "field 'methods: rlaf': unknown method 'rlaf'; choose one of"),
    ("methods: []\nreward_models: [embed_linear]", "field 'reward_models': unknown reward model kind 'embed_linear'"),
    ("methods: []\nreward_models: [hf]", "field 'reward_models': unknown reward model kind 'hf'"),
    ("methods: []\nreward_models: [features]\nrm_overrides: {features: {l2: 1}}",
     "field 'rm_overrides.features': reward model kind features has no setting l2; its settings are"),
    ("methods: []\nreward_models: [features]\nyardsticks: [human-pair]", "field 'yardsticks'"),
    ("methods: []\nreward_models: [features]\nrm_seed: 2", "unknown field(s) ['rm_seed']"),
])
def test_a_config_naming_something_unknown_exits_2_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               line: str, says: str) -> None:
    code, err = experiment(tmp_path, capsys, line)
    assert code == 2 and len(err.splitlines()) == 1 and says in err, (code, err)


def test_an_unknown_method_and_an_unknown_kind_are_one_kind_of_mistake(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    method = experiment(tmp_path, capsys, "methods: [rlaf]\nreward_models: [features]")
    kind = experiment(tmp_path, capsys, "methods: []\nreward_models: [xgboost]")
    assert method[0] == kind[0] == 2
    # The same rule on the command line: `train --rm` with an unknown kind, said in the same words.
    data = write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    assert main(["train", "--data", str(data), "--rm", "xgboost", "--output", str(tmp_path / "rm")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown reward model kind 'xgboost'" in err and "unknown reward model kind 'xgboost'" in kind[1]


def test_a_missing_file_a_config_names_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = experiment(tmp_path, capsys, "methods: []\nreward_models: [hf:/no/such/model]")
    assert code == 3 and "field 'reward_models': /no/such/model: no such folder" in err
    path = tmp_path / "c.yaml"
    path.write_text("- a\n- list\n")
    assert main(["experiment", "--config", str(path), "--output", str(tmp_path / "out")]) == 3


def test_a_run_parses_its_backend_args_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    parse = generation_run.parse_backend_args

    def counted(items: list[str]) -> dict[str, str]:
        calls.append(list(items))
        return parse(items)

    monkeypatch.setattr(generation_run, "parse_backend_args", counted)
    prompts = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(3)])
    assert main(["generate", "--input", str(prompts), "--output", str(tmp_path / "out.jsonl"), "--backend", "fake",
                 "--backend-arg", "delay=0", "--quiet", "--no-cache"]) == 0
    assert calls == [["delay=0"]]


def test_quiet_reaches_the_steps_and_leaves_the_config_as_written(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from rmboost.experiment import run

    seen = []
    monkeypatch.setattr(run.Experiment, "run", lambda self, replace: seen.append(self) or {})
    path = tmp_path / "c.yaml"
    path.write_text(f"data: {FIX / 'qa_feedback_small.json'}\nmethods: []\ntrain_sets: [real]\n"
                    "reward_models: [features]\n")
    run.run_experiment(path, tmp_path / "out", quiet=True)
    (experiment_run,) = seen
    assert experiment_run.quiet and not experiment_run.show_progress
    assert "progress" not in experiment_run.config.generation  # the config is the file's, unchanged
