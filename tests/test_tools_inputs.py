"""Findings 2, 3 and 8 of issue 33: the tools read what a file says it is. `generate` lays prompts out
by the rows' own `task` (an explicit --task that disagrees is a usage error); every reader checks
that a file holds the kind of rows it reads and names what it holds instead; UltraFeedback's older
list-form annotations and a pretty-printed single-object `.json` are read. The oracles are the
task files themselves (read here with yaml) and hand-written rows."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from conftest import read_jsonl, write_jsonl
from rmboost.cli import main
from rmboost.data.ultrafeedback import load_ultrafeedback
from rmboost.errors import UsageError
from rmboost.generation.config import GenerateConfig
from rmboost.io.rows import iter_rows

FIXTURES = Path(__file__).parent / "fixtures"
POST = "SUBREDDIT: r/cats\nTITLE: Lost cat\nPOST: My cat ran away on Monday and came back on Friday, hungry."


def task_yaml(name: str) -> dict:
    return yaml.safe_load(resources.files("rmboost.resources").joinpath(f"tasks/{name}.yaml").read_text())


def summarization_rows(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "prompts.jsonl", [
        {"id": f"p{i}", "prompt": "Write its TL;DR.", "context": POST + f" ({i})", "task": "summarization"}
        for i in range(3)])


def test_generate_without_task_uses_the_rows_task(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    assert main(["generate", "--backend", "fake", "--input", str(summarization_rows(tmp_path)), "--output", str(out),
                 "-q"]) == 0
    spec = task_yaml("summarization")
    head = spec["user_template"].split("{prompt}")[0].strip()  # "Summarise the text below."
    aspects = {a["name"] for a in spec["aspects"]}
    rows = read_jsonl(out)
    assert len(rows) == 3
    for row in rows:
        assert row["task"] == "summarization"
        assert row["prompt"].startswith(head) and "Answer the question" not in row["prompt"]
        assert set(row["aspects"]) <= aspects and row["aspects"]


@pytest.mark.parametrize("rows, args, message", [
    ([{"prompt": "Q", "context": "C", "task": "summarization"}], ["--task", "qa"], "the rows' task is 'summarization'"),
    ([{"prompt": "Q", "task": "qa"}, {"prompt": "R", "task": "chat"}], [], "rows name two tasks"),
])
def test_a_task_that_disagrees_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                rows: list, args: list[str], message: str) -> None:
    inp, out = write_jsonl(tmp_path / "p.jsonl", rows), tmp_path / "pairs.jsonl"
    assert main(["generate", "--backend", "fake", "--input", str(inp), "--output", str(out), "-q", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl"]  # nothing made


def test_the_python_api_refuses_rows_of_another_task(tmp_path: Path) -> None:
    from rmboost import generate

    config = GenerateConfig(input=str(summarization_rows(tmp_path)), output=str(tmp_path / "o.jsonl"), backend="fake",
                            progress=False)
    with pytest.raises(UsageError, match="task='summarization'"):
        generate(config)
    config.task = "summarization"
    assert generate(config).pairs == 3


def test_rows_without_a_task_keep_the_default(tmp_path: Path) -> None:
    inp = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Who wrote it?", "context": "Ann wrote it."}])
    out = tmp_path / "pairs.jsonl"
    assert main(["generate", "--backend", "fake", "--input", str(inp), "--output", str(out), "-q"]) == 0
    row = read_jsonl(out)[0]
    assert row["task"] == "qa" and row["prompt"].startswith(task_yaml("qa")["user_template"].split("\n")[0])


# Files of each kind, as the tools and the data sets make them.
def kinds(tmp_path: Path) -> dict[str, Path]:
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "Q?", "chosen": "good answer", "rejected": "bad"}])
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": "Q?", "context": "C", "task": "qa"}])
    return {"pairs": pairs, "prompts": prompts, "qa-feedback": FIXTURES / "qa_feedback_small.json",
            "tldr": FIXTURES / "tldr_comparisons.jsonl", "ultrafeedback": FIXTURES / "ultrafeedback_raw.jsonl"}


SWAPS = [  # (command before the file, the option that takes it, a file of the wrong kind, what the error says it is)
    (["generate", "--backend", "fake", "--output", "{out}"], "--input", "pairs", "preference pairs"),
    (["generate", "--backend", "fake", "--output", "{out}"], "--input", "qa-feedback", "QA-Feedback questions"),
    (["data", "ultrafeedback", "--output", "{out}"], "", "pairs", "preference pairs"),
    (["data", "ultrafeedback", "--output", "{out}"], "", "tldr", "TL;DR comparisons"),
    (["train", "--rm", "features", "--output", "{out}"], "--data", "prompts", "prompt records"),
    (["train", "--rm", "features", "--output", "{out}"], "--data", "tldr", "TL;DR comparisons"),
    (["train", "--rm", "features", "--format", "qa-feedback", "--output", "{out}"], "--data", "pairs",
     "preference pairs"),
    (["eval", "--rm", "{rm}"], "--data", "ultrafeedback", "raw UltraFeedback rows"),
    (["score", "--rm", "{rm}", "--output", "{out}"], "--input", "qa-feedback", "QA-Feedback questions"),
    (["rerank", "--rm", "{rm}", "--output", "{out}"], "--input", "pairs", "preference pairs"),
    (["export", "--to", "{out}"], "", "prompts", "prompt records"),
    (["agree", "--human", "{pairs}"], "", "prompts", "prompt records"),
    (["report", "--output", "{out}"], "", "qa-feedback", "QA-Feedback questions"),
]


@pytest.mark.parametrize("command, flag, kind, said", SWAPS, ids=[f"{c[0]}-{k}" for c, _, k, _ in SWAPS])
def test_every_reader_names_what_a_swapped_file_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      command: list[str], flag: str, kind: str, said: str) -> None:
    files = kinds(tmp_path)
    rm = tmp_path / "rm"
    assert main(["train", "--data", str(files["pairs"]), "--rm", "features", "--output", str(rm), "-q"]) == 0
    out = tmp_path / "out" / "made.jsonl"
    args = [a.format(out=out, rm=rm, pairs=files["pairs"]) for a in command]
    args += [flag, str(files[kind])] if flag else [str(files[kind])]
    capsys.readouterr()
    assert main(args) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(files[kind]) in err and f"this file holds {said}" in err, err
    assert not out.parent.exists()


def test_ultrafeedback_list_form_annotations_read_as_the_object_form(tmp_path: Path) -> None:
    ratings = {"a": ("5", "4", "5", "4"), "b": ("2", "2", "3", "1"), "c": ("3", "3", "3", "3")}
    aspects = ("helpfulness", "honesty", "instruction_following", "truthfulness")

    def completion(name: str, form: str) -> dict:
        rated = {a: {"Rating": r, "Rationale": "."} for a, r in zip(aspects, ratings[name], strict=True)}
        annotations: object = rated
        if form == "list":
            annotations = [{a: v} for a, v in rated.items()]
        elif form == "named":
            annotations = [{"aspect": a, **v} for a, v in rated.items()]
        return {"model": f"m-{name}", "response": f"response {name}", "annotations": annotations}

    for form in ("list", "named"):
        row = {"source": "s", "instruction": "Do it.", "models": ["m-a", "m-b", "m-c"],
               "completions": [completion(n, form) for n in ratings]}
        pairs = load_ultrafeedback(write_jsonl(tmp_path / f"{form}.jsonl", [row]))
        # Means 4.5, 2.0, 3.0: a over b, whatever the form.
        assert [(p.chosen, p.rejected, p.extra["score_chosen"], p.extra["score_rejected"]) for p in pairs] == [
            ("response a", "response b", 4.5, 2.0)], form


def test_a_pretty_printed_single_object_json_is_one_row(tmp_path: Path) -> None:
    row = {"prompt": "Q?", "chosen": "a good and long answer", "rejected": "no", "id": "x"}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(row, indent=2))
    assert [r for _, r in iter_rows(path)] == [row]
    # JSON lines under a .json name stay rows, and a broken first line is still that line's error.
    lines = tmp_path / "lines.json"
    lines.write_text(json.dumps(row) + "\n" + json.dumps({**row, "id": "y"}) + "\n")
    assert [r["id"] for _, r in iter_rows(lines)] == ["x", "y"]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json\n" + json.dumps(row) + "\n")
    got = list(iter_rows(broken))
    assert got[0][0] == 1 and "not valid JSON" in str(got[0][1]) and got[1] == (2, row)


def test_train_on_binarized_ultrafeedback_leaves_out_ties_as_data_ultrafeedback_does(tmp_path: Path) -> None:
    """Finding 8: the fixture's second row scores 7.0 against 7.0 (no preference); `train --data`
    trained on it. Now both readers keep the same four pairs."""
    from rmboost.data.formats import load_pairs

    fixture = Path(__file__).parent / "fixtures" / "ultrafeedback_binarized.jsonl"
    ties = [r for _, r in iter_rows(fixture) if r["score_chosen"] == r["score_rejected"]]
    assert len(ties) == 1  # the oracle: a hand look at the fixture
    kept = load_pairs(fixture, "trl")
    assert len(kept) == 5 - 1 - 1  # five rows, one tie, one whose turns diverge (the loader's rule)
    assert [p.chosen for p in kept] == [p.chosen for p in load_ultrafeedback(fixture)]
    assert all("capital of Australia" not in p.prompt for p in kept)


@pytest.mark.parametrize("command, swapped, holds", [
    ("tldr", "ultrafeedback_binarized.jsonl", "binarized UltraFeedback pairs"),
    ("qa-feedback", "tldr_comparisons.jsonl", "TL;DR comparisons"),
])
def test_the_data_loaders_name_what_a_swapped_file_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         command: str, swapped: str, holds: str) -> None:
    """Finding 3 for `rmboost data`: another data set's file is named as what it is (exit 3, one line),
    not reported as a missing field."""
    fixture = Path(__file__).parent / "fixtures" / swapped
    assert main(["data", command, str(fixture), "--output", str(tmp_path / "o.jsonl")]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"this file holds {holds}" in err, err
    assert not (tmp_path / "o.jsonl").exists()
