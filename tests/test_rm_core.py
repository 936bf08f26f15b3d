"""The Bradley-Terry loss, the truncation rule and the accuracy/interval arithmetic, against values
worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rmboost.records import Pair
from rmboost.rm.bradley_terry import bradley_terry_loss
from rmboost.rm.evaluate import bootstrap_accuracy, evaluate_scores, format_table, paired_difference
from rmboost.rm.truncation import fit_pair, keep_head_and_tail


def test_bradley_terry_loss_matches_hand_computation():
    chosen = torch.tensor([2.0, 0.0, -1.0])
    rejected = torch.tensor([1.0, 0.0, 1.0])
    # -mean(log sigmoid(d)) for d = 1, 0, -2
    expected = -(math.log(1 / (1 + math.exp(-1))) + math.log(0.5) + math.log(1 / (1 + math.exp(2)))) / 3
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx((0.31326 + 0.69315 + 2.12693) / 3, abs=1e-4)


def test_bradley_terry_gradient_pushes_chosen_up():
    chosen = torch.tensor([0.0], requires_grad=True)
    rejected = torch.tensor([0.0], requires_grad=True)
    bradley_terry_loss(chosen, rejected).backward()
    assert chosen.grad.item() == pytest.approx(-0.5) and rejected.grad.item() == pytest.approx(0.5)


def test_keep_head_and_tail():
    ids = list(range(100))
    assert keep_head_and_tail(ids, 200) == ids
    assert keep_head_and_tail(ids, 20, head=3) == [0, 1, 2] + list(range(83, 100))
    assert keep_head_and_tail(ids, 8, head=32) == [0, 1] + list(range(94, 100))  # head <= budget // 4


def test_fit_pair_keeps_question_tail_and_response():
    prompt = list(range(1000))  # the question is the last tokens
    response = list(range(5000, 5090))
    p, r = fit_pair(prompt, response, 256, head=32)
    assert r == response  # a short response is kept whole
    assert len(p) + len(r) == 256
    assert p[:32] == list(range(32)) and p[-10:] == list(range(990, 1000))
    p, r = fit_pair(list(range(10)), list(range(500)), 100)
    assert p == list(range(10)) and r == list(range(90))  # a short prompt leaves room to the response
    p, r = fit_pair(list(range(300)), list(range(300)), 100)
    assert len(r) == 50 and len(p) == 50 and p[-1] == 299


def test_bootstrap_resamples_clusters():
    wins = np.array([1.0, 1.0, 1.0, 0.0])
    acc = bootstrap_accuracy(wins, ["a", "a", "a", "b"], n_boot=500)
    assert acc.accuracy == 0.75 and acc.n == 4
    # whole prompts are drawn: a resample is all-a (1.0), all-b (0.0) or mixed (0.75)
    assert acc.ci_low == 0.0 and acc.ci_high == 1.0
    flat = bootstrap_accuracy(np.ones(50), [str(i) for i in range(50)])
    assert (flat.ci_low, flat.ci_high) == (1.0, 1.0)


def pair(i: int, chosen: str, rejected: str, **extra) -> Pair:
    return Pair(id=str(i), prompt=f"p{i}", chosen=chosen, rejected=rejected, method="t", extra=extra)


def test_report_has_baselines_and_subsets():
    pairs = [
        pair(0, "long answer", "short", chosen_listed_first=True, subset="a"),
        pair(1, "x", "longer", chosen_listed_first=False, subset="a"),
        pair(2, "same", "same", chosen_listed_first=True, subset="b"),
        pair(3, "yy", "zz", chosen_listed_first=True, subset="b"),
    ]
    report = evaluate_scores(pairs, [1.0, 1.0, 0.0, 0.0], [0.0, 2.0, 0.0, 1.0], n_boot=200)
    d = report.to_dict()
    assert set(d) >= {"accuracy", "ci_low", "ci_high", "n", "baselines"}
    assert d["accuracy"] == pytest.approx((1 + 0 + 0.5 + 0) / 4) and d["n"] == 4
    assert d["baselines"]["longer"]["accuracy"] == pytest.approx((1 + 0 + 0.5 + 0.5) / 4)
    assert d["baselines"]["first"]["accuracy"] == pytest.approx(3 / 4)
    assert d["subsets"]["a"]["accuracy"] == 0.5 and d["subsets"]["b"]["accuracy"] == 0.25
    assert "baseline: first listed" in format_table(report) and "subset b" in format_table(report)


def test_paired_difference_resamples_questions_jointly():
    # Two questions with two pairs each; A wins three pairs, B wins one (on question q1).
    pairs = [Pair(id=str(i), prompt=f"q{i // 2}", chosen="c", rejected="r", method="t") for i in range(4)]
    a, b = [1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]
    d = paired_difference(a, b, pairs, n_boot=2000)
    assert d.accuracy == pytest.approx(0.75 - 0.25) and d.n == 4
    # a resample is q0 twice (+1), q1 twice (0) or both (+0.5): the interval spans exactly [0, 1]
    assert (d.ci_low, d.ci_high) == (0.0, 1.0)
    same = paired_difference(a, a, pairs, n_boot=100)  # a model against itself: no difference at all
    assert (same.accuracy, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)
    report = evaluate_scores(pairs, [1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0], n_boot=10)
    assert report.wins == a and "wins" not in report.to_dict()
    with pytest.raises(ValueError, match="one outcome per pair"):
        paired_difference(a, b[:3], pairs)


def test_first_baseline_unavailable_without_source_order():
    report = evaluate_scores([pair(0, "a", "b")], [1.0], [0.0], n_boot=10)
    assert report.baselines["first"] is None and report.to_dict()["baselines"]["first"] is None
    assert "n/a" in format_table(report)


def test_cli_start_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, rmboost.cli, rmboost.rm; rmboost.cli.build_parser(); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_load_and_kind_errors_are_user_errors(tmp_path):
    from rmboost.errors import UserError
    from rmboost.rm.base import RewardModel, kind_class
    from rmboost.rm.trl_reward import default_settings

    with pytest.raises(UserError, match="not a saved reward model"):
        RewardModel.load(tmp_path)
    with pytest.raises(UserError, match="unknown reward model kind"):
        kind_class("xgboost")
    assert default_settings("hf:/some/dir").lora is False and default_settings("smollm2").lora is True
