"""The experiment on any human-labelled data: HH and TRL files end to end (fake backend,
embed-linear), the split by prompt, and config errors that stop before any generation."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, read_jsonl, write_jsonl
from rmboost.cli import main

FIX = Path(__file__).parent / "fixtures"
HUMAN, ASSISTANT = "\n\nHuman: ", "\n\nAssistant: "


def side(text: str) -> str:
    """The documented split rule, written out again: the parity of sha256('split:' + text)."""
    return "train" if int(hashlib.sha256(("split:" + text.strip()).encode()).hexdigest()[:8], 16) % 2 == 0 else "test"


def first_user_turn(transcript: str) -> str:
    return transcript.split(HUMAN)[1].split(ASSISTANT)[0].strip()


def last_reply(transcript: str) -> str:
    return transcript.rsplit(ASSISTANT, 1)[1].strip()


def test_the_hh_profile_runs_end_to_end_on_its_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the profile names its fixture relative to the checkout
    out = tmp_path / "run"
    assert main(["experiment", "--config", "configs/hh-small.yaml", "--output", str(out)]) == 0
    raw = read_jsonl(FIX / "hh_experiment.jsonl")
    diverged = raw[-1]  # the fixture's last row lost an earlier turn in `rejected`
    rows = raw[:-1]
    train = [r for r in rows if side(first_user_turn(r["chosen"])) == "train"]
    test = [r for r in rows if side(first_user_turn(r["chosen"])) == "test"]
    assert train and test and first_user_turn(diverged["chosen"]) != first_user_turn(diverged["rejected"])

    summary = json.loads((out / "results.json").read_text())
    info = summary["dataset"]
    assert (info["format"], info["path"], info["task"]) == ("hh", "tests/fixtures/hh_experiment.jsonl", "chat")
    assert info["real_pairs"] == len(train) and info["test_pairs"] == len(test)
    assert info["train_prompts"] == len({r["chosen"].rsplit(ASSISTANT, 1)[0] for r in train})
    assert info["left_out"] == {"chosen and rejected differ before the last reply": 1}
    real = read_jsonl(out / "data" / "real_train.jsonl")
    assert sorted(r["chosen"][0]["content"] for r in real) == sorted(last_reply(r["chosen"]) for r in train)
    assert sorted(r["rejected"][0]["content"] for r in real) == sorted(last_reply(r["rejected"]) for r in train)
    tested = read_jsonl(out / "data" / "test_pairs.jsonl")
    assert sorted(r["chosen"][0]["content"] for r in tested) == sorted(last_reply(r["chosen"]) for r in test)

    # The methods answered the training conversations (the turns before the last reply), nothing else.
    prompts = read_jsonl(out / "data" / "train_prompts.jsonl")
    assert all(p["prompt"][-1]["role"] == "user" for p in prompts)
    train_prompts = {json.dumps(p["prompt"]) for p in prompts}
    assert not train_prompts & {json.dumps(r["prompt"]) for r in tested}
    for name in ("rmboost", "rlaif"):
        syn = read_jsonl(out / "pairs" / f"{name}.jsonl")
        assert syn and all(json.dumps(p["prompt"]) in train_prompts and p["task"] == "chat" for p in syn)
        assert {a for p in syn for a in p["aspects"]} <= {"helpfulness", "honesty", "harmlessness",
                                                          "instruction-following", "clarity"}
    assert [r["train_set"] for r in summary["results"]] == ["real", "rmboost", "rlaif", "real+rmboost", "real+rlaif"]
    assert summary["controls"]["available"] is False
    table = (out / "results.md").read_text()
    assert f"Data: hh tests/fixtures/hh_experiment.jsonl (split by a hash of the prompt's first user turn): " \
           f"{info['train_prompts']} training prompts, {len(train)} Real pairs, {len(test)} test pairs; " \
           "1 rows left out: chosen and rejected differ before the last reply." in table
    assert "Controls: this data has no known-good pairs" in table
    assert (out / "stats.md").read_text().startswith("Data: hh tests/fixtures/hh_experiment.jsonl")
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"


def trl_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "trl.yaml"
    path.write_text(f"""
name: trl-test
data: {{format: trl, path: {FIX / 'trl_experiment_train.jsonl'}, test_path: {FIX / 'trl_experiment_test.jsonl'}}}
train_prompts: null
methods: [rmboost]
reward_models: [embed-linear]
generation: {{backend: fake, task: chat, concurrency: 4, progress: false}}
rm_overrides: {{embed-linear: {{epochs: 2}}}}
bootstrap: 50
embeddings: false
{extra}""")
    return path


def test_a_trl_file_with_its_own_test_file_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["experiment", "--config", str(trl_config(tmp_path, "controls: true")), "--output", str(out)]) == 0
    train, test = read_jsonl(FIX / "trl_experiment_train.jsonl"), read_jsonl(FIX / "trl_experiment_test.jsonl")
    summary = json.loads((out / "results.json").read_text())
    info = summary["dataset"]
    assert (info["real_pairs"], info["test_pairs"]) == (len(train), len(test))
    assert info["train_prompts"] == len({r["prompt"] for r in train})
    assert info["split"] == "test pairs from data.test_path"
    prompts = read_jsonl(out / "data" / "train_prompts.jsonl")
    assert sorted(p["prompt"] for p in prompts) == sorted({r["prompt"] for r in train})  # strings stay strings
    assert [r["train_set"] for r in summary["results"]] == ["real", "rmboost", "real+rmboost"]
    # Controls were asked for, but a TRL file has no known-good pairs: none trained, and the tables say so.
    assert summary["controls"] == {"requested": True, "available": False, "note": "this data has no known-good "
                                   "pairs (only QA-Feedback's human corrections give controls)"}
    assert "Controls: this data has no known-good pairs" in (out / "results.md").read_text()
    assert all(r["n"] == len(test) for r in summary["results"])


def run_cli(config: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rmboost.cli", "experiment", "--config", str(config),
                           "--output", str(out)], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_bad_data_sections_are_one_line_errors_before_any_generation(tmp_path: Path) -> None:
    one_side = next(q for q in ("What is 2+2?", "Say hi.", "Name a fruit.", "Why?") if side(q) == "train")
    lopsided = write_jsonl(tmp_path / "lopsided.jsonl", [
        {"chosen": HUMAN + one_side + ASSISTANT + f"good {i}", "rejected": HUMAN + one_side + ASSISTANT + f"bad {i}"}
        for i in range(3)])
    base = (FIX / "trl_experiment_train.jsonl").as_posix()
    cases = [
        ("data: {format: hh, path: /nowhere/train.jsonl}", ["data.path", "/nowhere/train.jsonl"]),
        (f"data: {{format: csv, path: {base}}}", ["data.format", "csv"]),
        (f"data: {{format: hh, path: {lopsided}}}", [str(lopsided), "no test rows"]),
        (f"data: {{format: trl, path: {base}}}", ["generation.task"]),
        (f"data: {{format: trl, path: {base}, test_path: /nowhere/test.jsonl}}\ngeneration: {{task: chat}}",
         ["data.test_path", "/nowhere/test.jsonl"]),
    ]
    for i, (data, named) in enumerate(cases):
        config = tmp_path / f"c{i}.yaml"
        config.write_text(f"name: bad\n{data}\nmethods: [rmboost]\n"
                          + ("" if "generation" in data else "generation: {backend: fake}\n"))
        out = tmp_path / f"out{i}"
        done = run_cli(config, out)
        err = done.stderr.strip()
        assert done.returncode != 0 and "Traceback" not in err and len(err.splitlines()) == 1, (data, err)
        assert all(n in err for n in named), (data, err)
        assert not (out / "pairs").exists()  # stopped before any generation


def test_every_profile_loads_and_the_old_data_form_still_means_qa_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rmboost.errors import UserError
    from rmboost.experiment.config import load_config

    monkeypatch.chdir(REPO)
    profiles = sorted(Path("configs").glob("*.yaml"))
    loaded = {}
    # The real files of these profiles are not in the checkout: a one-line error names them.
    real_files = {"hh.yaml": "helpful-base/train.jsonl", "tldr.yaml": "tldr/comparisons.jsonl",
                  "ultrafeedback.yaml": "ultrafeedback/train_prefs.jsonl"}
    for path in profiles:
        if path.name in real_files:
            with pytest.raises(UserError, match=rf"field 'data.path': no such file .*{real_files[path.name]}"):
                load_config(path)
            continue
        loaded[path.stem] = load_config(path)
    assert {"small", "full", "hh-small"} <= set(loaded)
    assert loaded["small"].controls and loaded["full"].controls  # the controls are in the profiles
    assert loaded["hh-small"].data.format == "hh" and loaded["hh-small"].task == "chat"
    assert (loaded["tldr-small"].data.format, loaded["tldr-small"].task) == ("tldr", "summarization")
    assert (loaded["ultrafeedback-small"].task, loaded["ultrafeedback-small"].calibration.enabled) == (
        "ultrafeedback", True)
    old = tmp_path / "old.yaml"
    old.write_text(f"data: {(FIX / 'qa_feedback_small.json').as_posix()}\n")
    data = load_config(old).data
    assert (data.format, data.test_path) == ("qa-feedback", None)
    assert data.path == (FIX / "qa_feedback_small.json").as_posix()
