"""`hf:PATH` (a tiny randomly initialised Llama built from a config) and `smollm2` (the packaged
GGUF, LoRA) train through TRL's RewardTrainer, learn the toy task, and reload to the same scores."""

from __future__ import annotations

import json

import pytest

from rm_toy_task import TOPICS, toy_pairs, train_and_test
from rmboost.rm.base import CURVE_FILE, META_FILE, RewardModel
from rmboost.rm.evaluate import evaluate
from rmboost.rm.trl_reward import TRLRewardModel, layout_of
from rmboost.rm.validation import split_by_question


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> str:
    from rmboost.testing.tiny_llama import write_tiny_llama

    path = write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), seed=0, max_positions=256)
    return f"hf:{path}"


def test_hf_checkpoint_learns_toy_task_and_reloads(tiny_llama, tmp_path):
    train, test = train_and_test()
    fit, held = split_by_question(train, 0.3)
    model = TRLRewardModel.train(fit, tiny_llama, seed=0, validation=held, lr=3e-3, epochs=8, batch_size=8,
                                 max_length=64, patience=0)
    assert layout_of(model.model) == "decoder"
    assert evaluate(model, test, n_boot=100).accuracy >= 0.8
    assert len(model.curve) >= 8 and all(0 <= row["val_accuracy"] <= 1 for row in model.curve)
    model.save(tmp_path / "rm")
    assert len((tmp_path / "rm" / CURVE_FILE).read_text().splitlines()) == len(model.curve)
    assert json.loads((tmp_path / "rm" / META_FILE).read_text())["kind"] == tiny_llama
    prompts, responses = [p.prompt for p in test], [p.rejected for p in test]
    again = RewardModel.load(tmp_path / "rm")
    assert again.score(prompts, responses) == again.score(prompts, responses)
    assert again.score(prompts, responses) == pytest.approx(model.score(prompts, responses), abs=1e-4)


def test_smollm2_lora_learns_toy_task_and_reloads(tmp_path):
    train = toy_pairs(TOPICS[:4], conversational=True)
    test = toy_pairs(TOPICS[12:], conversational=True)
    model = TRLRewardModel.train(train, "smollm2", seed=0, epochs=2, batch_size=4, max_length=64, lr=5e-4)
    assert evaluate(model, test, n_boot=100).accuracy >= 0.8
    model.save(tmp_path / "rm")
    saved = json.loads((tmp_path / "rm" / META_FILE).read_text())
    assert saved["kind"] == "smollm2" and saved["settings"]["lora"] is True
    assert (tmp_path / "rm" / "adapter").is_dir() and not (tmp_path / "rm" / "model").exists()
    prompts, responses = [p.prompt for p in test[:4]], [p.chosen for p in test[:4]]
    again = RewardModel.load(tmp_path / "rm")
    assert again.score(prompts, responses) == pytest.approx(model.score(prompts, responses), abs=1e-3)
