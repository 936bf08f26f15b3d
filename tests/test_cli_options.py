"""Options that would be ignored are errors, through the real CLI: each exits 2 with one line naming
the option and why, before anything is read, started or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_jsonl
from rmboost.cli import main

REFUSED = [
    (["--base-url", "http://127.0.0.1:9/v1"], "--base-url does not apply to --backend fake"),
    (["--backend", "llamacpp", "--base-url", "http://127.0.0.1:9/v1"],
     "--base-url does not apply to --backend llamacpp"),
    (["--backend-arg", "colour=blue"], "backend 'fake' takes no option colour"),
    (["--backend-arg", "colour"], "--backend-arg 'colour': expected KEY=VALUE"),
    (["--method", "rlaif", "--verify"], "--verify applies to --method rmboost only"),
    (["--method", "rlaif", "--length-control"], "--length-control applies to --method rmboost only"),
    (["--method", "west-of-n", "--aspects-per-pair", "2"], "--aspects-per-pair applies to --method rmboost only"),
    (["--method", "rmboost", "--n", "8"], "--n applies to --method west-of-n only"),
    (["--method", "rlcd", "--scorer", "rm/"], "--scorer applies to --method west-of-n only"),
    (["--method", "rlcd", "--judge-decision", "first"], "--judge-decision applies to --method rlaif or rmboost only"),
    (["--method", "rmboost", "--keep-disagreements"], "--keep-disagreements applies to --method rlaif only"),
    (["--method", "rmboost", "--judge-decision", "average"], "--judge-decision applies to --method rmboost only "
                                                               "with --verify"),
    (["--method", "rlaif", "--keep-disagreements", "--judge-decision", "average"],
     "--keep-disagreements is --judge-decision first"),
    (["--workers", "2"], "--workers applies to --engine ray only"),
    (["--shard-size", "10"], "--shard-size applies to --engine ray only"),
    (["--ray-address", "auto"], "--ray-address applies to --engine ray only"),
    (["--prices", "p.yaml", "--price-in", "1"], "give either --prices FILE or --price-in/--price-out"),
    (["--price-in", "-1"], "--price-in: must be a price"),
]


@pytest.mark.parametrize("extra,message", REFUSED, ids=[" ".join(r[0]) for r in REFUSED])
def test_an_option_that_does_not_apply_is_refused_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "question?"}])
    out = tmp_path / "out" / "pairs.jsonl"
    code = main(["generate", "--input", str(inp), "--output", str(out), "--backend", "fake", "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("rmboost: error:") == 1 and message in err, err
    assert not out.parent.exists()  # refused before anything was written


def test_the_same_options_with_the_method_they_belong_to_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(2)])
    for i, extra in enumerate((["--method", "rmboost", "--verify", "--judge-decision", "first", "--length-control"],
                               ["--method", "west-of-n", "--n", "3"],
                               ["--method", "rlaif", "--keep-disagreements"])):
        code = main(["generate", "--input", str(inp), "--output", str(tmp_path / f"o{i}.jsonl"), "--backend", "fake",
                     "--quiet", *extra])
        assert code == 0, capsys.readouterr().err
