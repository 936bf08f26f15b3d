"""Findings 5, 6, 9, 10 and 12 of issue 33: what the tools record and say is true. A no-op resume
keeps the summary of the run that made the pairs, and the card adds up the rows' own `usage` and
keeps `--limit`; an export never replaces another pair file's dataset without --replace; human
pairs are not tagged synthetic; the README's combined `agree --human --corrections` works on RLAIF
and RMBoost pairs; scoring counts a lazily loaded encoder as loading and training says it is still
working; `m.score("q", "r")` works; `report` says on stderr which rows it left out. Oracles: the
rows' own columns summed here, the files' bytes, hand-made rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import QA_FEEDBACK, read_jsonl, write_jsonl
from rmboost.cli import main
from rmboost.errors import UsageError
from rmboost.records import Pair, Prompt
from rmboost.rm import base
from rmboost.rm.base import RewardModel
from rmboost.rm.score_file import score_file


def generated(tmp_path: Path) -> tuple[Path, list[str]]:
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"id": f"q{i}", "prompt": f"Tell me about topic {i}."}
                                                       for i in range(8)])
    out = tmp_path / "pairs.jsonl"
    argv = ["generate", "--backend", "fake", "--task", "chat", "--input", str(prompts), "--output", str(out),
            "--limit", "5", "-q"]
    assert main(argv) == 0
    return out, argv


def card_of(folder: Path) -> tuple[dict[str, Any], str]:
    _, header, body = (folder / "README.md").read_text().split("---\n", 2)
    return yaml.safe_load(header), body


def test_a_no_op_resume_keeps_the_summary_and_the_card_adds_up_the_rows(tmp_path: Path) -> None:
    pairs, argv = generated(tmp_path)
    summary = tmp_path / "pairs.summary.json"
    made = summary.read_bytes()
    assert main(argv) == 0  # every prompt done: a run that does nothing
    assert summary.read_bytes() == made
    assert main(["export", str(pairs), "--to", str(tmp_path / "ds"), "-q"]) == 0
    header, body = card_of(tmp_path / "ds")
    rows = read_jsonl(pairs)
    calls = sum(r["usage"]["calls"] for r in rows)
    tokens = (sum(r["usage"]["prompt_tokens"] for r in rows), sum(r["usage"]["completion_tokens"] for r in rows))
    assert calls > 0
    assert f"adds up to {calls} LLM calls" in body and f"{tokens[0]} prompt and {tokens[1]} completion" in body
    assert "| LLM calls sent | 0 |" not in body
    assert "--limit 5" in body and "synthetic" in header["tags"]


def test_an_export_never_replaces_another_pair_files_dataset(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    pairs, _ = generated(tmp_path)
    other = write_jsonl(tmp_path / "other.jsonl", [{"prompt": "Q?", "chosen": "yes it is", "rejected": "no"}])
    folder = tmp_path / "ds"
    assert main(["export", str(pairs), "--to", str(folder), "-q"]) == 0
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["export", str(other), "--to", str(folder), "-q"]) == 2
    assert "--replace" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert main(["export", str(pairs), "--to", str(folder), "-q"]) == 0  # the same file again: its own export
    assert main(["export", str(other), "--to", str(folder), "--replace", "-q"]) == 0
    import datasets

    assert datasets.load_from_disk(str(folder))["train"]["prompt"] == ["Q?"]


def test_human_pairs_are_not_tagged_synthetic(tmp_path: Path) -> None:
    human = tmp_path / "human.jsonl"
    assert main(["data", "qa-feedback", str(QA_FEEDBACK), "--split", "test", "--as", "pairs", "--output", str(human),
                 "-q"]) == 0
    assert main(["export", str(human), "--to", str(tmp_path / "ds"), "-q"]) == 0
    header, body = card_of(tmp_path / "ds")
    assert "synthetic" not in header["tags"] and "human-feedback" in header["tags"]
    assert "labelled by people" in body


@pytest.fixture(scope="module")
def readme_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The README's flow: prompts with the humans' responses, the corrections, RLAIF and RMBoost pairs."""
    d = tmp_path_factory.mktemp("agree")
    files = {"p": d / "p.jsonl", "p1": d / "p1.jsonl", "c": d / "c.jsonl", "rlaif": d / "rlaif.jsonl",
             "rmboost": d / "rmboost.jsonl"}
    data = ["data", "qa-feedback", str(QA_FEEDBACK), "--split", "test", "-q"]
    assert main([*data, "--as", "prompts", "--with-responses", "all", "--output", str(files["p"])]) == 0
    assert main([*data, "--as", "prompts", "--with-response", "1", "--output", str(files["p1"])]) == 0
    assert main([*data, "--as", "corrections", "--output", str(files["c"])]) == 0
    for method, inp in (("rlaif", "p"), ("rmboost", "p1")):
        assert main(["generate", "--backend", "fake", "--method", method, "--input", str(files[inp]), "--output",
                     str(files[method]), "--limit", "12", "-q"]) == 0
    return files


@pytest.mark.parametrize("method, measured, unmeasured", [("rlaif", "the file's labels", "c.jsonl"),
                                                          ("rmboost", "direction matches label", "p.jsonl")])
def test_the_readmes_combined_agree_works_for_each_method(readme_files: dict[str, Path], method: str, measured: str,
                                                          unmeasured: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["agree", str(readme_files[method]), "--human", str(readme_files["p"]), "--corrections",
                 str(readme_files["c"])]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith(measured))
    assert "n/a" not in line  # the measure that fits the method's pairs has a number
    assert f"not measured: no pair of {readme_files[method]} is about one in {readme_files[unmeasured.split('.')[0]]}" \
        in out
    assert "prompts failed" not in out
    # Each flag alone still refuses a file that none of its pairs is about.
    alone = ["--corrections", str(readme_files["c"])] if method == "rlaif" else ["--human", str(readme_files["p"])]
    assert main(["agree", str(readme_files[method]), *alone]) == 3


class SlowStartRM(RewardModel):
    """reward = len(response); its first `score` call takes `load` seconds, as a lazily loaded encoder does."""

    kind = "test-slow-start"
    load = 0.4

    def __init__(self) -> None:
        self.curve = []
        self.loaded = False

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        assert isinstance(prompts, list) and isinstance(responses, list) and len(prompts) == len(responses)
        if not self.loaded:
            time.sleep(self.load)
            self.loaded = True
        return [float(len(r)) + (0.5 if isinstance(p, str) and "!" in p else 0.0) for p, r in zip(prompts, responses,
                                                                                                  strict=True)]

    @classmethod
    def train(cls, pairs: Sequence[Pair], kind: str, seed: int = 0, validation: Sequence[Pair] = (),
              on_progress: Any = None, **overrides: Any) -> RewardModel:
        time.sleep(0.5)  # silent: no step is reported
        return cls()

    def settings(self) -> dict[str, Any]:
        return {}

    def save_weights(self, directory: Path) -> None:
        (directory / "w.txt").write_text("0")

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> RewardModel:
        return cls()


@pytest.fixture
def slow_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base.KINDS, "test-slow-start", f"{__name__}:SlowStartRM")


def test_scoring_counts_a_lazy_encoder_as_loading(tmp_path: Path, slow_kind: None) -> None:
    rm = SlowStartRM().save(tmp_path / "rm")
    src = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Q", "chosen": "long answer", "rejected": "no"}] * 3)
    summary = score_file(rm, src, tmp_path / "o.jsonl")
    assert summary.load_seconds >= SlowStartRM.load
    assert summary.seconds - summary.load_seconds < SlowStartRM.load  # the rows' rate is not the encoder's load


def test_training_says_it_is_still_working(tmp_path: Path, slow_kind: None, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from rmboost.cli import train as train_cli

    monkeypatch.setattr(train_cli.Heartbeat, "every", 0.1)
    src = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Q", "chosen": "long answer", "rejected": "no"}] * 4)
    assert main(["train", "--data", str(src), "--rm", "test-slow-start", "--output", str(tmp_path / "rm")]) == 0
    err = capsys.readouterr().err
    assert "read 4 pairs in" in err and "so far, still working" in err and "trained test-slow-start" in err
    assert main(["train", "--data", str(src), "--rm", "test-slow-start", "--output", str(tmp_path / "rm2"), "-q"]) == 0
    assert "still working" not in capsys.readouterr().err


def test_the_python_api_scores_one_string_or_a_list(tmp_path: Path, slow_kind: None) -> None:
    m = RewardModel.load(SlowStartRM().save(tmp_path / "rm"))
    assert m.score("q!", "four") == [4.5]
    assert m.score("q", ["a", "abc"]) == [1.0, 3.0]
    conversation = [{"role": "user", "content": "hi!"}]
    assert m.score(conversation, "ab") == [2.0]
    assert m.score(["q", "q!"], ["ab", "ab"]) == [2.0, 2.5]
    with pytest.raises(UsageError, match="one prompt per response"):
        m.score(["a", "b", "c"], ["x", "y"])


def test_report_says_on_stderr_which_rows_it_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"id": str(i), "prompt": f"Q{i}?", "chosen": "a fine answer", "rejected": "no"} for i in range(4)]
    del rows[2]["rejected"]
    src = write_jsonl(tmp_path / "pairs.jsonl", rows)
    assert main(["report", str(src), "--output", str(tmp_path / "r.html")]) == 0
    err = capsys.readouterr().err
    assert "1 rows are no pair and are left out" in err and f"{src}:3: field 'rejected' is missing" in err
