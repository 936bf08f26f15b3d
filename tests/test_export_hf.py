"""`rmboost export PAIRS --to DIR` on pairs made by `rmboost generate` (fake backend, with prices and
one bad prompt row): `datasets.load_from_disk` reads the rows back as they are in the file, and
the card's YAML header and figures match the run's own files (summary, settings, failures), read
here independently. `--push-to-hub` goes through `datasets`' `DatasetDict.push_to_hub` and
`huggingface_hub.DatasetCard.push_to_hub`, both replaced by recorders: no network."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import read_jsonl, write_jsonl
from rmboost.cli import main


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    rows = [{"id": f"q{i}", "prompt": f"Tell me about topic {i}."} for i in range(6)]
    rows.insert(3, {"id": "bad"})  # no prompt: a failure at stage `input`
    prompts = write_jsonl(tmp_path / "prompts.jsonl", rows)
    out = tmp_path / "pairs.jsonl"
    assert main(["generate", "--backend", "fake", "--task", "chat", "--input", str(prompts), "--output", str(out),
                 "--on-error", "skip", "--price-in", "3", "--price-out", "15", "--seed", "7", "-q"]) == 0
    return out


def card_parts(card: str) -> tuple[dict[str, Any], str]:
    _, header, body = card.split("---\n", 2)
    return yaml.safe_load(header), body


def table_value(body: str, name: str) -> str:
    match = re.search(rf"^\| {re.escape(name)} \| (.+) \|$", body, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_export_reads_back_and_the_card_matches_the_run(pairs_file: Path, tmp_path: Path) -> None:
    import datasets

    assert main(["export", str(pairs_file), "--to", str(tmp_path / "ds"), "--license", "cc-by-4.0"]) == 0
    rows = read_jsonl(pairs_file)
    train = datasets.load_from_disk(str(tmp_path / "ds"))["train"]
    assert train.num_rows == len(rows) == 6
    for got, want in zip(train, rows, strict=True):
        assert (got["prompt"], got["chosen"], got["rejected"], got["id"]) == (want["prompt"], want["chosen"],
                                                                              want["rejected"], want["id"])
        assert json.loads(got["usage"]) == want["usage"] and got["aspects"] == want["aspects"]

    meta, body = card_parts((tmp_path / "ds" / "README.md").read_text())
    assert meta["license"] == "cc-by-4.0" and meta["size_categories"] == ["n<1K"]
    assert meta["task_categories"] == ["text-generation"]
    assert meta["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
    summary = json.loads(pairs_file.with_suffix(".summary.json").read_text())
    settings = json.loads(pairs_file.with_suffix(".settings.json").read_text())
    for name, key in [("LLM calls sent", "calls_sent"), ("answered from the cache", "cache_hits"),
                      ("prompt tokens", "prompt_tokens"), ("completion tokens", "completion_tokens"),
                      ("billed prompt tokens", "billed_prompt_tokens"),
                      ("billed completion tokens", "billed_completion_tokens")]:
        assert int(table_value(body, name)) == summary[key], name
    assert float(table_value(body, "cost").lstrip("$")) == pytest.approx(summary["cost_usd"], rel=1e-5)
    assert table_value(body, "settings fingerprint").startswith(f"`{settings['hash']}`")
    assert (table_value(body, "method"), table_value(body, "backend")) == ("`rmboost`", "`fake`")
    assert table_value(body, "model") == f"`{settings['settings']['served_model']}`"
    failures = Counter(f"{f['stage']}: {f['reason']}" for f in read_jsonl(pairs_file.with_suffix(".failures.jsonl")))
    assert failures and all(int(table_value(body, reason)) == n for reason, n in failures.items())
    assert f"6 pairs from {summary['prompts_total']} valid prompts (yield 100.0%)" in body
    labels = Counter(r["label"] for r in rows)
    assert f"Labels: BETTER {labels['BETTER']}, WORSE {labels['WORSE']}." in body
    drawn = Counter(a for r in rows for a in r["aspects"])
    assert all(f"{a} ({n})" in table_value(body, "aspects") for a, n in drawn.items())
    assert (f"rmboost generate --input {tmp_path}/prompts.jsonl --output {pairs_file} --backend fake --task chat "
            "--seed 7") in body


def test_push_to_hub_goes_through_datasets_and_sends_the_card(pairs_file: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    import huggingface_hub

    calls: list[tuple[str, Any, dict[str, Any]]] = []
    monkeypatch.setattr(datasets.DatasetDict, "push_to_hub",
                        lambda self, repo_id, **kw: calls.append(("data", (repo_id, dict(self)), kw)))
    monkeypatch.setattr(huggingface_hub.DatasetCard, "push_to_hub",
                        lambda self, repo_id, **kw: calls.append(("card", (repo_id, str(self)), kw)))
    assert main(["export", str(pairs_file), "--to", str(tmp_path / "ds"), "--push-to-hub", "someone/pairs",
                 "--private"]) == 0
    (kind1, (repo1, splits), kw1), (kind2, (repo2, card), _) = calls
    assert (kind1, repo1, kw1["private"], list(splits), splits["train"].num_rows) == ("data", "someone/pairs", True,
                                                                                      ["train"], 6)
    assert (kind2, repo2) == ("card", "someone/pairs")
    assert card_parts(card) == card_parts((tmp_path / "ds" / "README.md").read_text())
    assert 'load_dataset("someone/pairs", split="train")' in card


def test_export_refuses_a_folder_that_is_not_an_export(pairs_file: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["export", str(pairs_file), "--to", str(tmp_path / "mine")]) == 2
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert main(["export", str(tmp_path / "none.jsonl"), "--to", str(tmp_path / "ds")]) == 3
    assert main(["export", str(pairs_file), "--to", str(tmp_path / "ds"), "--private"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("rmboost: error: --to")
    assert err[1] == f"rmboost: error: {tmp_path}/none.jsonl: no such file"
    assert err[2] == "rmboost: error: --private applies to --push-to-hub only"


def test_a_scored_file_states_its_reward_model_and_its_input_run(pairs_file: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from rmboost.rm import base
    from test_rm_scoring import LengthRM

    monkeypatch.setitem(base.KINDS, "test-length", "test_rm_scoring:LengthRM")
    rm = LengthRM(1.0).save(tmp_path / "rm")
    scored = tmp_path / "scored.jsonl"
    assert main(["score", "--rm", str(rm), "--input", str(pairs_file), "--output", str(scored), "--min-margin", "0",
                 "-q"]) == 0
    assert main(["export", str(scored), "--to", str(tmp_path / "ds")]) == 0
    _, body = card_parts((tmp_path / "ds" / "README.md").read_text())
    fingerprint = read_jsonl(scored)[0]["rm_fingerprint"]
    assert (f"Scored by `rmboost score` with the reward model `{rm}` (fingerprint `{fingerprint}`" in body
            and "a margin below 0 were left out" in body)
    settings = json.loads(pairs_file.with_suffix(".settings.json").read_text())
    assert table_value(body, "settings fingerprint").startswith(f"`{settings['hash']}`")  # the generation run's
    assert f"{len(read_jsonl(scored))} pairs from" in body
