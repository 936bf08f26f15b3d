"""The registry of data formats (`data/formats.py`, issue 34 item 5): a format known to `data` is known
everywhere. `train --format` and `eval --format` offer exactly the formats with a loader, and read
each one's fixture; `rmboost data` converts exactly the formats with a converter; the experiment's
config check takes exactly the formats with a split rule, with the task and yardsticks their
registration gives; docs/DATASETS.md's table is the registry; and a format registered in a test (and
nowhere else) is taken by the experiment from its config check to its data."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pytest

from conftest import REPO
from rmboost.cli import build_parser, main
from rmboost.data import formats
from rmboost.data.formats import FORMATS, HUMAN_PAIRS, DataFormat, load_pairs, named
from rmboost.data.splits import pair_file_sides
from rmboost.data.trl_pairs import load_trl_pairs
from rmboost.experiment.config import load_config
from rmboost.io.rows import SkipCounter

FIX = REPO / "tests" / "fixtures"
# One file of each format that a command reads as pairs ...
PAIR_FILES = {"qa-feedback": FIX / "qa_feedback_small.json", "hh": FIX / "hh_small.jsonl",
              "trl": FIX / "trl_small.jsonl", "rewardbench": FIX / "rewardbench_small.jsonl"}
# ... and one `data:` section of each format the experiment takes (a new format adds its fixture here).
SECTIONS = {"qa-feedback": f"{{format: qa-feedback, path: {FIX / 'qa_feedback_small.json'}}}",
            "hh": f"{{format: hh, path: {FIX / 'hh_experiment.jsonl'}}}",
            "trl": f"{{format: trl, path: {FIX / 'trl_experiment_train.jsonl'}}}",
            "tldr": f"{{format: tldr, path: {FIX / 'tldr_experiment.jsonl'}}}",
            "ultrafeedback": f"{{format: ultrafeedback, path: {FIX / 'ultrafeedback_experiment.jsonl'}}}"}


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices[name]  # type: ignore[no-any-return]


def choices(command: str, dest: str) -> list[str]:
    (action,) = [a for a in subcommand(build_parser(), command)._actions if a.dest == dest]
    return list(action.choices or [])


def config(tmp_path: Path, section: str, extra: str = "") -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(f"name: formats\ndata: {section}\nmethods: []\ntrain_sets: [real]\nreward_models: [features]\n"
                    f"train_prompts: 4\nbootstrap: 20\nstats: false\n{extra}")
    return path


def test_train_and_eval_read_every_format_with_a_loader() -> None:
    assert set(PAIR_FILES) == set(named("load"))
    for command in ("train", "eval"):
        assert choices(command, "format") == named("load"), command
    for name, path in PAIR_FILES.items():
        formats.expect_format(path, name, "rmboost train")  # its files are the kind of rows it declares
        assert load_pairs(path, name, SkipCounter("skip")), name


def test_rmboost_data_converts_every_format_with_a_converter() -> None:
    (action,) = [a for a in subcommand(build_parser(), "data")._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(action.choices) == sorted(FORMATS[n].command or "" for n in named("command"))


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_the_experiment_takes_every_format_with_a_split_rule(tmp_path: Path, name: str) -> None:
    assert set(SECTIONS) == set(named("sides"))
    fmt = FORMATS[name]
    extra = "" if fmt.task else "generation: {task: chat}\n"  # a format without a task: the config says
    c = load_config(config(tmp_path, SECTIONS[name], extra))
    assert c.task == (fmt.task or "chat")
    assert c.yardstick_names == list(fmt.yardsticks)


def test_a_format_without_a_split_rule_is_refused_in_one_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, f"{{format: rewardbench, path: {PAIR_FILES['rewardbench']}}}")
    assert main(["experiment", "--config", str(path), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"choose one of {', '.join(named('sides'))}" in err


def test_the_docs_table_is_the_registry() -> None:
    assert formats.table() in (REPO / "docs" / "DATASETS.md").read_text(encoding="utf-8"), \
        "docs/DATASETS.md's table of formats differs from data/formats.py: paste formats.table() in"


def test_a_format_registered_once_is_taken_by_the_experiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rmboost.experiment.dataset import prepare

    toy = DataFormat("toy", "Toy", "tests/test_data_formats.py", "the toy rule", task="chat",
                     yardsticks=(HUMAN_PAIRS,), sides=partial(pair_file_sides, load=load_trl_pairs,
                                                              rule="split by the toy rule", what="rows"))
    monkeypatch.setitem(FORMATS, "toy", toy)
    c = load_config(config(tmp_path, f"{{format: toy, path: {FIX / 'trl_experiment_train.jsonl'}, "
                                     f"test_path: {FIX / 'trl_experiment_test.jsonl'}}}"))
    assert (c.task, c.yardstick_names) == ("chat", [HUMAN_PAIRS])
    prepared = prepare(c, tmp_path / "run")
    assert prepared.info["format"] == "toy" and prepared.info["task"] == "chat"
    assert prepared.info["yardsticks"] == {HUMAN_PAIRS: 6} and prepared.real_pairs > 0
