"""Findings 4, 7 and 11 of issue 33, and the table the issue's "done when" asks for: every command
fed a swapped file, an unwritable output or a folder that is no saved model answers in one line,
exits 2 or 3 and changes nothing on disk (a snapshot of every file's bytes and of the folders, taken
before and after). A model folder is replaced only with --replace, and then wholly; a setting the
kind lacks is a usage error naming the kind; an experiment folder whose first run stopped before
any result takes the corrected config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, write_jsonl
from rmboost.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def snapshot(root: Path) -> dict[str, str]:
    """Every file's digest and every folder, under `root`."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A pair file, a prompt file, a trained `features` model, a folder that is none, a file in the
    way of an output's folder."""
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": f"p{i}", "prompt": f"Question {i}: who wrote the song?", "chosen": f"Person {i} wrote the song.",
         "rejected": "No idea."} for i in range(6)])
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [
        {"id": f"q{i}", "prompt": f"Question {i}?", "context": f"Passage {i}.", "responses": ["Yes.", "No."]}
        for i in range(3)])
    assert main(["train", "--data", str(pairs), "--rm", "features", "--output", str(tmp_path / "rm"), "-q"]) == 0
    (tmp_path / "not_a_model").mkdir()
    (tmp_path / "not_a_model" / "notes.txt").write_text("hello")
    (tmp_path / "blocker").write_text("a file where a folder should be")
    (tmp_path / "experiment.yaml").write_text(f"name: x\ndata: {QA_FEEDBACK}\nmethods: []\ntrain_sets: [real]\n"
                                              "reward_models: [features]\n")
    return {"pairs": pairs, "prompts": prompts, "rm": tmp_path / "rm", "not_a_model": tmp_path / "not_a_model",
            "root": tmp_path}


UNWRITABLE = ["{root}/blocker/out.jsonl", "/proc/rmboost-test/out.jsonl"]
UNWRITABLE_DIR = ["{root}/blocker/out", "/proc/rmboost-test/out"]

# (name, argv with {placeholders}, the exit code): each answers in one line and changes nothing.
CASES = [
    # swapped files
    ("generate/pairs-as-prompts", ["generate", "--backend", "fake", "--input", "{pairs}", "--output",
                                   "{root}/o.jsonl"], 3),
    ("data-ultrafeedback/pairs", ["data", "ultrafeedback", "{pairs}", "--output", "{root}/o.jsonl"], 3),
    ("train/prompts-as-pairs", ["train", "--data", "{prompts}", "--rm", "features", "--output", "{root}/m"], 3),
    ("eval/prompts-as-pairs", ["eval", "--rm", "{rm}", "--data", "{prompts}"], 3),
    ("score/tldr-as-rows", ["score", "--rm", "{rm}", "--input", str(FIXTURES / "tldr_comparisons.jsonl"),
                            "--output", "{root}/o.jsonl"], 3),
    ("rerank/pairs-as-prompts", ["rerank", "--rm", "{rm}", "--input", "{pairs}", "--output", "{root}/o.jsonl"], 3),
    ("agree/prompts-as-pairs", ["agree", "{prompts}", "--human", "{pairs}"], 3),
    ("export/prompts", ["export", "{prompts}", "--to", "{root}/ds"], 3),
    ("report/prompts", ["report", "{prompts}", "--output", "{root}/r.html"], 3),
    # unwritable outputs
    *[(f"generate/unwritable{i}", ["generate", "--backend", "fake", "--input", "{prompts}", "--output", o], 3)
      for i, o in enumerate(UNWRITABLE)],
    *[(f"score/unwritable{i}", ["score", "--rm", "{rm}", "--input", "{pairs}", "--output", o], 3)
      for i, o in enumerate(UNWRITABLE)],
    *[(f"rerank/unwritable{i}", ["rerank", "--rm", "{rm}", "--input", "{prompts}", "--output", o], 3)
      for i, o in enumerate(UNWRITABLE)],
    *[(f"data-tldr/unwritable{i}", ["data", "tldr", str(FIXTURES / "tldr_comparisons.jsonl"), "--output", o], 3)
      for i, o in enumerate(UNWRITABLE)],
    *[(f"data-qa/unwritable{i}", ["data", "qa-feedback", str(QA_FEEDBACK), "--output", o], 3)
      for i, o in enumerate(UNWRITABLE)],
    *[(f"train/unwritable{i}", ["train", "--data", "{pairs}", "--rm", "features", "--output", o], 3)
      for i, o in enumerate(UNWRITABLE_DIR)],
    *[(f"export/unwritable{i}", ["export", "{pairs}", "--to", o], 3) for i, o in enumerate(UNWRITABLE_DIR)],
    *[(f"report/unwritable{i}", ["report", "{pairs}", "--output", o.replace(".jsonl", ".html")], 3)
      for i, o in enumerate(UNWRITABLE)],
    *[(f"experiment/unwritable{i}", ["experiment", "--config", "{root}/experiment.yaml", "--output", o], 3)
      for i, o in enumerate(UNWRITABLE_DIR)],
    ("stats/prompts-as-pairs", ["stats", "{prompts}", "--no-embeddings"], 3),
    ("experiment/not-yaml", ["experiment", "--config", "{pairs}", "--output", "{root}/run"], 3),
    # a folder that is no saved model
    ("score/not-a-model", ["score", "--rm", "{not_a_model}", "--input", "{pairs}", "--output", "{root}/o.jsonl"], 3),
    ("rerank/not-a-model", ["rerank", "--rm", "{not_a_model}", "--input", "{prompts}", "--output",
                            "{root}/o.jsonl"], 3),
    ("eval/not-a-model", ["eval", "--rm", "{not_a_model}", "--data", "{pairs}"], 3),
    ("stats/not-a-model", ["stats", "{pairs}", "--reference-rm", "{not_a_model}", "--no-embeddings"], 3),
    ("west-of-n/not-a-model", ["generate", "--backend", "fake", "--method", "west-of-n", "--scorer", "{not_a_model}",
                               "--input", "{prompts}", "--output", "{root}/o.jsonl"], 3),
    # usage mistakes
    ("train/setting-the-kind-lacks", ["train", "--data", "{pairs}", "--rm", "features", "--epochs", "1",
                                      "--output", "{root}/m"], 2),
    ("train/into-a-model", ["train", "--data", "{pairs}", "--rm", "features", "--output", "{rm}"], 2),
]


@pytest.mark.parametrize("name, argv, code", CASES, ids=[c[0] for c in CASES])
def test_every_command_refuses_in_one_line_and_changes_nothing(world: dict[str, Path], name: str, argv: list[str],
                                                               code: int, capsys: pytest.CaptureFixture[str]) -> None:
    args = [a.format(**world) for a in argv]
    before = snapshot(world["root"])
    capsys.readouterr()
    assert main([*args, "-q"]) == code, name
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("rmboost: error: ") and "Traceback" not in err, err
    assert snapshot(world["root"]) == before
    assert not Path("/proc/rmboost-test").exists()


def test_train_refuses_an_unwritable_output_before_reading_or_training(world: dict[str, Path],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import rmboost.rm.train as train

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read or a model trained before the output was checked")

    monkeypatch.setattr(train, "load_training_pairs", never)
    monkeypatch.setattr(train, "train_reward_model", never)
    assert main(["train", "--data", str(world["pairs"]), "--output", str(world["root"] / "blocker" / "m"), "-q"]) == 3


def test_a_model_folder_is_replaced_only_with_replace_and_then_wholly(world: dict[str, Path],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = world["rm"]
    (folder / "old_head.bin").write_bytes(b"weights of another kind")
    before = snapshot(folder)
    capsys.readouterr()
    assert main(["train", "--data", str(world["pairs"]), "--rm", "features", "--output", str(folder), "-q"]) == 2
    err = capsys.readouterr().err
    assert "saved features reward model" in err and "--replace" in err
    assert snapshot(folder) == before
    assert main(["train", "--data", str(world["pairs"]), "--rm", "features", "--output", str(folder), "--replace",
                 "--seed", "3", "-q"]) == 0
    fresh = world["root"] / "fresh"
    assert main(["train", "--data", str(world["pairs"]), "--rm", "features", "--output", str(fresh), "--seed", "3",
                 "-q"]) == 0
    replaced, made = snapshot(folder), snapshot(fresh)
    assert sorted(replaced) == sorted(made)  # nothing of the old folder is left
    timed = "training_curve.jsonl"  # its rows hold the seconds each step took
    assert {k: v for k, v in replaced.items() if k != timed} == {k: v for k, v in made.items() if k != timed}
    assert not list(world["root"].glob(".*saving*"))


def test_a_setting_the_kind_lacks_is_a_usage_error_naming_the_kind(world: dict[str, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(world["pairs"]), "--rm", "features", "--epochs", "1", "--output",
                 str(world["root"] / "m"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "features" in err and "--epochs" in err and "l2_grid" in err


def experiment_config(tmp_path: Path, name: str, data: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""
name: {name}
data: {data}
train_prompts: 8
test_pairs: 20
methods: []
train_sets: [real]
reward_models: [features]
generation: {{progress: false}}
bootstrap: 20
stats: false
""")
    return path


def test_a_first_experiment_that_stopped_takes_the_corrected_config(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    broken = experiment_config(tmp_path, "broken", f"{{path: {FIXTURES / 'qa_feedback_small.json'}, on_error: raise}}")
    assert main(["experiment", "--config", str(broken), "--output", str(out)]) == 3  # a malformed question
    assert (out / "experiment.json").exists() and not (out / "results.json").exists()
    fixed = experiment_config(tmp_path, "fixed", f"{{path: {QA_FEEDBACK}, on_error: skip}}")
    assert main(["experiment", "--config", str(fixed), "--output", str(out)]) == 0
    assert '"on_error": "skip"' in (out / "results.json").read_text()
    # Once the folder holds results, another config is refused again.
    capsys.readouterr()
    assert main(["experiment", "--config", str(broken), "--output", str(out)]) == 2
    assert "--replace" in capsys.readouterr().err
