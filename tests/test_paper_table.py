"""`rmboost table` and `experiment/paper_table.py`: the paper's table from experiment folders' results.json.

Two folders are written by hand here (a "tldr" one with a readable `features` and an unreadable
`maxsim` reward model, a "qa" one with `features` alone), and every expected cell is written out by
hand from those numbers: the oracle is this file's arithmetic (a stored B - A read as A - B is its
negation, the interval's ends swapped and negated), not the code's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rmboost.cli import main
from rmboost.errors import UsageError, UserError
from rmboost.experiment.paper_table import Folder, load_folder, paper_table

Y = "human-pairs"


def row(train_set: str, kind: str, acc: float, low: float, high: float) -> dict[str, Any]:
    return {"train_set": train_set, "rm": kind, "train_pairs": 100, "accuracy": acc, "ci_low": low, "ci_high": high,
            "yardsticks": {Y: {"accuracy": acc, "ci_low": low, "ci_high": high, "n": 200}}}


def diff(a: str, b: str, kind: str, d: float, low: float, high: float, winner: str | None,
         readable: bool = True) -> dict[str, Any]:
    verdict = f"{winner} is better" if winner else NO_DIFF if readable else NOT_READABLE
    return {"a": a, "b": b, "rm": kind, "yardstick": Y, "difference": d, "ci_low": low, "ci_high": high, "n": 200,
            "verdict": verdict, "winner": winner, "readable": readable}


def calibration(kind: str, sensitivity: float, low: float, high: float, mdd: float, readable: bool) -> dict[str, Any]:
    return {"rm": kind, "yardstick": Y, "sensitivity": sensitivity, "sensitivity_ci": [low, high], "mdd": mdd,
            "readable": readable}


NO_DIFF = "no difference this instrument can see (|difference| under 0.030 or its interval holds 0)"
NOT_READABLE = "not readable at this size (sensitivity +0.020 [-0.010, +0.050], smallest readable difference 0.040)"


def tldr() -> dict[str, Any]:
    rows = [row("real", "features", 0.70012, 0.65049, 0.74951), row("rmboost", "features", 0.57634, 0.53512, 0.61149),
            row("rlaif", "features", 0.55, 0.5, 0.6), row("real+rmboost", "features", 0.69, 0.64, 0.74),
            row("real+rlaif", "features", 0.74, 0.69, 0.79), row("real-flip100", "features", 0.3, 0.25, 0.35),
            row("real-flip25", "features", 0.65, 0.6, 0.7),  # not a row of the paper's table
            row("real", "maxsim", 0.52, 0.48, 0.56), row("rmboost", "maxsim", 0.5, 0.46, 0.54),
            row("rlaif", "maxsim", 0.43, 0.39, 0.47)]
    differences = [
        diff("rmboost", "rlaif", "features", 0.05, 0.01, 0.09, "rmboost"),
        diff("real+rmboost", "real", "features", -0.01, -0.03, 0.01, None),
        diff("real+rlaif", "real", "features", 0.04, 0.02, 0.06, "real+rlaif"),
        diff("rmboost", "real", "features", -0.1, -0.15, -0.05, "real"),
        diff("rlaif", "real", "features", -0.15, -0.2, -0.1, "real"),
        diff("rmboost", "rlaif", "maxsim", 0.07, 0.04, 0.1, "rmboost", readable=False),
        diff("rmboost", "real", "maxsim", -0.02, -0.06, 0.02, None, readable=False),
        diff("rlaif", "real", "maxsim", -0.09, -0.12, -0.06, None, readable=False)]
    return {"config": {"name": "tldr-run", "methods": [{"name": "rmboost", "method": "rmboost"},
                                                       {"name": "rlaif", "method": "rlaif"}]},
            "dataset": {"format": "tldr", "path": "tldr.json", "test_pairs": 200, "yardsticks": {Y: 200}},
            "sizes": {"syn_pairs": 100, "notes": ["syn_size asks for 120 pairs, but rmboost made only 100"]},
            "results": [], "combined": rows, "differences": differences, "output": "runs/tldr",
            "calibration": {"rows": [calibration("features", 0.4, 0.3, 0.5, 0.03, True),
                                     calibration("maxsim", 0.02, -0.01, 0.05, 0.04, False)]},
            "agreement": {"rows": [{"set": "rmboost", "method": "rmboost", "pairs": 100},
                                   {"set": "rlaif", "method": "rlaif", "pairs": 100, "labels": 0.61234,
                                    "labels_low": 0.55, "labels_high": 0.67, "labels_n": 98}]}}


def qa() -> dict[str, Any]:
    rows = [row("real", "features", 0.8, 0.75, 0.85), row("rmboost", "features", 0.78, 0.73, 0.83),
            row("west-of-n", "features", 0.81, 0.76, 0.86), row("real+rmboost", "features", 0.82, 0.77, 0.87),
            row("real+west-of-n", "features", 0.8, 0.75, 0.85), row("untrained", "features", 0.5, 0.5, 0.5)]
    differences = [diff("west-of-n", "rmboost", "features", 0.03, 0.01, 0.05, "west-of-n"),
                   diff("rmboost", "real", "features", -0.02, -0.05, 0.01, None)]
    return {"config": {"name": "qa-run", "methods": [{"name": "rmboost", "method": "rmboost"},
                                                     {"name": "west-of-n", "method": "west-of-n"}]},
            "dataset": {"format": "qa-feedback", "path": "dev.json", "test_pairs": 300},
            "sizes": {"syn_pairs": 50, "notes": []}, "results": [], "combined": rows, "differences": differences,
            "calibration": {"rows": [calibration("features", 0.3, 0.2, 0.4, 0.02, True)]},
            "agreement": {"rows": [{"set": "west-of-n", "method": "west-of-n", "pairs": 50, "labels": 0.7,
                                    "labels_low": 0.6, "labels_high": 0.8, "labels_n": 45},
                                   {"set": "rmboost", "method": "rmboost", "pairs": 60, "direction": 0.49607,
                                    "direction_low": 0.4676, "direction_high": 0.525, "direction_n": 57}]}}


def cells(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The table's header and, per training set, its cells by column header."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    split = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    header = split[0]
    return header, {r[0]: dict(zip(header, r, strict=True)) for r in split[1:]}


def both(all_kinds: bool = False) -> str:
    return paper_table([Folder.from_results("tldr", tldr()), Folder.from_results("qa", qa())], all_kinds=all_kinds)


def test_rows_in_the_papers_order_and_only_those_some_folder_has() -> None:
    _, table = cells(both())
    assert list(table) == ["real", "rmboost", "rlaif", "west-of-n", "real+rmboost", "real+rlaif", "real+west-of-n",
                           "real-flip100", "untrained"]
    _, alone = cells(paper_table([Folder.from_results("tldr", tldr())]))
    assert list(alone) == ["real", "rmboost", "rlaif", "real+rmboost", "real+rlaif", "real-flip100"]


def test_cells_hold_the_accuracy_and_the_stored_verdicts() -> None:
    header, table = cells(both())
    assert header == ["train set", f"tldr: features on {Y}", f"qa: features on {Y}",
                      "tldr: labels agree with humans", "qa: labels agree with humans"]
    t = f"tldr: features on {Y}"
    assert table["real"][t] == "0.700 [0.650, 0.750]; vs rmboost: better (+0.100 [+0.050, +0.150])"
    assert table["rmboost"][t] == "0.576 [0.535, 0.611]; vs real: worse (-0.100 [-0.150, -0.050])"
    # stored as rmboost - rlaif: read as rlaif - rmboost, sign and interval flipped, and "worse"
    assert table["rlaif"][t] == ("0.550 [0.500, 0.600]; vs real: worse (-0.150 [-0.200, -0.100]); "
                                 "vs rmboost: worse (-0.050 [-0.090, -0.010])")
    assert table["real+rmboost"][t] == "0.690 [0.640, 0.740]; vs real: no difference (-0.010 [-0.030, +0.010])"
    assert table["real+rlaif"][t] == "0.740 [0.690, 0.790]; vs real: better (+0.040 [+0.020, +0.060])"
    assert table["real-flip100"][t] == "0.300 [0.250, 0.350]"
    q = f"qa: features on {Y}"
    assert table["west-of-n"][q] == "0.810 [0.760, 0.860]; vs rmboost: better (+0.030 [+0.010, +0.050])"
    assert table["rmboost"][q] == "0.780 [0.730, 0.830]; vs real: no difference (-0.020 [-0.050, +0.010])"
    assert table["untrained"][q] == "0.500 [0.500, 0.500]"


def test_a_row_missing_from_one_folder_is_a_dash_there() -> None:
    _, table = cells(both())
    assert table["untrained"][f"tldr: features on {Y}"] == "-"
    assert table["west-of-n"][f"tldr: features on {Y}"] == "-" and table["real+west-of-n"]["tldr: labels agree with "
                                                                                           "humans"] == "-"
    assert table["rlaif"][f"qa: features on {Y}"] == "-" and table["real-flip100"][f"qa: features on {Y}"] == "-"


def test_the_agreement_column() -> None:
    _, table = cells(both())
    assert table["rlaif"]["tldr: labels agree with humans"] == "0.612 [0.550, 0.670] (n=98)"
    assert table["west-of-n"]["qa: labels agree with humans"] == "0.700 [0.600, 0.800] (n=45)"
    assert table["rmboost"]["tldr: labels agree with humans"] == "-"  # a row without labels
    assert table["real"]["qa: labels agree with humans"] == "-"
    # RMBoost over a prediction humans corrected: its rewrites' direction against the corrections
    assert table["rmboost"]["qa: labels agree with humans"] == "rewrite direction 0.496 [0.468, 0.525] (n=57)"


def test_the_unreadable_kind_is_named_below_or_a_marked_column_with_all_kinds() -> None:
    text = both()
    header, _ = cells(text)
    assert not any("maxsim" in h for h in header)
    below = text.split("\n| ")[-1]
    assert "not readable: tldr maxsim on human-pairs (sensitivity +0.020 [-0.010, +0.050], MDD 0.040)" in below
    header, table = cells(both(all_kinds=True))
    m = f"tldr: maxsim on {Y} (not readable)"
    assert header[1:3] == [f"tldr: features on {Y}", m]
    # unreadable rows say "no difference", whatever their verdict field says
    assert table["rlaif"][m] == ("0.430 [0.390, 0.470]; vs real: no difference (-0.090 [-0.120, -0.060]); "
                                 "vs rmboost: no difference (-0.070 [-0.100, -0.040])")
    assert table["real+rmboost"][m] == "-"


def test_the_lines_above_the_table() -> None:
    head = both().split("\n\n")[0].splitlines()
    assert head == ["**tldr**: tldr-run; data tldr (tldr.json); test pairs: human-pairs n=200; Syn size: 100 pairs; "
                    "made by `rmboost experiment --config ... --output runs/tldr`",
                    "- syn_size asks for 120 pairs, but rmboost made only 100",
                    "**qa**: qa-run; data qa-feedback (dev.json); test pairs: n=300; Syn size: 50 pairs"]


def test_one_seed_results_and_yardstick_choice() -> None:
    one = {**qa(), "results": qa()["combined"]}
    del one["combined"]
    _, table = cells(paper_table([Folder.from_results("qa", one)], [Y]))
    assert table["real"][f"qa: features on {Y}"].startswith("0.800 [0.750, 0.850]")
    with pytest.raises(UsageError, match="--yardstick nope: no folder has it; they have: human-pairs"):
        paper_table([Folder.from_results("qa", qa())], ["nope"])


@pytest.mark.parametrize("broken, key", [({"config": None}, "no key 'config'"),
                                         ({"differences": [{"a": "x"}]}, "differences[0] has no key 'b'"),
                                         ({"calibration": {"rows": [{"rm": "f"}]}}, "has no key 'yardstick'"),
                                         ({"agreement": {"rows": [{"set": "rmboost", "direction": 0.5}]}},
                                          "agreement.rows[0] has no key 'direction_low'")])
def test_a_missing_key_is_named(broken: dict[str, Any], key: str) -> None:
    results = {**qa(), **broken}
    results = {k: v for k, v in results.items() if v is not None}
    with pytest.raises(UserError, match=key.replace("[", r"\[").replace("]", r"\]")):
        Folder.from_results("qa", results, "qa/results.json")


def test_a_results_file_without_winners_or_with_a_stray_one_is_refused() -> None:
    old = qa()
    for d in old["differences"]:
        del d["winner"]
    with pytest.raises(UserError, match=r"qa/results.json: its differences have no 'winner' .*--pairs-from"):
        Folder.from_results("qa", old, "qa/results.json")
    stray = qa()
    stray["differences"][1]["winner"] = "rlaif"
    with pytest.raises(UserError, match=r"differences\[1\].winner is \"rlaif\", neither 'rmboost' nor 'real'"):
        Folder.from_results("qa", stray, "qa/results.json")


def write(folder: Path, results: dict[str, Any]) -> Path:
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_prints_or_writes_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write(tmp_path / "tldr", tldr()), write(tmp_path / "qa", qa())
    code, out, err = run(["table", str(a), str(b / "results.json")], capsys)
    assert code == 0 and not err and out == both()
    out_file = tmp_path / "table.md"
    code, out, _ = run(["table", str(a), str(b), "--all-kinds", "--output", str(out_file)], capsys)
    assert code == 0 and out.strip() == str(out_file) and out_file.read_text() == both(all_kinds=True)
    assert load_folder(b / "results.json").label == "qa"


def test_command_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "tldr", tldr())
    out_file = tmp_path / "table.md"
    code, out, err = run(["table", str(a), str(tmp_path / "none"), "--output", str(out_file)], capsys)
    assert code == 3 and not out and err.count("\n") == 1 and str(tmp_path / "none") in err
    assert not out_file.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(["table", str(empty)], capsys)
    assert code == 3 and err.count("\n") == 1 and f"{empty}: no results.json" in err
    code, _, err = run(["table", str(a), "--yardstick", "nope"], capsys)
    assert code == 2 and err.count("\n") == 1 and "they have: human-pairs" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text('{"config": ')
    code, _, err = run(["table", str(broken)], capsys)
    assert code == 3 and err.count("\n") == 1 and f"{broken / 'results.json'}: not JSON" in err
    lacking = write(tmp_path / "lacking", {k: v for k, v in tldr().items() if k != "sizes"})
    code, _, err = run(["table", str(lacking)], capsys)
    assert code == 3 and err.count("\n") == 1 and f"{lacking / 'results.json'}: has no key 'sizes'" in err
