"""The calibration (issue 23): a learning kind that sees a planted rule is found readable and gives
verdicts; on random labels it is found unreadable and gives none; the length-balanced accuracy
against a hand count; untrained learning kinds score 0.5; the calibration sets are nested."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import write_jsonl
from rmboost.experiment.calibration_sets import CalibrationConfig, calibration_sets
from rmboost.experiment.run import run_experiment
from rmboost.records import Pair
from rmboost.rm.evaluate import length_balanced
from rmboost.rm.train import train_reward_model, untrained_reward_model

WORDS = ("river mountain castle engine harvest lantern orbit meadow canyon violin glacier parade "
         "compass tunnel falcon garnet beacon quartz ember willow saddle marble thunder").split()
NOISE = ("zorbic plimf quaxen drubble fennix grolt wimber snorg tazzle klump vreeb yollop "
         "brindle moxter quib").split()


def _sentence(rng: random.Random, vocab: list[str], n: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n)).capitalize() + "."


def planted_rows(n: int, seed: int, random_labels: bool = False) -> list[dict]:
    """Pairs whose chosen side copies a sentence of the passage and whose rejected side is made of
    words the passage never uses (the planted rule), or with a coin deciding which side is chosen."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        passage = [_sentence(rng, WORDS, rng.randint(6, 10)) for _ in range(3)]
        prompt = f"Answer from the passage.\n\n{' '.join(passage)}\n\nQuestion {seed}-{i}: what happened?"
        good = rng.choice(passage)
        bad = _sentence(rng, NOISE, len(good.split()))
        if random_labels and rng.random() < 0.5:
            good, bad = bad, good
        rows.append({"prompt": prompt, "chosen": good, "rejected": bad, "id": f"p{seed}-{i}"})
    return rows


def planted_config(tmp_path: Path, random_labels: bool) -> Path:
    train = write_jsonl(tmp_path / "train.jsonl", planted_rows(120, 1, random_labels))
    test = write_jsonl(tmp_path / "test.jsonl", planted_rows(100, 2, random_labels))
    path = tmp_path / "planted.yaml"
    path.write_text(f"""
name: planted
data: {{format: trl, path: {train}, test_path: {test}}}
train_prompts: null
methods: []
train_sets: [real]
reward_models: [features]
generation: {{task: qa, progress: false}}
rm_seeds: 2
bootstrap: 300
stats: false
calibration: true
""")
    return path


def test_planted_rule_is_readable_and_gives_a_verdict(tmp_path: Path) -> None:
    summary = run_experiment(planted_config(tmp_path, random_labels=False), tmp_path / "out")
    (row,) = summary["calibration"]["rows"]
    assert row["sensitivity"] > 0.9 and row["sensitivity_ci"][0] > 0.8
    assert row["readable"] and row["sensitivity"] > row["mdd"]
    assert row["untrained"]["accuracy"] == 0.5
    dose = [d["accuracy"] for d in row["dose_response"]]
    assert dose[0] > 0.95 and dose[-1] < 0.05 and dose == sorted(dose, reverse=True)
    assert "readable at this size: features on human-pairs" in summary["headline"]
    assert summary["headline"] in (tmp_path / "out" / "results.md").read_text()
    assert (tmp_path / "out" / "calibration.png").read_bytes()[:4] == b"\x89PNG"


def test_random_labels_are_not_readable_and_give_no_verdict(tmp_path: Path) -> None:
    summary = run_experiment(planted_config(tmp_path, random_labels=True), tmp_path / "out")
    (row,) = summary["calibration"]["rows"]
    assert abs(row["sensitivity"]) < 0.2 and row["sensitivity_ci"][0] <= 0
    assert not row["readable"]
    assert summary["headline"].startswith("No verdict: no reward model here can read a difference")
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["calibration"]["rows"][0]["readable"] is False


def _pair(chosen: str, rejected: str, q: str = "q") -> Pair:
    return Pair(id=q, prompt=f"prompt {q}", chosen=chosen, rejected=rejected, method="test")


def test_length_balanced_accuracy_against_a_hand_count() -> None:
    pairs = [_pair("a b c", "a", "1"), _pair("a b c d", "a b", "2"), _pair("a b", "a b c", "3"),
             _pair("a", "a b c", "4"), _pair("a b", "c d", "5")]
    wins = [1.0, 0.0, 1.0, 1.0, 0.0]
    lb = length_balanced(wins, pairs, n_boot=50)
    # chosen longer: pairs 1, 2 -> 1/2 won; chosen shorter: pairs 3, 4 -> 2/2; equal: pair 5 left out.
    assert (lb.chosen_longer, lb.chosen_shorter, lb.equal_length) == (2, 2, 1)
    assert lb.accuracy == pytest.approx((0.5 + 1.0) / 2)
    always_longer = [1.0, 1.0, 0.0, 0.0, 0.5]
    assert length_balanced(always_longer, pairs, n_boot=50).accuracy == pytest.approx(0.5)


@pytest.mark.parametrize("kind", ["features", "features-sim"])
def test_untrained_learning_kinds_score_one_half(kind: str) -> None:
    pairs = [Pair(id=str(i), prompt=r["prompt"], chosen=r["chosen"], rejected=r["rejected"], method="t")
             for i, r in enumerate(planted_rows(12, 3))]
    model = untrained_reward_model(kind, seed=0)
    chosen, rejected = model.score_pairs(pairs)
    assert chosen == rejected  # every response scores the same before training
    trained = train_reward_model(pairs, kind, seed=0)
    c, r = trained.score_pairs(pairs)
    assert all(x > y for x, y in zip(c, r, strict=True))


def test_features_trained_on_flipped_labels_learn_the_opposite() -> None:
    rows = planted_rows(40, 4, random_labels=True)
    pairs = [Pair(id=str(i), prompt=x["prompt"], chosen=x["chosen"], rejected=x["rejected"], method="t")
             for i, x in enumerate(rows)]
    flipped = [Pair(id=p.id, prompt=p.prompt, chosen=p.rejected, rejected=p.chosen, method="t") for p in pairs]
    a = train_reward_model(pairs, "features", validation=[])
    b = train_reward_model(flipped, "features", validation=[])
    probe = [r["chosen"] for r in planted_rows(5, 5)]
    assert a.score(["prompt"] * 5, probe) == pytest.approx([-x for x in b.score(["prompt"] * 5, probe)])


def test_calibration_sets_flip_and_cut_whole_questions_nested() -> None:
    real = [_pair(f"good {q}{k}", f"bad {q}{k}", q) for q in "abcdefgh" for k in range(2)]
    for p in real:
        p.extra["question_id"] = p.id
    sets = calibration_sets(real, CalibrationConfig(True, [0, 0.25, 0.5, 1], [0.5, 1]), seed=0)
    assert list(sets) == ["real-flip25", "real-flip50", "real-flip100", "real-q50"]

    def flipped_questions(name: str) -> set[str]:
        return {p.id for p in sets[name] if p.chosen.startswith("bad")}

    assert len(flipped_questions("real-flip25")) == 2 and len(flipped_questions("real-flip50")) == 4
    assert flipped_questions("real-flip25") < flipped_questions("real-flip50")
    assert flipped_questions("real-flip100") == set("abcdefgh")
    assert len({p.id for p in sets["real-q50"]}) == 4 and len(sets["real-q50"]) == 8


def test_the_smoke_profile_calibrates_on_both_yardsticks(tmp_path: Path) -> None:
    from conftest import REPO

    summary = run_experiment(REPO / "configs" / "smoke.yaml", tmp_path / "smoke", quiet=True)
    rows = {(r["rm"], r["yardstick"]) for r in summary["calibration"]["rows"]}
    assert rows == {(k, y) for k in ("features", "embed-linear") for y in ("human-pairs", "human-corrections")}
    sets = {r["train_set"] for r in summary["results"]}
    assert {"real", "real-flip50", "real-flip100", "real-q50", "untrained", "rmboost", "real+rmboost"} <= sets
    for r in summary["results"]:
        assert set(r["yardsticks"]) == {"human-pairs", "human-corrections"}
        lb = r["yardsticks"]["human-corrections"]["length_balanced"]
        assert lb["chosen_longer"] + lb["chosen_shorter"] + lb["equal_length"] == r["yardsticks"][
            "human-corrections"]["n"]
    # every verdict on a difference is gated by the calibration
    for d in summary["differences"]:
        readable = next(r["readable"] for r in summary["calibration"]["rows"]
                        if (r["rm"], r["yardstick"]) == (d["rm"], d["yardstick"]))
        assert d["verdict"].startswith("not readable") != readable
        assert d["winner"] is None or (readable and d["verdict"] == f"{d['winner']} is better")
    page = (tmp_path / "smoke" / "report.html").read_text()
    assert "Calibration: what each reward model can see" in page and summary["headline"][:40] in page


@pytest.mark.parametrize("difference, low, high, readable, winner", [
    (0.05, 0.01, 0.09, True, "a"),     # interval above 0 and at least the smallest readable difference
    (-0.05, -0.09, -0.01, True, "b"),  # the same the other way
    (0.02, 0.01, 0.03, True, None),    # interval above 0, but under the smallest readable difference
    (0.05, -0.01, 0.11, True, None),   # large, but the interval holds 0
    (0.05, 0.01, 0.09, False, None)])  # the instrument cannot read this kind: never a winner
def test_a_winner_is_called_only_past_the_gate(difference: float, low: float, high: float, readable: bool,
                                              winner: str | None) -> None:
    from rmboost.experiment.calibration import difference_verdict, difference_winner

    diff = {"a": "a", "b": "b", "difference": difference, "ci_low": low, "ci_high": high}
    row = {"readable": readable, "mdd": 0.03, "sensitivity": 0.2, "sensitivity_ci": [0.1, 0.3]}
    assert difference_winner(diff, row) == winner
    said = difference_verdict(diff, row)
    assert said == (f"{winner} is better" if winner else
                    "no difference this instrument can see (|difference| under 0.030 or its interval holds 0)"
                    if readable else "not readable at this size (sensitivity +0.200 [+0.100, +0.300], "
                    "smallest readable difference 0.030)")
