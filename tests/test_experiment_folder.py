"""Issue 24, findings 1 and 2: an output folder holds one config's results (another config is
refused before anything changes, naming what differs and an option the command has), and a typo
anywhere in a config is refused at once, before any data is read or any pair generated."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK
from rmboost.cli import main


def folder_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def config(tmp_path: Path, name: str, test_pairs: int, extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""
name: {name}
data: {QA_FEEDBACK}
train_prompts: 8
test_pairs: {test_pairs}
methods: []
train_sets: [real]
reward_models: [features]
generation: {{progress: false}}
bootstrap: 50
stats: false
{extra}""")
    return path


def test_a_second_config_is_refused_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["experiment", "--config", str(config(tmp_path, "first", 40)), "--output", str(out)]) == 0
    before = folder_digest(out)
    capsys.readouterr()
    code = main(["experiment", "--config", str(config(tmp_path, "second", 20)), "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "test_pairs" in err and "--replace" in err and "--append" not in err and "name" not in err.split("(")[1]
    assert folder_digest(out) == before  # results, data and models untouched

    assert main(["experiment", "--config", str(config(tmp_path, "second", 20)), "--output", str(out),
                 "--replace"]) == 0
    assert '"test_pairs": 20' in (out / "results.json").read_text()


def test_a_rerun_of_the_same_config_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    path = config(tmp_path, "same", 30)
    assert main(["experiment", "--config", str(path), "--output", str(out)]) == 0
    path.write_text(path.read_text().replace("name: same", "name: same, renamed"))  # a name changes no result
    assert main(["experiment", "--config", str(path), "--output", str(out)]) == 0
    assert "unchanged, reusing" in capsys.readouterr().err


@pytest.mark.parametrize("line, field", [
    ("reward_models: [embed_linear]", "reward_models"),
    ("rm_overrides: {features: {l2: 1}}", "rm_overrides.features"),
    ("rm_overrides: {maxsim: {epochs: 1}}", "rm_overrides.maxsim"),
    ("yardsticks: [human-pair]", "yardsticks"),
    ("calibration: {flip_fractions: [0, 0.5]}", "calibration.flip_fractions"),
    ("west_of_n_scorer: /no/such/folder", "west_of_n_scorer"),
])
def test_a_typo_is_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str,
                                               field: str) -> None:
    text = config(tmp_path, "typo", 20).read_text()
    key = line.split(":")[0]
    text = "\n".join(x for x in text.splitlines() if not x.startswith(key + ":")) + "\n" + line + "\n"
    if key == "west_of_n_scorer":
        text = text.replace("methods: []", "methods: [west-of-n]")
    path = tmp_path / "typo.yaml"
    path.write_text(text)
    out = tmp_path / "never"
    start = time.monotonic()
    code = main(["experiment", "--config", str(path), "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert code in (2, 3) and len(err.splitlines()) == 1 and field in err
    assert time.monotonic() - start < 5 and not out.exists()


def test_a_method_option_of_the_wrong_type_is_refused_at_once(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = config(tmp_path, "types", 20).read_text().replace(
        "methods: []", "methods: [{name: r, method: rmboost, max_tokens: many}]")
    path = tmp_path / "types.yaml"
    path.write_text(text)
    assert main(["experiment", "--config", str(path), "--output", str(tmp_path / "never")]) == 2
    assert "methods: r.max_tokens" in capsys.readouterr().err and not (tmp_path / "never").exists()


def test_a_pair_file_made_with_other_settings_names_an_option_experiment_has(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    text = config(tmp_path, "pairs", 20).read_text().replace(
        "methods: []", "methods: [rmboost]").replace("generation: {progress: false}",
                                                     "generation: {progress: false, backend: fake}")
    path = tmp_path / "pairs.yaml"
    path.write_text(text)
    out = tmp_path / "run"
    assert main(["experiment", "--config", str(path), "--output", str(out)]) == 0
    settings = out / "pairs" / "rmboost.settings.json"
    saved = json.loads(settings.read_text())
    saved["settings"]["temperature"], saved["hash"] = 0.1, "0" * 16  # as if another tool had made it
    settings.write_text(json.dumps(saved))
    capsys.readouterr()
    assert main(["experiment", "--config", str(path), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "temperature" in err and "--replace" in err and "--append" not in err
