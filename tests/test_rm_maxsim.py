"""`maxsim` (late interaction on MiniLM) learns the toy task, reloads to the same scores, and reads
each response's own evidence: the best-matching passage sentence, not the prompt's tail."""

from __future__ import annotations

import json

import pytest

from rm_toy_task import train_and_test
from rmboost.rm.base import CURVE_FILE, META_FILE, RewardModel
from rmboost.rm.evaluate import evaluate
from rmboost.rm.maxsim import MaxSimRM
from rmboost.rm.validation import split_by_question


def test_maxsim_learns_toy_task_keeps_best_step_and_reloads(tmp_path):
    train, test = train_and_test()
    fit, held = split_by_question(train, 0.3)
    model = MaxSimRM.train(fit, seed=0, validation=held, max_length=48, response_length=32, epochs=3,
                           lr=1e-4, evals_per_epoch=1)
    assert evaluate(model, test, n_boot=100).accuracy >= 0.9
    assert len(model.curve) == 3 and all(row["val_accuracy"] is not None for row in model.curve)
    model.save(tmp_path / "rm")
    assert json.loads((tmp_path / "rm" / META_FILE).read_text())["kind"] == "maxsim"
    assert len((tmp_path / "rm" / CURVE_FILE).read_text().splitlines()) == 3
    prompts, responses = [p.prompt for p in test], [p.rejected for p in test]
    again = RewardModel.load(tmp_path / "rm")
    assert again.score(prompts, responses) == again.score(prompts, responses)
    assert again.score(prompts, responses) == pytest.approx(model.score(prompts, responses), abs=1e-5)


def test_maxsim_evidence_is_chosen_per_response():
    train, _ = train_and_test()
    model = MaxSimRM.train(train[:4], seed=0, max_length=40, epochs=1)
    fillers = " ".join(f"Filler {i} is about weather and markets." for i in range(40))
    prompt = (f"Answer using the passages.\n\nPassages:\n{fillers} Copper conducts heat very well. {fillers}"
              "\n\nQuestion: what about copper?")
    response_ids, evidence_ids = model.encode(prompt, "Copper conducts heat.")
    tokens = model.tokenizer.convert_ids_to_tokens(evidence_ids)
    assert len(evidence_ids) <= 40 and tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    text = model.tokenizer.decode(evidence_ids[1:-1])
    assert "conducts heat" in text and text.startswith("answer using") and text.endswith("about copper?")
    assert model.tokenizer.convert_ids_to_tokens(response_ids)[1:-1] == ["copper", "conducts", "heat", "."]
