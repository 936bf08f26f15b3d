"""`rmboost report`, the Python side: which files it reads, the edit rule, its measures against
`rmboost stats`, the size limit and its sample, and the escaping of everything a file can hold.

Oracles: `json.loads` for the embedded data, Python's HTML parser for the page's elements, the
experiment's own `compute_stats` for the measures, and counts worked out by hand."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_jsonl
from rmboost.cli import main
from rmboost.experiment.diagnostics import compute_stats
from rmboost.report import default_output, write_report
from rmboost.report.charts import Bar, Chart, nice_ticks, render
from rmboost.report.collect import load
from rmboost.report.markup import embed_json
from rmboost.report.page import fill
from rmboost.report.payload import MAX_TEXT_CHARS, y1_side
from rmboost.report.set_stats import set_stats

QA_ASPECTS = ["relevance", "faithfulness", "correctness", "completeness", "coherence"]


def pair(i: int, method: str = "rmboost", label: str | None = "BETTER", aspects: list[str] | None = None,
         chosen: str | None = None, rejected: str | None = None, prompt: str | None = None) -> dict:
    return {"id": f"{method}-{i}", "prompt": prompt or f"Passages: ...\n\nQuestion: who wrote song {i % 3}?",
            "chosen": chosen or f"The song {i} was written by person {i} in {1990 + i}.",
            "rejected": rejected or f"The song {i} was written by someone.", "method": method, "label": label,
            "aspects": aspects if aspects is not None else QA_ASPECTS[: 1 + i % 3], "task": "qa",
            "usage": {"prompt_tokens": 10, "completion_tokens": 5}}


def make_experiment(root: Path, n: int = 6, controls: dict | None = None) -> Path:
    """An experiment folder as `rmboost experiment` leaves it, small enough to check by hand."""
    folder = root / "exp"
    prompts = [{"id": f"q{i}", "prompt": f"who wrote song {i}?", "context": f"Passage {i}."} for i in range(n)]
    write_jsonl((folder / "data").mkdir(parents=True) or folder / "data" / "train_prompts.jsonl", prompts)
    (folder / "pairs").mkdir()
    rm = [pair(i, label="BETTER" if i % 2 == 0 else "WORSE") for i in range(n)]
    write_jsonl(folder / "pairs" / "rmboost.jsonl", rm)
    write_jsonl(folder / "pairs" / "rmboost.syn4.jsonl", rm[:4])
    # The source path is where the run was: gone now, so the prompt is found in data/ by its name.
    write_jsonl(folder / "pairs" / "rmboost.failures.jsonl", [
        {"id": "q1", "stage": "y2", "reason": "identical to y1", "method": "rmboost",
         "source": "/gone/train_prompts.jsonl", "line": 2, "detail": {"label": "BETTER", "raw": "Same answer."}},
        {"id": "q3", "stage": "y2", "reason": "repeats the question", "method": "rmboost", "attempts": 3,
         "source": "/gone/train_prompts.jsonl", "line": 4, "detail": {"text": "who wrote song 3?"}}])
    write_jsonl(folder / "pairs" / "west-of-n.jsonl",
                [pair(i, "west-of-n", None, QA_ASPECTS) for i in range(n)])
    write_jsonl(folder / "data" / "real_train.jsonl", [pair(i, "human", None, []) for i in range(n)])
    write_jsonl(folder / "data" / "test_pairs.jsonl", [pair(i, "human", None, []) for i in range(50)])
    rows = [{"train_set": s, "rm": "embed-linear", "accuracy": 0.5 + 0.01 * k, "ci_low": 0.45, "ci_high": 0.6,
             "train_pairs": n, "baselines": {"longer": {"accuracy": 0.58, "ci_low": 0.5, "ci_high": 0.66}}}
            for k, s in enumerate(["real", "rmboost", "west-of-n", "real+rmboost"])]
    results = {"config": {"name": "tiny", "methods": [{"name": "rmboost"}, {"name": "west-of-n"}]},
               "results": rows,
               "stats": [{"file": str(folder / "pairs" / "rmboost.jsonl"), "reference_agreement": 0.625}],
               "differences": [{"a": "rmboost", "b": "west-of-n", "rm": "embed-linear", "difference": 0.08,
                                "ci_low": 0.02, "ci_high": 0.14, "n": 60, "yardstick": "human-pairs",
                                "verdict": "rmboost is better", "readable": True}],
               "headline": "Which training data is better, read by embed-linear on human-pairs: rmboost is better.",
               "calibration": {"enabled": True, "flip_fractions": [0.0, 1.0], "sizes": [1.0], "rows": [
                   {"rm": "embed-linear", "yardstick": "human-pairs", "sensitivity": 0.1,
                    "sensitivity_ci": [0.05, 0.15], "mdd": 0.03, "readable": True, "untrained": {"accuracy": 0.5},
                    "dose_response": [{"flipped": 0.0, "accuracy": 0.55}, {"flipped": 1.0, "accuracy": 0.45}],
                    "learning_curve": []}]}}
    if controls is not None:
        results["controls"] = controls
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def embedded(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(page)
    return parser.tags


# --- what is read --------------------------------------------------------------------------

def test_experiment_folder_sets_in_config_order_without_cut_copies_or_test_pairs(tmp_path: Path) -> None:
    inp = load(make_experiment(tmp_path))
    assert inp.kind == "experiment"
    assert [s.name for s in inp.sets] == ["rmboost", "west-of-n", "real"]
    rm = inp.sets[0]
    assert len(rm.rows) == 6 and [f["id"] for f in rm.failures] == ["q1", "q3"]
    # Found by file name in data/, and only when the line holds the failure's id.
    assert rm.failure_prompts == {0: "Passage 1.\n\n--- prompt ---\nwho wrote song 1?",
                                  1: "Passage 3.\n\n--- prompt ---\nwho wrote song 3?"}


def test_a_folder_that_is_no_experiment_and_a_missing_path_are_user_errors(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path)]) != 0
    assert "not an experiment output folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope.jsonl")]) != 0
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("row, side", [
    ({"method": "rmboost", "label": "BETTER"}, "rejected"),  # y2 (better) was chosen: y1 is the rejected one
    ({"method": "rmboost", "label": "WORSE"}, "chosen"),
    ({"method": "oracle-rewrite", "label": "BETTER"}, "rejected"),
    ({"method": "oracle-rewrite-flipped", "label": "WORSE"}, "chosen"),
    ({"method": "oracle-rewrite"}, "rejected"),
    ({"method": "some-new-editor", "label": "WORSE"}, "chosen"),  # the label alone makes it an edit
    ({"method": "rlaif", "label": None}, None),
    ({"method": "west-of-n"}, None),
    ({"method": "human", "label": "tie"}, None),
])
def test_which_side_is_the_original(row: dict, side: str | None) -> None:
    assert y1_side(row) == side


# --- measures ------------------------------------------------------------------------------

def test_set_measures_agree_with_rmboost_stats(tmp_path: Path) -> None:
    rows = [pair(0, chosen="a b c d", rejected="a b"), pair(1, label="WORSE", chosen="x", rejected="x y z"),
            pair(2, chosen="one two three", rejected="one two three four five"), pair(3, label=None)]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    write_jsonl(tmp_path / "p.failures.jsonl", [{"id": "9", "stage": "y2", "reason": "identical to y1"},
                                                {"id": "8", "stage": "y1", "reason": "empty"},
                                                {"id": "7", "stage": "y2", "reason": "identical to y1"}])
    ours, theirs = set_stats(load(path).sets[0]), compute_stats(path, embeddings=False)
    assert (ours.pairs, ours.failures) == (theirs.pairs, theirs.failures) == (4, 3)
    assert ours.failure_rate == pytest.approx(theirs.failure_rate) == pytest.approx(3 / 7)
    assert ours.better_share == pytest.approx(theirs.better_share)
    assert ours.chosen_words == pytest.approx(theirs.chosen_words)
    assert ours.chosen_longer_share == pytest.approx(theirs.chosen_longer_share) == pytest.approx(2 / 4)
    assert ours.distinct_1 == pytest.approx(theirs.distinct_1)
    assert ours.distinct_2 == pytest.approx(theirs.distinct_2)
    assert ours.aspects == theirs.aspects
    assert ours.failure_reasons == theirs.failure_reasons == {"y2: identical to y1": 2, "y1: empty": 1}


@pytest.mark.parametrize("lists, vary, same", [
    ([QA_ASPECTS, list(reversed(QA_ASPECTS))], False, QA_ASPECTS),  # the same list in any order
    ([[], []], False, []),
    ([["relevance"], ["coherence", "relevance"]], True, []),
    ([[], ["coherence"]], True, []),
])
def test_aspects_chart_applies_only_when_rows_chose_aspects(tmp_path: Path, lists, vary, same) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [pair(i, aspects=a) for i, a in enumerate(lists)])
    s = set_stats(load(path).sets[0])
    assert (s.aspects_vary, s.same_aspects) == (vary, same)
    page = (tmp_path / "r.html")
    write_report(path, page)
    assert ("Which aspects did the rewrites target?" in page.read_text()) == vary


def test_experiment_report_draws_aspects_only_for_rmboost_and_failures_only_where_there_are(tmp_path: Path) -> None:
    page = write_report(make_experiment(tmp_path)).read_text()
    svg_groups = re.findall(r'<text x="8" y="[^"]+" class="group">([^<]*)</text>', page)
    assert "rmboost" in svg_groups and "west-of-n" not in svg_groups
    assert "Not drawn for west-of-n, real: every pair carries the same list, or none." in page
    assert "rmboost (2 failures)" in page and "Not drawn for west-of-n, real: no failures." in page


# --- size limit ----------------------------------------------------------------------------

def big_sets(tmp_path: Path, shuffle: bool = False) -> Path:
    folder = tmp_path / ("shuffled" if shuffle else "exp")
    (folder / "pairs").mkdir(parents=True)
    for name, n in (("a", 300), ("b", 120)):
        rows = [pair(i, name, chosen=f"{name} {i} " + "word " * 300) for i in range(n)]
        write_jsonl(folder / "pairs" / f"{name}.jsonl", rows[::-1] if shuffle else rows)
        failures = [{"id": f"f{i}", "stage": "y2", "reason": "empty", "detail": {"raw": "x " * 200}} for i in range(40)]
        write_jsonl(folder / "pairs" / f"{name}.failures.jsonl", failures)
    return folder


def test_a_report_over_the_limit_is_a_sample_that_fits_and_says_so(tmp_path: Path) -> None:
    limit = 250_000
    out = write_report(big_sets(tmp_path), tmp_path / "r.html", max_bytes=limit)
    size = out.stat().st_size
    assert 0.8 * limit < size <= limit
    data = embedded(out.read_text())
    assert data["sampled"] and "holds a sample" in data["notes"][0]
    kept = {s["name"]: s["shown_pairs"] / s["pairs"] for s in data["sets"]}
    assert kept["a"] < 1 and abs(kept["a"] - kept["b"]) <= 1 / 120 + 1e-9  # the same share of every set
    assert {p["id"] for p in data["pairs"]} <= {f"{n}-{i}" for n, k in (("a", 300), ("b", 120)) for i in range(k)}
    assert len(data["pairs"]) == sum(s["shown_pairs"] for s in data["sets"])
    # Which rows is not file order: the same file reversed keeps the same ids.
    again = embedded(write_report(big_sets(tmp_path, shuffle=True), tmp_path / "r2.html", max_bytes=limit).read_text())
    assert {p["id"] for p in again["pairs"]} == {p["id"] for p in data["pairs"]}


def test_without_a_limit_every_row_is_kept_and_no_note(tmp_path: Path) -> None:
    data = embedded(write_report(big_sets(tmp_path), tmp_path / "r.html", max_bytes=None).read_text())
    assert len(data["pairs"]) == 420 and len(data["failures"]) == 80
    assert not data["sampled"] and data["notes"] == []


def test_each_distinct_prompt_is_stored_once(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [pair(i, prompt=f"prompt {i % 3} " + "x" * 1000) for i in range(30)])
    data = embedded(write_report(path, tmp_path / "r.html").read_text())
    assert len(data["prompts"]) == 3
    assert [data["prompts"][p["p"]][:8] for p in data["pairs"]] == [f"prompt {i % 3}" for i in range(30)]


def test_a_huge_text_is_cut_and_the_page_says_so(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [pair(0, chosen="y" * (MAX_TEXT_CHARS + 5000))])
    data = embedded(write_report(path, tmp_path / "r.html").read_text())
    assert data["pairs"][0]["c"].startswith("y" * MAX_TEXT_CHARS + " […5,000 more characters cut")
    assert "1 texts longer than" in data["notes"][0]


# --- escaping ------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.recursive(st.text() | st.integers() | st.none(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)))
def test_embedded_json_round_trips_and_cannot_end_its_script(value) -> None:
    raw = embed_json(value)
    assert json.loads(raw) == value
    assert not set(raw) & {"<", ">", "&", "\u2028", "\u2029"}


def test_placeholders_are_filled_in_one_pass() -> None:
    assert fill("{{A}}|{{B}}", {"A": "{{B}}", "B": "b"}) == "{{B}}|b"


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)></script><!--"


def test_markup_in_every_field_stays_text(tmp_path: Path) -> None:
    rows = [{"a": HOSTILE, "b": HOSTILE, "rm": HOSTILE, "difference": 0.1, "ci_low": 0.01, "ci_high": 0.2}]
    folder = make_experiment(tmp_path, controls={"verdicts": [{"rm": HOSTILE, "yardstick": HOSTILE, "rows": rows,
                                                               "verdict": HOSTILE}]})
    results = json.loads((folder / "results.json").read_text())
    results["config"]["name"] = HOSTILE
    results["results"][0]["train_set"] = HOSTILE
    results["headline"] = HOSTILE
    results["calibration"]["rows"][0]["rm"] = HOSTILE
    (folder / "results.json").write_text(json.dumps(results))
    write_jsonl(folder / "pairs" / "rmboost.jsonl", [pair(0, HOSTILE, "BETTER", [HOSTILE], HOSTILE, HOSTILE, HOSTILE)])
    page = write_report(folder).read_text()
    tags = elements(page)
    assert [t for t, _ in tags].count("script") == 2 and not [t for t, _ in tags if t == "img"]
    assert all(not any(k.startswith("on") for k in attrs) for _, attrs in tags)
    assert embedded(page)["pairs"][0]["c"] == HOSTILE  # and the data holds the text as it was


# --- charts and the command line ---------------------------------------------------------

@pytest.mark.parametrize("low, high, integer", [(0, 1, False), (0.3, 0.7, False), (-0.1, 0.15, False),
                                                (0, 12, True), (0, 3, True), (0, 12345, True)])
def test_ticks_are_round_and_cover_the_domain(low: float, high: float, integer: bool) -> None:
    ticks = nice_ticks(low, high, integer=integer)
    step = ticks[1] - ticks[0]
    assert 3 <= len(ticks) <= 11 and all(low - 1e-9 <= t <= high + 1e-9 for t in ticks)
    assert ticks[0] - low < step + 1e-9 and high - ticks[-1] < step + 1e-9
    assert not integer or all(t == int(t) for t in ticks)
    assert re.fullmatch(r"(1|2|2\.5|5)(0*)", f"{step / 10 ** math.floor(math.log10(step)):g}")


def test_a_chart_is_well_formed_svg_with_one_row_per_bar() -> None:
    chart = Chart("Q?", [("g1", [Bar("a", 0.2, 0.1, 0.3), Bar("<b>", 0.5)]), ("g2", [Bar("c", 0.9, series="x")])],
                  (0.0, 1.0), "axis", refs=[(0.5, "chance")])
    svg = re.search(r'<svg viewBox=.*?</svg>', render(chart), re.S).group(0)  # type: ignore[union-attr]
    root = ElementTree.fromstring(svg)
    rows = root.findall("{http://www.w3.org/2000/svg}g")
    assert [r.get("data-label") for r in rows] == ["a", "<b>", "c"]


def test_reference_labels_close_together_go_up_a_row_and_far_ones_share_one() -> None:
    refs = [(0.5, "chance"), (0.517, "always the longer response"), (0.563, "overlap"), (0.9, "first")]
    svg = re.search(r'<svg viewBox=.*?</svg>', render(Chart("Q?", [("", [Bar("a", 0.55)])], (0.4, 1.0), "axis",
                                                          refs=refs)), re.S).group(0)  # type: ignore[union-attr]
    labels = {t.text: float(t.get("y")) for t in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
              if t.get("class") == "ref-label"}
    assert labels["chance"] != labels["always the longer response"]  # 0.017 apart: their texts would overlap
    assert labels["chance"] == labels["first"]  # far apart: the same row
    assert len(set(labels.values())) == 2 and min(labels.values()) > 0  # inside the drawing


def test_controls_are_named_as_controls_and_every_baseline_by_what_it_does(tmp_path: Path) -> None:
    folder = make_experiment(tmp_path)
    results = json.loads((folder / "results.json").read_text())
    base = {k: {"accuracy": a, "ci_low": a - 0.03, "ci_high": a + 0.03}
            for k, a in {"longer": 0.517, "overlap": 0.563, "first": 0.604}.items()}
    results["results"] = [{"train_set": s, "rm": "maxsim", "accuracy": 0.55, "ci_low": 0.5, "ci_high": 0.6,
                           "train_pairs": 6, "baselines": base}
                          for s in ["real", "rmboost", "oracle-rewrite", "real+rmboost", "real+oracle-rewrite"]]
    (folder / "results.json").write_text(json.dumps(results))
    write_report(folder, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    legend = re.search(r'<div class="legend">(.*?)</div>', page, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r"</svg>([^<]+)</span>", legend) == ["Real", "Syn", "Control", "Real+Syn", "Real+Control"]
    assert "overlap (the response with more of the prompt&#x27;s words): " in page  # escaped like every text
    assert "always overlap" not in page


def test_cli_writes_beside_the_pairs_and_generate_prints_the_command(tmp_path: Path, prompts_file: Path,
                                                                       capsys) -> None:
    out = tmp_path / "run" / "pairs.jsonl"
    assert main(["generate", "--backend", "fake", "--method", "rmboost", "--input", str(prompts_file),
                 "--output", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"report: rmboost report {out} --output {tmp_path / 'run' / 'pairs.report.html'}" in err
    assert main(["report", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(default_output(out)) == str(tmp_path / "run" / "pairs.report.html")
    assert len(embedded(default_output(out).read_text())["pairs"]) == len(out.read_text().splitlines())


def test_parquet_pairs_are_read(tmp_path: Path) -> None:
    from rmboost.io.rows import write_rows

    path = tmp_path / "p.parquet"
    write_rows(path, [pair(i) for i in range(5)])
    data = embedded(write_report(path).read_text())
    assert [p["id"] for p in data["pairs"]] == [f"rmboost-{i}" for i in range(5)]
    assert default_output(path) == tmp_path / "p.report.html"
