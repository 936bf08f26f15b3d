"""Calibration at the Syn sets' size (issue 32, part 5): draws of N Real pairs made of whole questions
(the last one cut), flips nested by question within a draw, and on a planted rule the flipped draws
fall by what a hand count of the flipped share predicts, readable above the draw-to-draw term; on
random labels nothing is readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rmboost.errors import UserError
from rmboost.experiment.calibration_sets import CalibrationConfig, calibration_sets, parse_calibration
from rmboost.experiment.run import run_experiment
from rmboost.records import Pair
from test_calibration import planted_config


def _real() -> list[Pair]:
    # 10 questions with 3 pairs each: chosen says "good", rejected "bad"
    real = [Pair(id=f"{q}{k}", prompt=f"prompt {q}", chosen=f"good {q}{k}", rejected=f"bad {q}{k}", method="human")
            for q in "abcdefghij" for k in range(3)]
    for p in real:
        p.extra["question_id"] = p.id[0]
    return real


def test_draws_are_exactly_n_pairs_of_whole_questions_with_nested_flips() -> None:
    cfg = CalibrationConfig(True, [0, 1], [1], at_size=14, at_size_flips=[0, 0.2, 0.6], draws=2)
    sets = calibration_sets(_real(), cfg, seed=0)
    at = {n: s for n, s in sets.items() if n.startswith("real-n")}
    assert sorted(at) == sorted(f"real-n14-d{d}{f}" for d in (0, 1) for f in ("", "-flip20", "-flip60"))
    for d in (0, 1):
        clean = at[f"real-n14-d{d}"]
        assert len(clean) == 14
        per_q: dict[str, int] = {}
        for p in clean:
            per_q[p.id[0]] = per_q.get(p.id[0], 0) + 1
        # 14 = 4 whole questions of 3 and 2 pairs of a fifth
        assert sorted(per_q.values()) == [2, 3, 3, 3, 3]

        flips = {}
        for name in (f"real-n14-d{d}-flip20", f"real-n14-d{d}-flip60"):
            assert [p.id for p in at[name]] == [p.id for p in clean]  # the same pairs, only labels differ
            flips[name] = {p.id[0] for p in at[name] if p.chosen.startswith("bad")}
        f20, f60 = flips[f"real-n14-d{d}-flip20"], flips[f"real-n14-d{d}-flip60"]
        assert len(f20) == 1 and len(f60) == 3 and f20 < f60  # round(0.2 x 5), round(0.6 x 5), nested
    assert {p.id for p in at["real-n14-d0"]} != {p.id for p in at["real-n14-d1"]}  # two different draws


def test_no_draws_when_real_is_smaller_than_the_size() -> None:
    sets = calibration_sets(_real(), CalibrationConfig(True, [0, 1], [1], at_size=31), seed=0)
    assert not [n for n in sets if n.startswith("real-n")]


@pytest.mark.parametrize("raw", [{"at_size": 5}, {"at_size": "500"}, {"draws": 1}, {"at_size_flips": [2]},
                                 {"at_size": True}])
def test_bad_at_size_settings_are_one_line_errors(raw: dict) -> None:
    with pytest.raises(UserError, match="calibration"):
        parse_calibration(raw, "c.yaml")


def _with_at_size(path: Path, size: int) -> Path:
    path.write_text(path.read_text().replace("calibration: true",
                                             f"calibration: {{at_size: {size}, at_size_flips: [0.25, 0.5], draws: 2}}"))
    return path


def test_planted_rule_falls_with_the_flipped_share_and_is_readable(tmp_path: Path) -> None:
    summary = run_experiment(_with_at_size(planted_config(tmp_path, random_labels=False), 60), tmp_path / "out")
    (row,) = summary["calibration"]["at_size"]["rows"]
    levels = {lv["flipped"]: lv for lv in row["levels"]}
    # The planted rule is learnt whatever the labels' share: a quarter of the questions flipped still
    # leaves the majority right (accuracy stays high); half flipped leaves the model at chance or
    # worse. The oracle is the share flipped, not the code's own output.
    assert levels[0.0]["accuracy"] > 0.95
    assert levels[0.5]["accuracy"] < 0.75
    assert levels[0.5]["drop"] > levels[0.25]["drop"] - 0.05
    assert row["draw_term"] is not None and row["draw_term"] < 0.1
    assert levels[0.5]["readable"] and row["smallest_readable_flip"] in (0.25, 0.5)
    text = (tmp_path / "out" / "results.md").read_text()
    assert "Calibration at the Syn sets' size (60 Real pairs, 2 draws)" in text
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["calibration"]["at_size"]["rows"][0]["size"] == 60


def test_random_labels_read_no_flipped_share(tmp_path: Path) -> None:
    summary = run_experiment(_with_at_size(planted_config(tmp_path, random_labels=True), 60), tmp_path / "out")
    (row,) = summary["calibration"]["at_size"]["rows"]
    assert row["smallest_readable_flip"] is None
