"""`minilm` (MiniLM fine-tuned as a cross-encoder) learns the toy task and reloads to the same
scores; its inputs put the prompt and the response in one sequence."""

from __future__ import annotations

import json

import pytest

from rm_toy_task import train_and_test
from rmboost.rm.base import META_FILE, RewardModel
from rmboost.rm.evaluate import evaluate
from rmboost.rm.minilm import MiniLMRM


def test_minilm_learns_toy_task_and_reloads(tmp_path):
    train, test = train_and_test()
    model = MiniLMRM.train(train, seed=0, max_length=64, epochs=2, lr=1e-4, batch_size=8)
    assert evaluate(model, test, n_boot=100).accuracy >= 0.9
    model.save(tmp_path / "rm")
    assert json.loads((tmp_path / "rm" / META_FILE).read_text())["settings"]["max_length"] == 64
    prompts, responses = [p.prompt for p in test], [p.chosen for p in test]
    again = RewardModel.load(tmp_path / "rm")
    assert again.score(prompts, responses) == again.score(prompts, responses)
    assert again.score(prompts, responses) == pytest.approx(model.score(prompts, responses), abs=1e-5)


def test_cross_encoder_input_is_cut_to_max_length_and_reads_the_evidence():
    train, _ = train_and_test()
    model = MiniLMRM.train(train[:8], seed=0, max_length=32, epochs=1)
    long_prompt = "Passages: " + "filler words here. " * 200 + "Question: what is salt?"
    ids = model.encoder.encode(long_prompt, "Salt is a mineral.")
    tokens = model.tokenizer.convert_ids_to_tokens(ids)
    assert len(ids) <= 32 and tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert "salt" in tokens[: tokens.index("[SEP]")]  # the question at the end of the prompt survives
    assert tokens[tokens.index("[SEP]") + 1 : -1] == ["salt", "is", "a", "mineral", "."]
    # A sentence deep inside the passages that matches the response is read; the fillers are not.
    passages = " ".join(["Filler words here."] * 60 + ["Halite is rock salt, a mineral."] + ["Filler words here."] * 60)
    prompt = f"Answer briefly.\n\nPassages: {passages}\n\nQuestion: what is salt?"
    text = model.tokenizer.decode(model.encoder.encode(prompt, "Salt is a mineral called halite."))
    assert "halite is rock salt, a mineral." in text and text.count("filler") <= 2
    assert text.startswith("[CLS] answer briefly.")
