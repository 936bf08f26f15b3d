"""Issue 32, part 1: a long experiment advances in chunks that outlive their machine. A chunk stopped
by its time budget archives its pairs; the next one, in a fresh folder with an empty cache,
continues from the archive alone and ends with the same pairs and results as one uninterrupted
run; other settings are refused before anything changes; a finished archive makes no LLM call."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import QA_FEEDBACK, read_jsonl
from rmboost.cli import main
from rmboost.experiment import generate_chunk
from rmboost.experiment.progress_estimate import MethodProgress, duration, method_line, total_line
from rmboost.generation.config import GenerateConfig
from rmboost.generation.summary import RunSummary

METHODS = ("rmboost", "west-of-n")


def chunk_config(tmp_path: Path, generation: str = "", west_of_n: str = "west-of-n") -> Path:
    path = tmp_path / "chunks.yaml"
    path.write_text(f"""
name: chunks
data: {QA_FEEDBACK}
train_prompts: 6
test_pairs: 30
methods: [{{name: rmboost, method: rmboost, pairs_per_prompt: 2}}, {west_of_n}]
reward_models: [features]
train_sets: [syn]
generation: {{backend: fake, concurrency: 2, progress: false{generation}}}
bootstrap: 50
stats: false
embeddings: false
""")
    return path


def fresh_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A new session: an empty request cache."""
    monkeypatch.setenv("RMBOOST_CACHE_DIR", str(tmp_path / f"cache-{name}"))


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


def content(rows: dict[str, dict]) -> dict[str, dict]:
    """Rows without the West-of-N scorer's path and the settings hash over its files: two runs that
    each train their scorer name two folders (the same weights, other timings in the files)."""
    return {i: {k: v for k, v in r.items() if k not in ("scorer", "settings")} for i, r in rows.items()}


def archived_rows(archive: Path, name: str) -> list[dict]:
    with gzip.open(archive / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(config: Path, out: Path, *options: str) -> int:
    return main(["experiment", "--config", str(config), "--output", str(out), *options])


def budget(monkeypatch: pytest.MonkeyPatch, checks: int) -> None:
    """A time budget that runs out at its `checks`-th look (one before each method and each prompt
    taken), on a clock that moves 10 s at each reading and a look at the progress before each prompt."""
    looks, ticks = itertools.count(1), itertools.count(0, 10)
    monkeypatch.setattr(generate_chunk.Deadline, "passed",
                        lambda self: self.minutes is not None and next(looks) >= checks)
    monkeypatch.setattr(generate_chunk, "clock", lambda: float(next(ticks)))
    monkeypatch.setattr(generate_chunk, "TICK_EVERY", 0.0)


def scores(out: Path) -> list[tuple]:
    return [(r["train_set"], r["rm"], r["train_pairs"], r["accuracy"], r["ci_low"], r["ci_high"])
            for r in json.loads((out / "results.json").read_text())["results"]]


def progress(archive: Path) -> dict:
    return json.loads((archive / "progress.json").read_text())


def test_a_chunk_continued_from_its_archive_in_a_fresh_folder_ends_as_one_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, archive = chunk_config(tmp_path), tmp_path / "results" / "pairs"
    fresh_machine(tmp_path, monkeypatch, "whole")
    assert run(config, tmp_path / "whole") == 0
    whole = {m: by_id(read_jsonl(tmp_path / "whole" / "pairs" / f"{m}.jsonl")) for m in METHODS}
    capsys.readouterr()

    # Chunk 1: the budget runs out in the first method.
    fresh_machine(tmp_path, monkeypatch, "one")
    with monkeypatch.context() as m:
        budget(m, 4)
        assert run(config, tmp_path / "one", "--archive-pairs", str(archive), "--generate-for", "60") == 0
    printed = capsys.readouterr()
    rmboost = progress(archive)["methods"]["rmboost"]
    assert 0 < rmboost["prompts_done"] < rmboost["prompts_total"] == 6 and not progress(archive)["complete"]
    assert progress(archive)["methods"]["west-of-n"]["prompts_done"] == 0
    assert f"rmboost {rmboost['prompts_done']}/6" in printed.out and "west-of-n 0/6" in printed.out
    # The estimate: prompts left x this run's own seconds per prompt, during the chunk and at its end.
    assert rmboost["seconds_left"] == round(rmboost["prompts_left"] * rmboost["seconds_per_prompt"])
    assert progress(archive)["unmeasured"] == ["west-of-n"]
    assert progress(archive)["seconds_left"] == rmboost["seconds_left"] > 0
    assert f"{rmboost['prompts_left']} left x {rmboost['seconds_per_prompt']:.1f} s" in printed.err
    assert "rmboost: 0/6 prompts, 6 left x ? s (not measured yet); time left: not measured yet" in printed.err
    # while it ran, the estimate knew the method's prompts (never "x/0 prompts, done")
    assert "/0 prompts" not in printed.err and "rmboost: 1/6 prompts, 5 left" in printed.err
    assert not (tmp_path / "one" / "results.json").exists()  # no training on a part of the pairs
    first = by_id(archived_rows(archive, "rmboost"))
    assert first and all(whole["rmboost"][i] == r for i, r in first.items())  # the whole run's pairs
    assert not (archive / "west-of-n.jsonl.gz").exists()

    # Chunk 2: a new machine, a fresh folder, the archive alone; the budget runs out in West-of-N.
    fresh_machine(tmp_path, monkeypatch, "two")
    with monkeypatch.context() as m:
        budget(m, 14)
        assert run(config, tmp_path / "two", "--continue-from", str(archive), "--archive-pairs", str(archive),
                   "--generate-for", "60") == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "two" / "pairs" / "rmboost.summary.json").read_text())
    assert summary["skipped_done"] == len(first)  # no finished prompt made again
    west = progress(archive)["methods"]["west-of-n"]
    assert 0 < west["prompts_done"] < 6 and progress(archive)["methods"]["rmboost"]["prompts_left"] == 0
    assert (archive / "models" / "real--embed-linear" / "eval.json").is_file()  # the scorer, kept with its pairs

    # Chunk 3: another machine, no budget: the rest, then training and scoring.
    fresh_machine(tmp_path, monkeypatch, "three")
    assert run(config, tmp_path / "three", "--continue-from", str(archive), "--archive-pairs", str(archive)) == 0
    for m in METHODS:
        assert content(by_id(read_jsonl(tmp_path / "three" / "pairs" / f"{m}.jsonl"))) == content(whole[m])
        assert content(by_id(archived_rows(archive, m))) == content(whole[m])
    results = [scores(tmp_path / d) for d in ("whole", "three")]
    assert results[0] == results[1] and len(results[0]) == 2
    assert progress(archive)["complete"] is True and progress(archive)["seconds_left"] == 0

    # A finished archive continued: no LLM call, and the archive stays as it is.
    from rmboost.backends.fake import FakeBackend

    async def no_call(self: FakeBackend, requests: object) -> list:
        raise AssertionError("an LLM call")

    monkeypatch.setattr(FakeBackend, "complete", no_call)
    fresh_machine(tmp_path, monkeypatch, "four")
    before = digest(archive)
    assert run(config, tmp_path / "four", "--continue-from", str(archive), "--archive-pairs", str(archive)) == 0
    assert digest(archive) == before
    assert scores(tmp_path / "four") == results[1]


def test_a_continue_with_other_settings_is_refused_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, archive = chunk_config(tmp_path), tmp_path / "archive"
    with monkeypatch.context() as m:
        budget(m, 4)
        assert run(config, tmp_path / "one", "--archive-pairs", str(archive), "--generate-for", "60") == 0
    capsys.readouterr()
    before = digest(archive)
    (tmp_path / "changed").mkdir()
    changed = chunk_config(tmp_path / "changed", ", temperature: 0.5")
    assert run(changed, tmp_path / "two", "--continue-from", str(archive), "--archive-pairs", str(archive)) == 2
    err = capsys.readouterr().err
    assert "generation.temperature" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "two").exists() and digest(archive) == before


def test_a_method_whose_pair_files_were_taken_out_may_change_its_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    assert run(chunk_config(tmp_path), tmp_path / "one", "--archive-pairs", str(archive)) == 0
    (tmp_path / "changed").mkdir()
    changed = chunk_config(tmp_path / "changed", west_of_n="{name: west-of-n, method: west-of-n, n: 3}")
    capsys.readouterr()
    assert run(changed, tmp_path / "two", "--continue-from", str(archive)) == 2  # its pairs are still there
    assert "methods.west-of-n" in capsys.readouterr().err
    for old in archive.glob("west-of-n.*"):
        old.unlink()
    assert run(changed, tmp_path / "three", "--continue-from", str(archive), "--archive-pairs", str(archive)) == 0
    settings = json.loads((archive / "west-of-n.settings.json").read_text())
    assert json.dumps(settings).count('"n": 3') == 1  # made again, with the new settings
    # Its progress record starts again too: one chunk, the one that made the pairs now there, with
    # the prompts it was made from (the count and digest the next continue checks against).
    record, other = (progress(archive)["methods"][m] for m in ("west-of-n", "rmboost"))
    assert len(record["chunks"]) == 1
    assert record["prompts_total"] == record["prompts_done"] == other["prompts_total"] > 0
    assert record["prompts_digest"] == other["prompts_digest"] is not None
    assert archived_rows(archive, "rmboost") == archived_rows(tmp_path / "archive", "rmboost")


def test_a_limit_is_how_far_a_chunk_goes_not_a_setting_of_its_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "archive"
    (tmp_path / "limited").mkdir()
    assert run(chunk_config(tmp_path / "limited", ", limit: 2"), tmp_path / "one", "--archive-pairs", str(archive)) == 0
    first = by_id(archived_rows(archive, "rmboost"))
    assert {i.split("#")[0] for i in first} == {r["id"] for r in read_jsonl(tmp_path / "one" / "data" /
                                                                            "train_prompts.jsonl")[:2]}
    fresh_machine(tmp_path, monkeypatch, "two")
    assert run(chunk_config(tmp_path), tmp_path / "two", "--continue-from", str(archive)) == 0
    rows = by_id(read_jsonl(tmp_path / "two" / "pairs" / "rmboost.jsonl"))
    assert len(rows) > len(first) and all(rows[i] == r for i, r in first.items())
    summary = json.loads((tmp_path / "two" / "pairs" / "rmboost.summary.json").read_text())
    assert summary["skipped_done"] == len(first)  # no finished prompt made again


def test_a_run_killed_in_a_method_has_archived_the_methods_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = generate_chunk.run_local

    async def interrupted(gen: GenerateConfig, **options: Any) -> RunSummary:
        if gen.method == "west-of-n":
            raise KeyboardInterrupt
        return await real(gen, **options)

    monkeypatch.setattr(generate_chunk, "run_local", interrupted)
    archive = tmp_path / "archive"
    assert run(chunk_config(tmp_path), tmp_path / "one", "--archive-pairs", str(archive)) == 130
    assert len(archived_rows(archive, "rmboost")) == 12 and progress(archive)["methods"]["rmboost"]["prompts_left"] == 0
    assert not progress(archive)["complete"] and (archive / "experiment.json").is_file()


@pytest.mark.parametrize("options, says", [
    (["--pairs-from", "A", "--continue-from", "A"], "do not go together"),
    (["--pairs-from", "A", "--generate-for", "5"], "--generate-for does not apply to --pairs-from"),
    (["--generate-for", "0"], "more than 0 minutes"),
    (["--continue-from", "nowhere"], "not an archive of pairs"),
])
def test_options_that_do_not_apply_are_refused_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], says: str
) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "rmboost.jsonl.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "A" / "west-of-n.jsonl.gz").write_bytes(gzip.compress(b""))
    options = [str(tmp_path / o) if o in ("A", "nowhere") else o for o in options]
    assert run(chunk_config(tmp_path), tmp_path / "out", *options) in (2, 3)
    assert says in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_an_archive_is_not_overwritten_by_a_run_that_lacks_its_pairs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "rmboost.jsonl.gz").write_bytes(gzip.compress(b'{"id": "q1#0", "prompt": "p"}\n'))
    before = digest(archive)
    assert run(chunk_config(tmp_path), tmp_path / "out", "--archive-pairs", str(archive)) == 2
    assert "--continue-from" in capsys.readouterr().err
    assert digest(archive) == before and not (tmp_path / "out").exists()


def test_the_estimate_is_prompts_left_times_the_measured_seconds_per_prompt() -> None:
    p = MethodProgress(prompts_done=30, prompts_total=100)
    p.chunks = [{"prompts": 20, "wall_seconds": 400.0, "calls_sent": 80},
                {"prompts": 10, "wall_seconds": 1.0, "calls_sent": 0},  # answered from a cache: not a rate
                {"prompts": 10, "wall_seconds": 200.0, "under_way": True}]
    assert p.rate() == pytest.approx(20.0) and p.seconds_left() == pytest.approx(70 * 20.0)
    assert method_line("rmboost", p) == "rmboost: 30/100 prompts, 70 left x 20.0 s = 23m"
    other = MethodProgress(prompts_done=0, prompts_total=50)
    assert total_line({"rmboost": p, "rlaif": other}) == "time left: about 23m, plus rlaif (not measured yet)"
    assert total_line({"rlaif": other}) == "time left: not measured yet (rlaif)"
    assert [duration(s) for s in (40, 840, 7500)] == ["40s", "14m", "2h05m"]
    assert MethodProgress(prompts_done=5, prompts_total=5).seconds_left() == 0.0
