"""rmboost's own pair file, as `rmboost generate` writes it (fake backend; every metadata column
included), trains a policy with TRL's `DPOTrainer` and a reward model with TRL's `RewardTrainer`
the way the README shows: `load_dataset("json", ...)` and the trainer, nothing in between. The
model is a tiny random Llama on CPU (`testing/tiny_llama.py`), a few steps each.

Oracles independent of rmboost: at DPO's first step the policy is its own reference, so the loss
is exactly ln 2 and the implicit rewards 0; a few steps on the same pairs must lower the loss and
put every chosen reward above its rejected one. The reward model's pairwise loss starts near ln 2
(random head) and must fall too.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import write_jsonl
from rmboost.cli import main


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoTokenizer

    from rmboost.testing.tiny_llama import write_tiny_llama

    path = write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), seed=0, max_positions=128)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.eos_token = tokenizer.sep_token  # the MiniLM tokenizer it borrows has no end-of-sequence token
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pairs")
    prompts = write_jsonl(root / "prompts.jsonl", [{"id": f"q{i}", "prompt": f"Tell me about topic {i}."}
                                                   for i in range(4)])
    assert main(["generate", "--backend", "fake", "--task", "chat", "--input", str(prompts), "--output",
                 str(root / "pairs.jsonl"), "--cache-dir", str(root / "cache"), "-q"]) == 0
    return root / "pairs.jsonl"


def losses(history: list[dict]) -> list[dict]:
    return [log for log in history if "loss" in log]


def test_dpo_trains_on_rmboost_pairs(tiny: Path, pairs: Path, tmp_path: Path) -> None:
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    dataset = load_dataset("json", data_files=str(pairs), split="train")
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), max_steps=2, per_device_train_batch_size=4, learning_rate=5e-3,
                     logging_steps=1, report_to="none", use_cpu=True, save_strategy="no", max_length=64, seed=0,
                     gradient_checkpointing=False)
    trainer = DPOTrainer(model=str(tiny), args=args, train_dataset=dataset,
                         processing_class=AutoTokenizer.from_pretrained(tiny))
    trainer.train()
    logs = losses(trainer.state.log_history)
    assert len(logs) == 2
    assert logs[0]["loss"] == pytest.approx(math.log(2), abs=1e-4) and logs[0]["rewards/margins"] == 0
    assert logs[-1]["loss"] < logs[0]["loss"] and logs[-1]["rewards/accuracies"] == 1


def test_reward_trainer_trains_on_rmboost_pairs(tiny: Path, pairs: Path, tmp_path: Path) -> None:
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    dataset = load_dataset("json", data_files=str(pairs), split="train")
    args = RewardConfig(output_dir=str(tmp_path / "rm"), max_steps=3, per_device_train_batch_size=4,
                        learning_rate=1e-2, logging_steps=1, report_to="none", use_cpu=True, save_strategy="no",
                        max_length=64, seed=0)
    trainer = RewardTrainer(model=str(tiny), args=args, train_dataset=dataset,
                            processing_class=AutoTokenizer.from_pretrained(tiny))
    trainer.train()
    logs = losses(trainer.state.log_history)
    assert len(logs) == 3 and abs(logs[0]["loss"] - math.log(2)) < 0.2
    assert logs[-1]["loss"] < logs[0]["loss"]
