"""Garbage at every file argument of every command, through the real CLI (`rmboost.cli.main` in
this process): a missing path, a folder where a file belongs (or a file where a folder belongs), an
empty file, random bytes, broken JSON and YAML, and valid JSON or YAML of the wrong shape, including
a good file with one thing broken. Each must end with a non-zero exit code and one `rmboost: error:`
line that names the file, never a traceback. Every generated file is broken by construction (at
least one bad row, or a document missing or mistyping what the command needs), so exit 0 is wrong,
except for `report`, a viewer that shows what it can read and counts the rest.

RMBOOST_SOAK=1 (`make soak`) runs ten times more examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, write_jsonl
from rmboost.cli import main

SOAK = os.environ.get("RMBOOST_SOAK") == "1"
FUZZ = settings(max_examples=300 if SOAK else 30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
FIXTURES = REPO / "tests" / "fixtures"

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)
# Rows a pair or prompt file reader must refuse: not an object, or an object with the right names
# holding values of the wrong type. One of them is always in the file (see `row_files`).
ROW_FIELDS = ["prompt", "chosen", "rejected", "id", "context", "question", "passages", "prediction 1",
              "feedback"]
bad_rows = st.one_of(
    st.binary(min_size=1, max_size=40).filter(lambda b: b.strip() and not _is_json(b)),
    st.sampled_from([b"{", b"[1, 2", b'{"prompt": }', b"\xff\xfe", b'"\\ud800"', b"[" * 5000 + b"]" * 5000]),
    (st.lists(scalars, max_size=3) | scalars).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"prompt": st.none() | st.integers() | st.just([]) | st.just({}),
                           "chosen": values, "rejected": values, "question": st.integers() | st.none()})
    .map(lambda v: json.dumps(v).encode()),
)
good_rows = st.sampled_from([
    {"id": "g1", "prompt": "Who wrote it?", "chosen": "A person did.", "rejected": "Nobody."},
    {"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello"}],
     "rejected": [{"role": "assistant", "content": "Go"}]},
]).map(lambda v: json.dumps(v).encode())


def _is_json(raw: bytes) -> bool:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and "prompt" in value  # a dict could be a valid row: not garbage


row_files = st.tuples(st.lists(good_rows, max_size=3), bad_rows, st.lists(good_rows | bad_rows, max_size=3)).map(
    lambda t: b"\n".join([*t[0], t[1], *t[2]]) + b"\n")
broken_yaml = st.sampled_from([b"a: [1, 2", b"{unclosed", b"key: value\n  - bad indent", b"\x00\xff", b"@x",
                               b"a: b: c", b"- a\nb: c", b"\t- tab"])


def yaml_of(value: object) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode()


def _kind(value: object) -> str:
    return {bool: "bool", int: "number", float: "number", str: "text", list: "list", dict: "mapping"}.get(
        type(value), "null")


def mutated(valid: dict, required: list[str]) -> st.SearchStrategy[bytes]:
    """A valid document with a required field dropped, or any field set to a value of another kind
    (a list where text belongs, a mapping where a list belongs, null where a number belongs...)."""
    wrong = st.none() | st.booleans() | st.integers() | st.text(max_size=4) | st.lists(st.integers(), min_size=1,
        max_size=2) | st.dictionaries(st.text(max_size=4), scalars, min_size=1, max_size=2)

    def mutate(choice: tuple[str, object]) -> bytes:
        key, value = choice
        doc = dict(valid)
        if value is DROP:
            doc.pop(key)
        else:
            doc[key] = value
        return yaml_of(doc)

    drops = st.tuples(st.sampled_from(required), st.just(DROP)) if required else st.nothing()
    sets = st.sampled_from(sorted(valid)).flatmap(
        lambda key: st.tuples(st.just(key), wrong.filter(lambda v: _kind(v) != _kind(valid[key]))))
    return (drops | sets).map(mutate)


DROP = object()


def yaml_files(valid: dict, required: list[str]) -> st.SearchStrategy[bytes]:
    not_a_mapping = (st.lists(values, max_size=3) | scalars.filter(lambda v: v is not None)).map(yaml_of)
    return st.one_of(broken_yaml, not_a_mapping, mutated(valid, required),
                     st.binary(min_size=1, max_size=60).filter(lambda b: not _yaml_mapping(b)))


def _yaml_mapping(raw: bytes) -> bool:
    try:
        return isinstance(yaml.safe_load(raw), dict)
    except (yaml.YAMLError, ValueError):
        return False


ASPECTS = {"description": "answer the question", "user_template": "{context}\n\nQ: {prompt}",
           "aspects": [{"name": "brevity", "definition": "short"}]}
TEMPLATE = yaml.safe_load((REPO / "src/rmboost/resources/templates/rmboost.yaml").read_text())
PRICES = {"fake": {"in": 1.0, "out": 2.0}}
EXPERIMENT = {"name": "x", "methods": ["rmboost"], "reward_models": ["embed-linear"],
              "generation": {"backend": "fake"}, "train_prompts": 2, "rm_seeds": 1}


def prompts(tmp: Path) -> Path:
    return write_jsonl(tmp / "prompts.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(3)])


def pairs_file(tmp: Path) -> Path:
    return write_jsonl(tmp / "pairs.jsonl", [{"prompt": "Q?", "chosen": "A good answer.", "rejected": "Bad."}])


def fake_rm(tmp: Path) -> Path:
    """A reward-model folder whose `rmboost_rm.json` is sound (its weights are never reached: a bad
    input row is found before the model is loaded)."""
    folder = tmp / "fake-rm"
    folder.mkdir(exist_ok=True)
    (folder / "rmboost_rm.json").write_text(json.dumps({"kind": "embed-linear", "settings": {}}))
    return folder


def generate(tmp: Path, *extra: str) -> list[str]:
    return ["generate", "--output", str(tmp / "out" / "pairs.jsonl"), "--backend", "fake", "--quiet", *extra]


# Each file argument of each command: how to call it with `f`, and what kind of file it takes.
COMMANDS: dict[str, tuple[str, Callable[[Path, Path], list[str]]]] = {
    "generate --input": ("rows", lambda f, tmp: generate(tmp, "--input", str(f))),
    "generate --aspects": ("aspects", lambda f, tmp: generate(tmp, "--input", str(prompts(tmp)), "--aspects", str(f))),
    "generate --template": ("template", lambda f, tmp: generate(tmp, "--input", str(prompts(tmp)),
                                                               "--template", str(f))),
    "generate --prices": ("prices", lambda f, tmp: generate(tmp, "--input", str(prompts(tmp)), "--prices", str(f))),
    "train --data": ("rows", lambda f, tmp: ["train", "--data", str(f), "--output", str(tmp / "rm")]),
    "eval --data": ("rows", lambda f, tmp: ["eval", "--rm", str(tmp / "no-rm"), "--data", str(f)]),
    "stats PAIRS": ("rows", lambda f, tmp: ["stats", str(f), "--no-embeddings"]),
    "data qa-feedback FILE": ("rows", lambda f, tmp: ["data", "qa-feedback", str(f), "--output", str(tmp / "q.jsonl")]),
    "data tldr FILE": ("rows", lambda f, tmp: ["data", "tldr", str(f), "--output", str(tmp / "t.jsonl")]),
    "data ultrafeedback FILE": ("rows", lambda f, tmp: ["data", "ultrafeedback", str(f), "--output",
                                                        str(tmp / "u.jsonl")]),
    "eval --rm": ("rm", lambda f, tmp: ["eval", "--rm", str(f), "--data", str(FIXTURES / "trl_small.jsonl"),
                                        "--on-error", "skip"]),
    "stats --reference-rm": ("rm", lambda f, tmp: ["stats", str(pairs_file(tmp)), "--reference-rm", str(f),
                                                   "--no-embeddings"]),
    "report PATH": ("rows", lambda f, tmp: ["report", str(f), "--output", str(tmp / "r.html")]),
    "score --input": ("rows", lambda f, tmp: ["score", "--rm", str(fake_rm(tmp)), "--input", str(f), "--output",
                                              str(tmp / "s.jsonl")]),
    "score --rm": ("rm", lambda f, tmp: ["score", "--rm", str(f), "--input", str(pairs_file(tmp)), "--output",
                                         str(tmp / "s.jsonl")]),
    "rerank --input": ("rows", lambda f, tmp: ["rerank", "--rm", str(fake_rm(tmp)), "--input", str(f), "--output",
                                               str(tmp / "s.jsonl")]),
    "export PAIRS": ("rows", lambda f, tmp: ["export", str(f), "--to", str(tmp / "ds")]),
    "experiment --config": ("experiment", lambda f, tmp: ["experiment", "--config", str(f), "--output",
                                                          str(tmp / "exp")]),
}
# A reward-model folder: its `rmboost_rm.json` broken, of the wrong shape, or naming what is not there.
rm_meta = st.one_of(
    st.binary(max_size=40).filter(lambda b: not _is_meta(b)),
    (st.lists(scalars, max_size=2) | scalars).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"kind": st.sampled_from(["embed-linear", "minilm", "nonsense"]) | st.integers(),
                           "settings": st.just({}) | values}).map(lambda v: json.dumps(v).encode()),
    st.just(b'{"settings": {}}'),
)


def _is_meta(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


CONTENTS: dict[str, st.SearchStrategy[bytes]] = {
    "rows": row_files,
    # An aspects file over a built-in task may leave fields out (the task's stand in), not mistype them.
    "aspects": yaml_files(ASPECTS, []),
    "template": yaml_files(TEMPLATE, ["rewrite"]),
    "prices": yaml_files(PRICES, ["fake"]),
    "experiment": yaml_files(EXPERIMENT, []),
    "rm": rm_meta,
}
SUFFIX = {"rows": ".jsonl", "aspects": ".yaml", "template": ".yaml", "prices": ".yaml", "experiment": ".yaml",
          "rm": ""}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


# `report` shows what it can of a damaged pairs file and counts the lines it could not read, so it
# may end with 0; it must still never end with a traceback.
TOLERANT = {"report PATH"}


def assert_one_line_naming(path: Path, code: int, err: str, tolerant: bool = False) -> None:
    if tolerant and code == 0:
        assert "Traceback" not in err and "rmboost: error:" not in err, err
        return
    assert code not in (0, 1), err  # 1 would be a bug (a traceback); 0 accepted garbage
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("rmboost: error:")]
    assert len(errors) == 1 and str(path) in errors[0], err


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # No default path (an experiment's data file) may resolve to a real file.
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", ["missing", "folder", "empty"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_unreadable_or_empty_file_is_one_line_naming_it(
        command: str, case: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kind, argv = COMMANDS[command]
    path = in_tmp / f"arg{SUFFIX[kind]}"
    if kind == "rm" and case == "folder":  # the other way round: a file where a folder belongs
        path.write_bytes(b"x")
    elif case == "folder" or (kind == "rm" and case == "empty"):
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    code, err = run_cli(argv(path, in_tmp), capsys)
    assert_one_line_naming(path, code, err, tolerant=command in TOLERANT and case == "empty")
    assert code == 3 or (command in TOLERANT and code == 0), err  # bad input


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_garbage_at_every_file_argument_is_one_line_naming_the_file(
        command: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kind, argv = COMMANDS[command]
    counter = iter(range(10**6))

    @FUZZ
    @given(data=CONTENTS[kind], json_list=st.booleans())
    def check(data: bytes, json_list: bool) -> None:
        n = next(counter)
        suffix = ".json" if kind == "rows" and json_list else SUFFIX[kind]
        if suffix == ".json":  # the whole file one JSON list, as QA-Feedback ships
            data = b"[" + b", ".join(line for line in data.split(b"\n") if line.strip()) + b"]"
        path = in_tmp / f"arg{n}{suffix}"
        if kind == "rm":  # a folder whose `rmboost_rm.json` is the garbage
            path.mkdir()
            (path / "rmboost_rm.json").write_bytes(data)
        else:
            path.write_bytes(data)
        run = in_tmp / f"run{n}"
        run.mkdir()
        code, err = run_cli(argv(path, run), capsys)
        assert_one_line_naming(path, code, err, tolerant=command in TOLERANT)

    check()
