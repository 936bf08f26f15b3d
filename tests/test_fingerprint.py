"""The settings fingerprint, through the real CLI: an output made with one set of settings is never
silently extended with another. A resume with other settings is refused (exit 2) with a message that
names each difference and the two ways on; `--append` mixes on purpose and the settings file keeps
the history; each row carries the hash of the settings that made it. The same holds for the Ray
engine's folder of shards and for the pair files of `rmboost experiment`."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, REPO, read_jsonl, write_jsonl
from rmboost.cli import main
from rmboost.generation.config import ROW_SETTINGS, RUN_SETTINGS, GenerateConfig

BUILTIN = REPO / "src" / "rmboost" / "resources"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(6)])
    out = tmp_path / "out.jsonl"

    def go(*extra: str, output: Path = out) -> tuple[int, str]:
        return cli(capsys, "generate", "--input", str(inp), "--output", str(output), "--backend", "fake",
                   "--quiet", *extra)
    return go, out


def test_every_generate_option_is_classified_for_the_fingerprint() -> None:
    names = [f.name for f in dataclasses.fields(GenerateConfig)]
    unclassified = [n for n in names if (n in ROW_SETTINGS) == (n in RUN_SETTINGS)]
    assert not unclassified, f"put each in ROW_SETTINGS or RUN_SETTINGS (generation/config.py): {unclassified}"


def test_the_issue_case_rlcd_on_an_rmboost_output_is_refused_and_nothing_changes(run) -> None:  # type: ignore[no-untyped-def]
    go, out = run
    assert go("--method", "rmboost", "--limit", "3")[0] == 0
    before = out.read_bytes()
    code, err = go("--method", "rlcd", "--seed", "7")
    assert code == 2 and "Traceback" not in err
    assert "method: rmboost -> rlcd" in err and "seed: 0 -> 7" in err
    assert "another --output" in err and "--append" in err
    assert out.read_bytes() == before and len(read_jsonl(out)) == 3


def _template_copy(tmp: Path) -> Path:
    path = tmp / "template.yaml"
    shutil.copy(BUILTIN / "templates" / "rmboost.yaml", path)
    return path


def _aspects_file(tmp: Path) -> Path:
    path = tmp / "aspects.yaml"
    path.write_text("aspects:\n  - {name: brevity, definition: short}\n")
    return path


# (options of the first run, options of the second, a difference the refusal must name)
CHANGES = [
    ([], ["--temperature", "0.3"], "temperature: 0.7 -> 0.3"),
    ([], ["--top-p", "0.5"], "top_p: 0.95 -> 0.5"),
    ([], ["--max-tokens", "99"], "max_tokens: 384 -> 99"),
    ([], ["--task", "chat"], "task: qa -> chat"),
    ([], ["--model", "other"], "served_model: fake -> other"),
    ([], ["--backend-arg", "model=other"], "backend_options.model: (unset) -> other"),
    ([], ["--backend", "rmboost.backends.fake:FakeBackend"], "backend: fake -> rmboost.backends.fake:FakeBackend"),
    ([], ["--length-control"], "length_control: False -> True"),
    (["--method", "rlaif"], ["--method", "rlaif", "--judge-decision", "first"], "judge_decision: agree -> first"),
]


@pytest.mark.parametrize("first,second,named", CHANGES, ids=[c[2].split(":")[0] for c in CHANGES])
def test_a_resume_with_other_settings_is_refused_naming_the_difference(  # type: ignore[no-untyped-def]
        run, first: list[str], second: list[str], named: str) -> None:
    go, out = run
    assert go(*first, "--limit", "2")[0] == 0
    code, err = go(*second)
    assert code == 2 and named in err, err
    assert len(read_jsonl(out)) == 2


@pytest.mark.parametrize("kind", ["template", "aspects"])
def test_a_changed_file_behind_the_same_path_is_refused(run, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    go, out = run
    path = _template_copy(tmp_path) if kind == "template" else _aspects_file(tmp_path)
    assert go(f"--{kind}", str(path), "--limit", "2")[0] == 0
    assert go(f"--{kind}", str(path))[0] == 0  # the same contents resume
    path.write_text(path.read_text().replace("short", "brief").replace("response", "answer", 1))
    code, err = go(f"--{kind}", str(path))
    assert code == 2 and f"{kind}: " in err and " -> " in err, err


def test_options_that_do_not_change_rows_resume(run) -> None:  # type: ignore[no-untyped-def]
    go, out = run
    assert go("--limit", "2")[0] == 0
    for extra in (["--concurrency", "1"], ["--no-cache"], ["--progress-every", "1"], ["--price-in", "3"],
                  ["--on-error", "skip"]):
        assert go(*extra)[0] == 0, extra
    assert len(read_jsonl(out)) == 6


def test_append_mixes_on_purpose_and_the_settings_file_keeps_the_history(run) -> None:  # type: ignore[no-untyped-def]
    go, out = run
    assert go("--limit", "3")[0] == 0
    first = json.loads(out.with_suffix(".settings.json").read_text())
    assert go("--method", "rlcd", "--seed", "7", "--append")[0] == 0
    saved = json.loads(out.with_suffix(".settings.json").read_text())
    rows = read_jsonl(out)
    by_hash = {h: [r["method"] for r in rows if r["settings"] == h] for h in {r["settings"] for r in rows}}
    assert by_hash == {first["hash"]: ["rmboost"] * 3, saved["hash"]: ["rlcd"] * 3}
    assert saved["settings"]["method"] == "rlcd" and saved["settings"]["seed"] == 7
    (old,) = saved["history"]
    assert old["hash"] == first["hash"] and old["settings"] == first["settings"]
    assert "method: rmboost -> rlcd" in old["differences"]
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["settings"] == saved["hash"]
    assert go("--method", "rlcd", "--seed", "7")[0] == 0  # the current settings resume
    code, err = go()  # the first settings are history now: going back is another mix
    assert code == 2 and "method: rlcd -> rmboost" in err


def test_the_same_settings_make_the_same_hash_in_another_output(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    go, out = run
    assert go("--limit", "2")[0] == 0
    assert go("--limit", "2", "--concurrency", "1", output=tmp_path / "b.jsonl")[0] == 0
    assert go("--limit", "2", "--seed", "1", output=tmp_path / "c.jsonl")[0] == 0
    hashes = [{r["settings"] for r in read_jsonl(p)} for p in (out, tmp_path / "b.jsonl", tmp_path / "c.jsonl")]
    assert hashes[0] == hashes[1] and len(hashes[0]) == 1 and hashes[0] != hashes[2]


def test_an_output_from_before_settings_were_recorded_is_checked_against_its_rows(run) -> None:  # type: ignore[no-untyped-def]
    go, out = run
    assert go("--limit", "2")[0] == 0
    out.with_suffix(".settings.json").unlink()
    code, err = go("--seed", "7")
    assert code == 2 and "seed: 0 -> 7" in err
    assert go()[0] == 0  # the rows' own metadata matches: adopted, and the history says so
    (note,) = json.loads(out.with_suffix(".settings.json").read_text())["history"]
    assert note["rows"] == 2 and note["hash"] is None


def test_the_experiment_refuses_to_extend_its_pair_files_with_other_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "exp.yaml"
    text = (f"name: fp\ndata: {QA_FEEDBACK}\ntrain_prompts: 3\ntest_pairs: 10\nmethods: [rmboost]\n"
            "reward_models: [embed-linear]\ntrain_sets: [syn]\nrm_overrides: {embed-linear: {epochs: 1}}\n"
            "stats: false\nembeddings: false\ngeneration: {backend: fake}\nbootstrap: 10\n")
    config.write_text(text)
    out = tmp_path / "run"
    assert cli(capsys, "-q", "experiment", "--config", str(config), "--output", str(out))[0] == 0
    pairs = out / "pairs" / "rmboost.jsonl"
    before = pairs.read_bytes()
    config.write_text(text.replace("{backend: fake}", "{backend: fake, temperature: 0.2}"))
    code, err = cli(capsys, "-q", "experiment", "--config", str(config), "--output", str(out))
    # Refused by the folder's own record of its config, before the pair file is opened.
    assert code == 2 and str(out) in err and "generation.temperature" in err and "--replace" in err
    assert pairs.read_bytes() == before


def test_the_ray_engine_refuses_a_folder_made_with_other_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(4)])
    folder = tmp_path / "shards"
    argv = ["generate", "--engine", "ray", "--input", str(inp), "--output", str(folder), "--backend", "fake",
            "--quiet", "--shard-size", "2", "--workers", "1"]
    assert cli(capsys, *argv)[0] == 0
    shard_settings = json.loads((folder / "part-00000.settings.json").read_text())
    assert shard_settings["settings"]["served_model"] == "fake"
    assert {r["settings"] for r in read_jsonl(folder / "part-00001.jsonl")} == {shard_settings["hash"]}
    before = {p.name: p.read_bytes() for p in folder.glob("part-*.jsonl")}
    code, err = cli(capsys, *argv, "--seed", "3")
    assert code == 2 and str(folder) in err and "seed: 0 -> 3" in err
    assert {p.name: p.read_bytes() for p in folder.glob("part-*.jsonl")} == before


def test_a_scorer_is_known_by_its_model_not_by_its_training_records(tmp_path: Path) -> None:
    """A West-of-N scorer trained twice on the same pairs (a chunk continued on another machine) has
    the same weights and other timings in eval.json / training_curve.jsonl: the same digest. A scorer
    whose weights differ has another."""
    from rmboost.generation.settings import file_settings

    rows = [{"prompt": f"q{i}", "chosen": "a full answer. " * (1 + i % 3), "rejected": "no"} for i in range(12)]
    data = write_jsonl(tmp_path / "pairs.jsonl", rows)
    for name in ("a", "b"):
        assert main(["train", "--rm", "features", "--data", str(data), "--output", str(tmp_path / name)]) == 0
    (tmp_path / "b" / "eval.json").write_text('{"seconds": 99}')
    with (tmp_path / "b" / "training_curve.jsonl").open("a") as f:
        f.write('{"seconds": 12.5}\n')

    def scorer_digest(folder: str) -> str:
        config = GenerateConfig(input="x", output="y", method="west-of-n", scorer=str(tmp_path / folder))
        return str(file_settings(config)["scorer"])

    assert scorer_digest("a") == scorer_digest("b")
    weights = json.loads((tmp_path / "b" / "weights.json").read_text())
    (tmp_path / "b" / "weights.json").write_text(json.dumps(weights | {"changed": True}))
    assert scorer_digest("a") != scorer_digest("b")
