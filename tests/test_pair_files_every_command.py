"""Every reader of pair files reads them by one rule (`data.trl_pairs.parse_row` in
`data.row_loop`'s loop): `train`, `eval`, `score`, `agree`, `report`, `export` and the experiment
accept the same pair files (explicit prompts, TRL's implicit prompts, a pair left out by rule) and
refuse the same broken ones with the same exit code and the same one-line error (file, line,
field), through the real CLI (`rmboost.cli.main` in this process). The reward model the commands
that need one score with is a `features` model, trained once on the explicit file (well under a
second)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_jsonl
from rmboost.cli import main
from rmboost.experiment.config import load_config
from rmboost.experiment.dataset import prepare


def turns(*texts: str) -> list[dict[str, str]]:
    """A conversation: user and assistant turns in turn, the user first."""
    return [{"role": ("user", "assistant")[i % 2], "content": t} for i, t in enumerate(texts)]


EXPLICIT = [{"id": f"e{i}", "prompt": f"Who wrote song number {i}?", "chosen": f"Person {i} wrote song {i}.",
             "rejected": "No idea."} for i in range(6)]
# TRL's implicit prompt: two whole conversations whose turns before the last reply are the prompt.
IMPLICIT = [{"chosen": turns("Hi.", "Hello!", f"Name a colour, please ({i}).", f"Blue, number {i}."),
             "rejected": turns("Hi.", "Hello!", f"Name a colour, please ({i}).", "No.")} for i in range(6)]
# Two conversations that differ before the last reply: no preference for one prompt, left out and counted.
DIFFERING = {"chosen": turns("Hi.", "Hello!", "Tell a joke.", "A joke."),
            "rejected": turns("Hey.", "Hello!", "Tell a joke.", "No.")}
ACCEPTED = {"explicit": EXPLICIT, "implicit": IMPLICIT, "one-left-out": [*IMPLICIT, DIFFERING]}

# Broken files: one bad row after a good one, (the row, the error after `<file>:2:`).
BROKEN = {
    "no-chosen": ({"prompt": "Q?", "rejected": "Bad."}, "field 'chosen' is missing"),
    "not-json": ('{"prompt": "Q?", "chosen": ', "is not valid JSON"),
    "not-an-object": (["Q?", "A.", "B."], "expected a JSON object"),
    "chosen-not-text": ({"prompt": "Q?", "chosen": 3, "rejected": "Bad."},
                        "field 'chosen' must be a string when prompt is a string"),
    "implicit-no-turn": ({"chosen": turns("x", "A.")[1:], "rejected": turns("x", "B.")[1:]},
                         "field 'chosen' must end with an assistant reply after at least one turn"),
}


def experiment(pairs: Path, tmp: Path) -> Path:
    config = tmp / "exp.yaml"
    config.write_text(f"""
name: same-rule
data: {{format: trl, path: {pairs}, test_path: {pairs}}}
methods: [rmboost]
reward_models: [features]
generation: {{backend: fake, task: chat, progress: false}}
bootstrap: 10
embeddings: false
""")
    return config


COMMANDS = {
    "train": lambda f, tmp, rm: ["train", "--rm", "features", "--data", str(f), "--output", str(tmp / "rm")],
    "eval": lambda f, tmp, rm: ["eval", "--rm", str(rm), "--data", str(f), "--n-boot", "10"],
    "score": lambda f, tmp, rm: ["score", "--rm", str(rm), "--input", str(f), "--output", str(tmp / "s.jsonl")],
    "agree": lambda f, tmp, rm: ["agree", str(f), "--human", str(f), "--n-boot", "10"],
    "report": lambda f, tmp, rm: ["report", str(f), "--output", str(tmp / "r.html")],
    "export": lambda f, tmp, rm: ["export", str(f), "--to", str(tmp / "ds")],
    "experiment": lambda f, tmp, rm: ["experiment", "--config", str(experiment(f, tmp)), "--output",
                                      str(tmp / "exp")],
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = write_jsonl(folder / "train.jsonl", EXPLICIT)
    assert main(["--quiet", "train", "--rm", "features", "--data", str(data), "--output", str(folder / "rm")]) == 0
    return folder / "rm"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """The exit code, the `rmboost: error:` lines on stderr, and the rest of stderr."""
    capsys.readouterr()
    code = main(["--quiet", *argv])
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("rmboost: error:")]
    return code, errors, "\n".join(line for line in err if line not in errors)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"experiment"}))
def test_every_command_accepts_the_same_pair_files(command: str, name: str, model: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    pairs = write_jsonl(tmp_path / f"{name}.jsonl", ACCEPTED[name])
    code, errors, _ = run(COMMANDS[command](pairs, tmp_path, model), capsys)
    assert (code, errors) == (0, [])


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_experiment_reads_the_same_pairs_and_counts_the_one_left_out(name: str, tmp_path: Path) -> None:
    """The experiment's reading of its data (the step before any generation)."""
    pairs = write_jsonl(tmp_path / f"{name}.jsonl", ACCEPTED[name])
    prepared = prepare(load_config(experiment(pairs, tmp_path)), tmp_path / "exp")
    assert prepared.real_pairs == len(IMPLICIT if name == "one-left-out" else ACCEPTED[name])
    left_out = {"chosen and rejected conversations differ before the last reply": 2} if name == "one-left-out" else {}
    assert prepared.info["left_out"] == left_out  # read twice: as the training and as the test file


def test_agree_reads_implicit_prompts_as_train_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`agree` refused a row without `prompt` that `train` and `score` read; now each of its pairs is
    about its own label, and the pair left out by rule is about none."""
    pairs = write_jsonl(tmp_path / "implicit.jsonl", [*IMPLICIT, DIFFERING])
    capsys.readouterr()
    assert main(["agree", str(pairs), "--human", str(pairs), "--n-boot", "10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["pairs"], report["labels"]["matched"], report["labels"]["unmatched"]) == (len(IMPLICIT),) * 2 + (0,)
    assert report["left_out"] == {"chosen and rejected conversations differ before the last reply": 1}
    assert main(["agree", str(pairs), "--human", str(pairs), "--n-boot", "10"]) == 0
    assert "left out: 1 row (chosen and rejected conversations differ before the last reply)" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_every_command_refuses_a_broken_pair_file_with_one_and_the_same_line(
        name: str, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row, error = BROKEN[name]
    pairs = write_jsonl(tmp_path / f"{name}.jsonl", [EXPLICIT[0], row])  # the bad row after a good one
    alone = write_jsonl(tmp_path / f"{name}-alone.jsonl", ["", row])  # the bad row alone, on line 2 too
    said = {}
    for command, argv in COMMANDS.items():
        (tmp_path / command).mkdir()
        said[command] = run(argv(pairs, tmp_path / command, model), capsys)
    # `report` shows what it can of a damaged file (exit 0) and says the error it left out; a file of
    # which no row is a pair it refuses, as the others do.
    code, errors, warnings = said.pop("report")
    assert (code, errors) == (0, []) and f"{pairs}:2: {error}" in warnings
    said["report (the bad row alone)"] = run(COMMANDS["report"](alone, tmp_path / "report", model), capsys)
    for command, (code, errors, _) in said.items():
        assert code == 3, (command, errors)
        assert len(errors) == 1, (command, errors)
    lines = {errors[0].replace(str(alone), str(pairs)) for _, errors, _ in said.values()}
    assert len(lines) == 1 and lines.pop().startswith(f"rmboost: error: {pairs}:2: {error}"), said
