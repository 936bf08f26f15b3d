"""Issue 24, findings 3 to 6, each as a regression test through the real CLI or the function a user
meets: a model folder that is no model (one line, exit 3, never a traceback), one rule for a pair
row in every reader (`report` included; a missing field says "missing", with file, line and
field), no per-pair figure for a set without pairs, and the small things a user reads (the error
for a missing folder, a default said once in `--help`, chart labels that are neither cut nor
wider than a laptop, the jargon of a chart explained in its caption).

Oracles: the files written here by hand and the counts worked out from them, argparse's own help
text, the SVG parsed as XML, and matplotlib's own text extents and the PNG's pixel size."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import REPO, write_jsonl
from rmboost.cli import main

FIXTURES = REPO / "tests" / "fixtures"
SVG = "{http://www.w3.org/2000/svg}"
LAPTOP_PX = 1280  # a laptop screen's width in pixels; a figure must fit it at its natural size


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("rmboost: error:")]
    assert len(lines) == 1, err
    return lines[0]


def pairs(tmp: Path, rows: list[dict] | None = None, name: str = "pairs.jsonl") -> Path:
    rows = rows if rows is not None else [
        {"prompt": f"Question {i}?", "chosen": f"A full answer number {i}.", "rejected": "No."} for i in range(6)]
    return write_jsonl(tmp / name, rows)


# --- finding 3: every path that loads a model turns a wrong folder into one line, exit 3 ---------

def _not_a_model(tmp: Path, case: str) -> Path:
    folder = tmp / "model"
    if case == "a file":
        folder.write_text("not a folder")
    elif case != "missing":
        folder.mkdir()
    if case == "a pairs folder":
        pairs(folder)
    elif case == "config.json not JSON":
        (folder / "config.json").write_text("{oops")
    elif case == "config without a model type":
        (folder / "config.json").write_text('{"hidden_size": 8}')
    elif case == "no tokenizer":
        (folder / "config.json").write_text('{"model_type": "llama"}')
        (folder / "model.safetensors").write_bytes(b"\0" * 16)
    elif case == "no weights":
        (folder / "config.json").write_text('{"model_type": "llama"}')
        (folder / "tokenizer.json").write_text("{}")
    return folder


FOLDERS = ["missing", "a file", "empty", "a pairs folder", "config.json not JSON", "config without a model type",
           "no tokenizer", "no weights"]


@pytest.mark.parametrize("case", FOLDERS)
def test_train_hf_path_that_is_no_checkpoint_is_one_line_before_anything_runs(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _not_a_model(tmp_path, case)
    out = tmp_path / "rm"
    code, err = run_cli(["train", "--data", str(pairs(tmp_path)), "--rm", f"hf:{folder}", "--output", str(out),
                         "--quiet"], capsys)
    line = one_error_line(err)
    assert code == 3 and str(folder) in line, err
    assert not out.exists()
    if case == "missing":
        assert "no such folder" in line


def test_train_hf_path_is_checked_before_the_data_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _not_a_model(tmp_path, "a pairs folder")
    code, err = run_cli(["train", "--data", str(tmp_path / "no-such.jsonl"), "--rm", f"hf:{folder}",
                         "--output", str(tmp_path / "rm")], capsys)
    assert code == 3 and str(folder) in one_error_line(err) and "no-such.jsonl" not in err


def test_an_hf_checkpoint_with_broken_weights_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rmboost.testing.tiny_llama import write_tiny_llama

    folder = write_tiny_llama(tmp_path / "tiny", max_positions=64)
    (folder / "model.safetensors").write_bytes(b"these are not weights")
    code, err = run_cli(["train", "--data", str(pairs(tmp_path)), "--rm", f"hf:{folder}", "--output",
                         str(tmp_path / "rm"), "--quiet"], capsys)
    assert code == 3 and str(folder) in one_error_line(err)


def _saved(tmp: Path, kind: str, settings: dict, files: dict[str, bytes]) -> Path:
    folder = tmp / "saved"
    folder.mkdir()
    (folder / "rmboost_rm.json").write_text(json.dumps({"kind": kind, "settings": settings}))
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


SAVED = {
    # A saved hf model (not LoRA) whose `model/` holds pairs, not a checkpoint.
    "hf model folder holds pairs": ("hf:/gone", {"source": "hf:/gone", "lora": False},
                                    {"model/pairs.jsonl": b'{"prompt": "q", "chosen": "a", "rejected": "b"}\n'}),
    "embed-linear head is garbage": ("embed-linear", {}, {"head.safetensors": b"garbage"}),
    "embed-linear head is missing": ("embed-linear", {}, {}),
}


@pytest.mark.parametrize("case", sorted(SAVED))
@pytest.mark.parametrize("command", ["eval --rm", "stats --reference-rm", "generate --scorer"])
def test_a_saved_model_folder_that_does_not_load_is_one_line(
        case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _saved(tmp_path, *SAVED[case])
    argv = _model_argv(command, folder, tmp_path)
    code, err = run_cli(argv, capsys)
    assert code == 3 and str(folder) in one_error_line(err)


def _model_argv(command: str, folder: Path, tmp: Path) -> list[str]:
    data = pairs(tmp)
    if command == "eval --rm":
        return ["eval", "--rm", str(folder), "--data", str(data)]
    if command == "stats --reference-rm":
        return ["stats", str(data), "--reference-rm", str(folder), "--no-embeddings"]
    prompts = write_jsonl(tmp / "prompts.jsonl", [{"id": "q0", "prompt": "Question?"}])
    return ["generate", "--input", str(prompts), "--output", str(tmp / "out.jsonl"), "--backend", "fake",
            "--method", "west-of-n", "--scorer", str(folder), "--quiet"]


# --- finding 6 (first part): a missing folder is called missing, at every --rm and --scorer --------

@pytest.mark.parametrize("command", ["eval --rm", "stats --reference-rm", "generate --scorer"])
def test_a_missing_model_folder_says_no_such_folder(command: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "NOPE"
    code, err = run_cli(_model_argv(command, folder, tmp_path), capsys)
    line = one_error_line(err)
    assert code == 3 and f"{folder}: no such folder" in line and "rmboost_rm.json" not in line


def test_a_file_where_a_model_folder_belongs_says_not_a_folder(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "model.bin"
    folder.write_text("x")
    code, err = run_cli(_model_argv("eval --rm", folder, tmp_path), capsys)
    assert code == 3 and f"{folder}: not a folder" in one_error_line(err)


# --- finding 4: one rule for a pair row, in every reader ---------------------------------------

@pytest.mark.parametrize("row, field", [
    ({"prompt": "Q?", "chosen": "A."}, "rejected"),
    ({"prompt": "Q?", "rejected": "B."}, "chosen"),
    ({"prompt": "Q?", "chosen": "A.", "rejected": None}, "rejected"),  # how Parquet stores a missing value
    ({"prompt": [{"role": "user", "content": "Q?"}], "chosen": [{"role": "assistant", "content": "A."}]},
     "rejected"),
    ({"chosen": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]}, "rejected"),
])
def test_a_missing_field_is_called_missing_with_file_line_and_field(row: dict, field: str) -> None:
    from rmboost.data.trl_pairs import parse_row
    from rmboost.errors import InputError

    with pytest.raises(InputError) as e:
        parse_row(row, "f.jsonl", 7)
    assert (e.value.source, e.value.line, e.value.field) == ("f.jsonl", 7, field)
    assert str(e.value) == f"f.jsonl:7: field '{field}' is missing"


@pytest.mark.parametrize("fmt, row", [
    ("trl", {"prompt": "Q?", "chosen": "A."}),
    ("hh", {"chosen": "\n\nHuman: Q?\n\nAssistant: A."}),
    ("rewardbench", {"prompt": "Q?", "chosen": "A.", "subset": "chat"}),
])
def test_every_pair_format_says_missing_the_same_way(fmt: str, row: dict, tmp_path: Path) -> None:
    from rmboost.data.formats import load_pairs
    from rmboost.errors import InputError

    path = write_jsonl(tmp_path / "p.jsonl", [row])
    with pytest.raises(InputError) as e:
        load_pairs(path, fmt)
    assert str(e.value) == f"{path}:1: field 'rejected' is missing"


LACKING = [{"prompt": "Who wrote it?", "chosen": "A person wrote it."}, {"prompt": "Why?", "chosen": "Because."}]


@pytest.mark.parametrize("command", ["train", "eval", "stats", "report"])
def test_every_reader_refuses_rows_without_rejected_the_same_way(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = pairs(tmp_path, LACKING, "lacking.jsonl")
    argv = {"train": ["train", "--data", str(path), "--output", str(tmp_path / "rm"), "--rm", "embed-linear"],
            "eval": ["eval", "--rm", str(tmp_path / "no-rm"), "--data", str(path)],
            "stats": ["stats", str(path), "--no-embeddings"],
            "report": ["report", str(path), "--output", str(tmp_path / "r.html")]}[command]
    code, err = run_cli(argv, capsys)
    assert code == 3 and one_error_line(err).endswith(f"{path}:1: field 'rejected' is missing"), err
    assert not (tmp_path / "r.html").exists()


def test_report_leaves_out_the_rows_that_are_no_pair_and_says_which(tmp_path: Path) -> None:
    from rmboost.report import write_report
    from rmboost.report.collect import load
    from rmboost.report.set_stats import set_stats

    rows = [{"prompt": "Q1?", "chosen": "one two three four", "rejected": "one two"},
            {"prompt": "Q2?", "chosen": "a b c d e f g h"},
            {"prompt": "Q3?", "chosen": "x y", "rejected": "x y z"}]
    path = pairs(tmp_path, rows, "mixed.jsonl")
    inp = load(path)
    s = set_stats(inp.sets[0])
    # Two pairs: chosen words 4 and 2, rejected 2 and 3; the row without `rejected` counts nowhere.
    assert (s.pairs, s.chosen_words, s.rejected_words, s.chosen_longer_share) == (2, 3.0, 2.5, 0.5)
    assert inp.notes == [f"{path}: 1 rows are no pair and are left out of this report, e.g. "
                         f"{path}:2: field 'rejected' is missing"]
    page = write_report(path, tmp_path / "r.html").read_text()
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert [p["p"] for p in data["pairs"]] == [0, 1] and data["prompts"] == ["Q1?", "Q3?"]
    assert "field &#x27;rejected&#x27; is missing" in page


# --- finding 5: a set without pairs has no per-pair figure -------------------------------------

def test_a_run_without_pairs_has_no_per_pair_figures() -> None:
    from rmboost.generation.summary import RunSummary

    summary = RunSummary(output="o.jsonl", failures_file="o.failures.jsonl", pairs=0, failures=20, skipped_done=0,
                         input_errors=0, duplicate_ids=0, calls_sent=51, cache_hits=0, prompt_tokens=45902,
                         completion_tokens=9000, wall_seconds=3.0, pairs_in_output=0)
    assert summary.per_pair() == {"calls": None, "prompt_tokens": None, "completion_tokens": None}
    assert json.loads(json.dumps(summary.to_dict()))["per_pair"]["calls"] is None
    assert "per pair: n/a" in summary.text() and "51.00" not in summary.text()
    made = RunSummary(**{**summary.__dict__, "pairs": 4})
    assert made.per_pair() == {"calls": 51 / 4, "prompt_tokens": 45902 / 4, "completion_tokens": 9000 / 4}


@pytest.mark.parametrize("per_pair", [{"calls": None, "prompt_tokens": None, "completion_tokens": None},
                                      # results.json written before the rule: totals divided by 1
                                      {"calls": 51.0, "prompt_tokens": 45902.0, "completion_tokens": 9000.0}])
def test_results_md_says_n_a_for_a_set_without_pairs(per_pair: dict) -> None:
    from rmboost.experiment.tables import generation_markdown

    row = {"set": "rlcd", "pairs": 0, "failures": 20, "skipped_done": 0, "calls_sent": 51, "cache_hits": 0,
           "wall_seconds": 3.0, "method_stats": {}, "per_pair": per_pair}
    made = {**row, "set": "rmboost", "pairs": 10, "per_pair": {"calls": 3.0, "prompt_tokens": 400.0,
                                                               "completion_tokens": 90.0}}
    lines = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
             for line in generation_markdown([row, made]).splitlines() if line.startswith("| r")}
    assert lines["rlcd"][5:8] == ["n/a", "n/a", "n/a"]
    assert lines["rmboost"][5:8] == ["3.00", "400", "90"]


def test_stats_of_a_file_without_pairs_say_n_a_not_zero(tmp_path: Path) -> None:
    from rmboost.experiment.diagnostics import compute_stats
    from rmboost.report.collect import load
    from rmboost.report.overview import diagnostics_table
    from rmboost.report.set_stats import set_stats

    path = pairs(tmp_path, [], "empty.jsonl")
    write_jsonl(tmp_path / "empty.failures.jsonl", [{"id": "q1", "stage": "y2", "reason": "empty"}])
    s = compute_stats(path, embeddings=False)
    assert (s.pairs, s.failures, s.failure_rate) == (0, 1, 1.0)
    assert s.chosen_words is s.rejected_words is s.chosen_longer_share is s.duplicate_share is None
    assert s.distinct_1 is s.distinct_2 is None
    table = dict(line.split("  ", 1) for line in s.table().splitlines())
    assert table["mean words chosen / rejected"].strip() == "n/a"
    assert table["chosen is longer (length bias)"].strip() == "n/a"
    ours, full = set_stats(load(path).sets[0]), set_stats(load(pairs(tmp_path)).sets[0])
    table = html.unescape(diagnostics_table([full, ours], {})).replace("\u00a0", " ")
    cells = {row: (a, b) for row, a, b in re.findall(r'<th scope="row">([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td>',
                                                      table)}
    assert ours.chosen_words is None
    assert cells["mean words chosen / rejected"] == ("5.0 / 1.0", "n/a")  # "A full answer number i." / "No."
    assert cells["distinct-1 / distinct-2"][1] == "n/a"


def test_the_stats_figure_draws_a_file_without_pairs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rmboost.experiment.diagnostics import compute_stats
    from rmboost.experiment.plots import plot_stats

    empty = compute_stats(pairs(tmp_path, [], "empty.jsonl"), embeddings=False)
    full = compute_stats(pairs(tmp_path), embeddings=False)
    texts = drawn_texts(monkeypatch, lambda: plot_stats([full, empty], tmp_path / "s.png"))
    assert "no pairs" in [t for t, _ in texts]


# --- finding 6: --help says a default once ------------------------------------------------------

def _parsers() -> dict[str, object]:
    import argparse

    from rmboost.cli import build_parser

    found: dict[str, object] = {}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        found[name] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(child, f"{name} {sub}".strip())

    walk(build_parser(), "")
    return found


def test_every_option_of_every_command_says_its_default_at_most_once() -> None:
    twice = [f"rmboost {name} {action.option_strings[0]}: {action.help}"
             for name, parser in _parsers().items() for action in parser._actions  # type: ignore[attr-defined]
             if action.help and action.help.lower().count("default") > 1]
    assert not twice, "\n".join(twice)


def test_train_help_names_the_default_kind_once(capsys: pytest.CaptureFixture[str]) -> None:
    from rmboost.rm.train import DEFAULT_KIND

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    rm_help = shown.split("--rm RM ", 1)[1].split(" --output", 1)[0]
    assert rm_help.lower().count("default") == 1 and f"default {DEFAULT_KIND}" in rm_help.replace(":", "")


# --- finding 6: chart labels readable at a laptop's width, jargon explained ----------------------

def svg_rows(markup: str) -> list[tuple[str, list[tuple[float, str]]]]:
    """(data-label, [(baseline y, line text)]) of each row of the chart's SVG, in order."""
    svg = ElementTree.fromstring(re.search(r"<svg viewBox=.*?</svg>", markup, re.S).group(0))  # type: ignore[union-attr]
    rows = []
    for g in svg.iter(f"{SVG}g"):
        label = next(t for t in g.iter(f"{SVG}text") if t.get("class") == "label")
        spans = list(label.iter(f"{SVG}tspan"))
        if spans:
            y0 = float(label.get("y"))  # type: ignore[arg-type]
            lines = [(y0 + sum(float(s.get("dy") or 0) for s in spans[: i + 1]), s.text or "")
                     for i, s in enumerate(spans)]
        else:
            lines = [(float(label.get("y")), label.text or "")]  # type: ignore[arg-type]
        rows.append((g.get("data-label") or "", lines))
    return rows


REASONS = ["y2: answer truncated at max_tokens=384 after the rewrite",
           "y2: answer truncated at max_tokens=384 in the second try",
           "y2: answer truncated at max_tokens=384",
           "judge_ba: answer truncated at max_tokens=384"]
DIFFS = ["oracle-rewrite - oracle-rewrite-flipped", "oracle-rewrite - real", "rmboost-length-control - west-of-n"]


def test_svg_labels_are_whole_distinct_and_fit_their_column() -> None:
    from rmboost.report.charts import LABEL_W, Bar, Chart, render

    chart = Chart("Q?", [("", [Bar(label, 1.0 + i) for i, label in enumerate(REASONS + DIFFS)])], (0.0, 8.0), "n")
    rows = svg_rows(render(chart))
    assert [label for label, _ in rows] == REASONS + DIFFS
    shown = ["".join(text for _, text in lines) for _, lines in rows]
    # Nothing is cut: every character but the spaces where a line breaks is there, so all stay distinct.
    assert [s.replace(" ", "") for s in shown] == [s.replace(" ", "") for s in REASONS + DIFFS]
    assert len(set(shown)) == len(shown) and not any("…" in s for s in shown)
    # 12px text is at most ~7px a character: each line fits the label column (8px from the bars).
    assert all(len(text) * 7 <= LABEL_W - 8 for _, lines in rows for _, text in lines)
    # Lines never overlap: every baseline is at least a line (12px) below the one before.
    baselines = [y for _, lines in rows for y, _ in lines]
    assert all(b - a >= 12 for a, b in zip(baselines, baselines[1:], strict=False))


def test_the_failures_chart_explains_its_stages(tmp_path: Path) -> None:
    from rmboost.report import write_report

    path = pairs(tmp_path)
    write_jsonl(tmp_path / "pairs.failures.jsonl", [
        {"id": f"q{i}", "stage": reason.split(":")[0], "reason": reason.split(": ", 1)[1]}
        for i, reason in enumerate(REASONS)])
    page = write_report(path, tmp_path / "r.html").read_text()
    figure = re.search(r"<h3>Why did prompts fail\?</h3>.*?</figure>", page, re.S).group(0)  # type: ignore[union-attr]
    caption = html.unescape(re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S).group(1))  # type: ignore[union-attr]
    assert re.search(r"judge_ba = [^;]*swapped", caption) and "y2 = " in caption
    rows = svg_rows(figure)
    assert sorted(label for label, _ in rows) == sorted(REASONS)


def test_the_accuracy_chart_explains_its_colours() -> None:
    from rmboost.report.experiment_view import accuracy_chart

    rows = [{"train_set": s, "rm": "maxsim", "accuracy": 0.6, "ci_low": 0.5, "ci_high": 0.7}
            for s in ["real", "rmboost", "oracle-rewrite", "real+rmboost", "real+oracle-rewrite"]]
    caption = accuracy_chart(rows).caption
    for family in ("Real", "Syn", "Control", "Real+Syn", "Real+Control"):
        assert f"{family} = " in caption


def drawn_texts(monkeypatch: pytest.MonkeyPatch, plot) -> list[tuple[str, tuple[float, float, float, float]]]:  # type: ignore[no-untyped-def]
    """Every text of the figure `plot` saves, and, last under the name '', the box (x0, y0, x1,
    y1) of everything matplotlib draws (its tight bounding box) against the figure's own size:
    the box must lie inside the figure, or something is cut at the edge."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    seen: list[tuple[str, tuple[float, float, float, float]]] = []
    real = Figure.savefig

    def spy(fig, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(fig, *args, **kwargs)  # draws the figure as saved
        seen.extend((t.get_text(), (0.0, 0.0, 0.0, 0.0)) for t in fig.findobj(Text) if t.get_text().strip())
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        width, height = fig.get_size_inches()
        seen.append(("", (box.x0 / width, box.y0 / height, box.x1 / width, box.y1 / height)))
        return result

    monkeypatch.setattr(Figure, "savefig", spy)
    plot()
    return seen


SETS = ["real", "rmboost", "rlaif", "west-of-n", "rlcd", "rmboost-length-control-paper-template",
        "oracle-rewrite", "oracle-rewrite-flipped", "real+rmboost", "real+oracle-rewrite-flipped"]


def test_the_accuracy_png_fits_a_laptop_and_keeps_every_name_whole(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from rmboost.experiment.plots import plot_accuracies

    rows = [{"train_set": s, "rm": k, "accuracy": 0.55, "ci_low": 0.5, "ci_high": 0.6}
            for s in SETS for k in ("maxsim", "embed-linear", "minilm")]
    out = tmp_path / "results.png"
    texts = drawn_texts(monkeypatch, lambda: plot_accuracies(rows, out, title="qa-feedback: 40 prompts\nsmall"))
    assert Image.open(out).size[0] <= LAPTOP_PX
    _inside_and_whole(texts, SETS)
    caption = next(t for t, _ in texts if t.startswith("Dashed line"))
    assert "real =" in " ".join(caption.split()) and "oracle-rewrite =" in " ".join(caption.split())


def test_the_stats_png_fits_a_laptop_and_keeps_every_name_whole(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from rmboost.experiment.diagnostics import compute_stats
    from rmboost.experiment.plots import plot_stats

    aspects = ["relevance to the question asked", "faithfulness to the passages", "completeness"]
    rows = [{"prompt": "Q?", "chosen": f"answer {i} words", "rejected": "no", "aspects": aspects[: 1 + i % 3]}
            for i in range(6)]
    stats = [compute_stats(pairs(tmp_path, rows, f"{name}.jsonl"), embeddings=False) for name in SETS[:7]]
    out = tmp_path / "stats.png"
    texts = drawn_texts(monkeypatch, lambda: plot_stats(stats, out))
    assert Image.open(out).size[0] <= LAPTOP_PX
    _inside_and_whole(texts, [f"{name}: aspects" for name in SETS[:7]] + aspects)


def _inside_and_whole(texts: list[tuple[str, tuple[float, float, float, float]]], names: list[str]) -> None:
    """Nothing runs past the figure's edge, and each name is drawn whole (its lines joined)."""
    _, (x0, y0, x1, y1) = texts[-1]  # as shares of the figure's width and height
    assert x0 >= -0.005 and y0 >= -0.005 and x1 <= 1.005 and y1 <= 1.005, (x0, y0, x1, y1)
    joined = {t.replace("\n", "") for t, _ in texts} | {t.replace("\n", " ") for t, _ in texts}
    missing = [n for n in names if n not in joined]
    assert not missing, missing
