"""What a reward model reads and how it is selected: the `overlap` baseline against shares worked
out by hand, evidence selection against prompts built so that the right sentence is known, the
validation split against the QA-Feedback test questions, and the training loop's best checkpoint,
early stopping and curve."""

from __future__ import annotations

import pytest
import torch

from conftest import QA_FEEDBACK
from rm_toy_task import GOOD, train_and_test
from rmboost.records import Pair
from rmboost.rm.base import CURVE_FILE
from rmboost.rm.evaluate import evaluate_scores, format_table
from rmboost.rm.evidence import select_evidence
from rmboost.rm.training_loop import LoopSettings, _stale, question_groups, train_loop
from rmboost.rm.validation import question_key, split_by_question


def words_count(text: str) -> int:
    return len(text.split())


def test_overlap_baseline_in_report_and_table():
    prompt = "Passages: Paris is the capital of France.\n\nQuestion: what is the capital of France?"
    pairs = [
        # chosen 4/4 (paris is the capital) vs rejected 1/3 (london, is? no: "london is big" -> is): 1/3
        Pair(id="0", prompt=prompt, chosen="Paris is the capital", rejected="London is big", method="t"),
        # chosen 1/2 (capital) vs rejected 2/2 (of france): rejected has the higher share
        Pair(id="1", prompt=prompt, chosen="capital Lyon", rejected="of France", method="t"),
        # a tie (both 1/1) counts half
        Pair(id="2", prompt=[{"role": "user", "content": "Tell me about bees."}], chosen="bees", rejected="Bees",
             method="t", conversational=True),
    ]
    report = evaluate_scores(pairs, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], n_boot=100)
    assert report.baselines["overlap"] is not None
    assert report.baselines["overlap"].accuracy == pytest.approx((1 + 0 + 0.5) / 3)
    assert report.to_dict()["baselines"]["overlap"]["n"] == 3
    assert "baseline: word overlap" in format_table(report)
    # the README promises `shorter` in every evaluation: the terminal table prints it (1 - longer)
    shorter_line = next(line for line in format_table(report).splitlines() if "shorter response" in line)
    assert float(shorter_line.split()[3]) == pytest.approx(1 - report.baselines["longer"].accuracy, abs=1e-3)


# --- evidence selection -----------------------------------------------------------------------


FILLERS = [f"Filler sentence number {i} talks about weather and markets." for i in range(30)]


def test_evidence_keeps_best_matching_sentence_head_and_question():
    needle = "The Zambezi river flows through Zambia and Mozambique."
    body = " ".join(FILLERS[:17] + [needle] + FILLERS[17:])
    prompt = f"Answer the question using the passages.\n\nPassages:\n{body}\n\nQuestion: where does it flow?"
    response = "It flows through Zambia and Mozambique, the Zambezi river does."
    out = select_evidence(prompt, response, 40, words_count)
    assert isinstance(out, str)
    assert out.startswith("Answer the question using the passages.")
    assert out.endswith("Question: where does it flow?")
    assert needle in out and words_count(out) <= 40 + 4
    assert sum(f in out for f in FILLERS) < len(FILLERS) // 2
    # each response gets its own evidence: another response finds another sentence
    other = select_evidence(prompt, "Filler sentence number 29 says so.", 30, words_count)
    assert FILLERS[29] in other and needle not in other


def test_evidence_keeps_document_order_and_leaves_short_prompts_alone():
    a, b = "Alpha beta gamma delta.", "Epsilon zeta eta theta."
    prompt = "Head.\n\n" + " ".join([a, *FILLERS[:10], b]) + "\n\nQuestion?"
    out = select_evidence(prompt, "theta alpha zeta beta", 20, words_count)
    assert isinstance(out, str) and out.index(a) < out.index(b)
    assert select_evidence("Short prompt.", "anything", 20, words_count) == "Short prompt."


def test_evidence_of_a_conversation_keeps_system_head_and_latest_turns():
    turns = [{"role": "system", "content": "Be brief."}]
    for i in range(10):
        turns.append({"role": "user", "content": f"Question {i} about topic {i} in some words here."})
        turns.append({"role": "assistant", "content": f"Answer {i} about topic {i} in some words here."})
    turns.append({"role": "user", "content": "And the last one?"})
    out = select_evidence(turns, "a reply", 40, words_count)
    assert isinstance(out, list)
    assert out[0] == turns[0] and out[-1] == turns[-1]
    kept = out[1:-1]
    assert kept and kept == turns[len(turns) - 1 - len(kept) : -1]  # the latest turns, in order
    assert {"role": "user", "content": "Question 0 about topic 0 in some words here."} not in out


# --- the validation split ---------------------------------------------------------------------


def test_validation_split_is_disjoint_from_test_and_training_questions():
    from rmboost.data.qa_feedback import load_questions, pairs

    train = pairs(load_questions(QA_FEEDBACK, "train"))
    test = pairs(load_questions(QA_FEEDBACK, "test"))
    fit, held = split_by_question(train, 0.2)
    assert len(fit) + len(held) == len(train) and 0.1 < len(held) / len(train) < 0.3
    held_q = {p.extra["question_id"] for p in held}
    assert held_q.isdisjoint(p.extra["question_id"] for p in fit)
    assert held_q.isdisjoint(p.extra["question_id"] for p in test)
    assert {p.prompt for p in held}.isdisjoint(p.prompt for p in test)
    assert split_by_question(list(reversed(train)), 0.2)[1] == list(reversed(held))  # order-free


def test_pairs_without_question_id_are_grouped_by_prompt():
    train, _ = train_and_test()
    fit, held = split_by_question(train, 0.3)
    assert held and fit
    assert {question_key(p) for p in held}.isdisjoint(question_key(p) for p in fit)
    assert {str(p.prompt) for p in held}.isdisjoint(str(p.prompt) for p in fit)
    assert split_by_question(train[:4], 0.0) == (train[:4], [])


# --- the training loop ------------------------------------------------------------------------


def test_stale_counts_evaluations_without_gain():
    rows = [{"val_accuracy": v} for v in (0.5, 0.7, 0.6, 0.7)]
    assert not _stale(rows, 3) and _stale(rows, 2) and not _stale(rows[:2], 1)


def test_loop_keeps_the_best_validation_step_and_stops_early():
    train, _ = train_and_test()
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    x = torch.randn(len(train), 3)
    scripted = iter([0.5, 0.9, 0.6, 0.6, 0.6, 0.6])
    seen: list[tuple[int, torch.Tensor]] = []

    def validate() -> float:
        seen.append(net.weight.detach().clone())
        return next(scripted)

    calls: list[tuple[int, int, float, float | None]] = []
    cfg = LoopSettings(epochs=20, lr=0.1, batch_size=8, weight_decay=0.0, warmup_ratio=0.0,
                       evals_per_epoch=1, patience=3, seed=0)
    curve = train_loop(list(net.parameters()), train, lambda idx: net(x[idx]).mean(), cfg, net, validate,
                       lambda *a: calls.append(a))
    assert [row["val_accuracy"] for row in curve] == [0.5, 0.9, 0.6, 0.6, 0.6]  # stopped after 3 stale
    assert torch.equal(net.weight, seen[1])  # the weights of the best step are back
    assert [c[0] for c in calls] == [row["step"] for row in curve] and all(c[3] is not None for c in calls)
    assert len(question_groups(train)) == len({str(p.prompt) for p in train})


def test_a_trained_model_writes_its_curve(tmp_path):
    from rmboost.io.rows import read_rows
    from rmboost.rm.train import train_reward_model

    train, test = train_and_test()
    shown: list[tuple[int, int, float, float | None]] = []
    model = train_reward_model(train, "embed-linear", 0, on_progress=lambda *a: shown.append(a), epochs=5)
    model.save(tmp_path / "rm")
    rows = [row for _, row in read_rows(tmp_path / "rm" / CURVE_FILE)]
    assert len(rows) == len(shown) == 5  # one evaluation per epoch
    assert [r["step"] for r in rows] == [s[0] for s in shown]
    for row, (_, total, loss, val) in zip(rows, shown, strict=True):
        assert row["loss"] == pytest.approx(loss, abs=1e-4) and row["val_accuracy"] == val
        assert 0.0 <= row["val_accuracy"] <= 1.0 and total == rows[-1]["step"]
    assert GOOD  # the toy task is the one shared with the other RM tests


def test_toy_task_is_not_separated_by_length():
    from rm_toy_task import TOPICS, toy_pairs

    train, test = train_and_test()
    for pairs in (train, test, toy_pairs(TOPICS[:4], conversational=True), toy_pairs(TOPICS[12:])):
        report = evaluate_scores(pairs, [1.0] * len(pairs), [0.0] * len(pairs), n_boot=10)
        assert report.baselines["longer"] is not None and report.baselines["longer"].accuracy == 0.5
