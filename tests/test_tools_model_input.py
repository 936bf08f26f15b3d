"""Finding 1 of issue 33: a model is scored on what it was trained on. One rule
(`prompts/model_input.py`) makes a prompt row (question, `context`, chat messages) the model's input
for generation, scoring and reranking. The oracles are independent of that rule: the data sets' own
pair builders (`qa_feedback.pairs`, `tldr.vote`, which lay a question out with `Task.render_user`)
and the experiment's evaluation (`yardsticks.score_all`, scoring the same pairs with the model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import QA_FEEDBACK, read_jsonl, write_jsonl
from rmboost.cli import main
from rmboost.data import qa_feedback, tldr
from rmboost.errors import InputError
from rmboost.experiment.yardsticks import score_all
from rmboost.io.rows import SkipCounter
from rmboost.prompts.model_input import model_input, row_input
from rmboost.rm.base import RewardModel

FIXTURES = Path(__file__).parent / "fixtures"
QA = QA_FEEDBACK
TLDR = FIXTURES / "tldr_comparisons.jsonl"


@pytest.fixture(scope="module")
def qa_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `features` model trained by the CLI on QA-Feedback's human pairs (prompts with passages)."""
    d = tmp_path_factory.mktemp("qa")
    pairs = d / "pairs.jsonl"
    assert main(["data", "qa-feedback", str(QA), "--split", "train", "--as", "pairs", "--output", str(pairs),
                 "-q"]) == 0
    assert main(["train", "--data", str(pairs), "--rm", "features", "--output", str(d / "rm"), "-q"]) == 0
    return d / "rm"


def test_score_of_a_qa_pair_file_equals_the_experiments_evaluation(qa_model: Path, tmp_path: Path) -> None:
    pairs_file = tmp_path / "test_pairs.jsonl"
    assert main(["data", "qa-feedback", str(QA), "--split", "test", "--as", "pairs", "--output", str(pairs_file),
                 "-q"]) == 0
    scored = tmp_path / "scored.jsonl"
    assert main(["score", "--rm", str(qa_model), "--input", str(pairs_file), "--output", str(scored), "-q"]) == 0
    # The experiment scores its human-pairs yardstick, QA-Feedback's pairs, with the saved model.
    questions = qa_feedback.load_questions(QA, "test")
    yardstick = qa_feedback.pairs(questions)
    model = RewardModel.load(qa_model)
    chosen, rejected = model.score_pairs(yardstick)
    rows = read_jsonl(scored)
    assert [r["id"] for r in rows] == [p.id for p in yardstick]
    assert [r["reward_chosen"] for r in rows] == pytest.approx(chosen, abs=1e-9)
    assert [r["reward_rejected"] for r in rows] == pytest.approx(rejected, abs=1e-9)
    # ... and the accuracy the experiment reports is the one the scored file gives.
    report, wins = score_all(model, {"human-pairs": yardstick}, 10, 0)
    file_accuracy = sum(1.0 if r["margin"] > 0 else 0.5 if r["margin"] == 0 else 0.0 for r in rows) / len(rows)
    assert report["human-pairs"]["accuracy"] == pytest.approx(file_accuracy)


def test_score_and_rerank_of_qa_prompt_rows_see_the_passages(qa_model: Path, tmp_path: Path) -> None:
    """`data qa-feedback --as prompts` rows (question and passages apart) get the rewards their
    responses get inside the pairs, whose prompt holds the passages."""
    prompts = tmp_path / "prompts.jsonl"
    assert main(["data", "qa-feedback", str(QA), "--split", "test", "--as", "prompts", "--with-responses", "all",
                 "--output", str(prompts), "-q"]) == 0
    questions = qa_feedback.load_questions(QA, "test")
    model = RewardModel.load(qa_model)
    by_text = {}
    for p in qa_feedback.pairs(questions):
        c, r = model.score_pairs([p])
        by_text[(p.extra["question_id"], p.chosen)] = c[0]
        by_text[(p.extra["question_id"], p.rejected)] = r[0]
    ranked = tmp_path / "ranked.jsonl"
    assert main(["rerank", "--rm", str(qa_model), "--input", str(prompts), "--output", str(ranked), "-q"]) == 0
    checked = 0
    for row in read_jsonl(ranked):
        for text, reward in zip(row["responses"], row["rewards"], strict=True):
            if (row["id"], text) in by_text:
                assert reward == pytest.approx(by_text[(row["id"], text)], abs=1e-9)
                checked += 1
    assert checked >= 10
    # One response per row, as `score` reads (prompt, response) rows.
    singles = [{"id": r["id"], "prompt": r["prompt"], "context": r["context"], "task": r["task"],
                "response": r["responses"][0]} for r in read_jsonl(prompts)]
    scored = tmp_path / "scored.jsonl"
    assert main(["score", "--rm", str(qa_model), "--input", str(write_jsonl(tmp_path / "rows.jsonl", singles)),
                 "--output", str(scored), "-q"]) == 0
    hits = [(r["id"], r["response"]) for r in read_jsonl(scored) if (r["id"], r["response"]) in by_text]
    assert len(hits) >= 3
    for r in read_jsonl(scored):
        if (r["id"], r["response"]) in by_text:
            assert r["reward"] == pytest.approx(by_text[(r["id"], r["response"])], abs=1e-9)


def test_rerank_pairs_keep_the_passages_in_the_prompt_and_drop_the_record_columns(qa_model: Path,
                                                                                  tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    assert main(["data", "qa-feedback", str(QA), "--split", "test", "--as", "prompts", "--with-responses", "all",
                 "--output", str(prompts), "-q"]) == 0
    out = tmp_path / "ranked_pairs.jsonl"
    assert main(["rerank", "--rm", str(qa_model), "--input", str(prompts), "--output", str(out), "--pairs",
                 "-q"]) == 0
    human = qa_feedback.pairs(qa_feedback.load_questions(QA, "test"))
    human_prompts = {p.extra["question_id"]: p.prompt for p in human}
    rows = read_jsonl(out)
    assert rows
    assert sum(row["id"] in human_prompts for row in rows) > len(rows) // 2
    for row in rows:
        if row["id"] in human_prompts:  # a question whose labels are all ties has no human pair
            assert row["prompt"] == human_prompts[row["id"]]  # the layout of the human pairs (and training)
        assert not {"context", "responses", "pairs", "human"} & set(row), sorted(row)
        assert row["task"] == "qa" and row["method"] == "rerank"


def test_tldr_prompt_rows_are_scored_as_the_tldr_pairs_lay_them_out(tmp_path: Path) -> None:
    counter = SkipCounter()
    comparisons = tldr.load_comparisons([TLDR], "all", counter)
    pairs = tldr.vote(comparisons, SkipCounter())
    train = tmp_path / "tldr_pairs.jsonl"
    assert main(["data", "tldr", str(TLDR), "--as", "pairs", "--output", str(train), "-q"]) == 0
    assert main(["train", "--data", str(train), "--rm", "features", "--output", str(tmp_path / "rm"),
                 "--validation-fraction", "0", "-q"]) == 0
    model = RewardModel.load(tmp_path / "rm")
    prompts = tmp_path / "prompts.jsonl"
    assert main(["data", "tldr", str(TLDR), "--as", "prompts", "--with-responses", "all", "--output", str(prompts),
                 "-q"]) == 0
    ranked = tmp_path / "ranked.jsonl"
    assert main(["rerank", "--rm", str(tmp_path / "rm"), "--input", str(prompts), "--output", str(ranked),
                 "-q"]) == 0
    rows = {r["id"]: r for r in read_jsonl(ranked)}
    for p in pairs:
        row = rows[p.extra["question_id"]]
        expected = model.score([p.prompt, p.prompt], [p.chosen, p.rejected])
        got = [row["rewards"][row["responses"].index(t)] for t in (p.chosen, p.rejected)]
        assert got == pytest.approx(expected, abs=1e-9)


def test_generated_pairs_store_the_rule_s_input_for_every_method(tmp_path: Path) -> None:
    """What a method shows the policy and keeps as the pair's `prompt` is `model_input` of the row."""
    rows = [{"id": "s1", "prompt": "Summarise it in one line.", "context": "A post about a lost cat found.",
             "task": "summarization", "responses": ["The cat came home.", "A post."]},
            {"id": "c1", "prompt": [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "What is in the passage?"}],
             "context": "The passage speaks of rivers.", "task": "chat", "responses": ["Rivers.", "Cats."]}]
    for method in ("rmboost", "rlaif", "west-of-n", "rlcd"):
        inp = write_jsonl(tmp_path / f"{method}_{'x'}.jsonl",
                          [{k: v for k, v in r.items() if method != "rlcd" or k != "responses"} for r in rows])
        for task in ("summarization", "chat"):
            one = tmp_path / f"{method}_{task}.jsonl"
            write_jsonl(one, [r for r in read_jsonl(inp) if r["task"] == task])
            out = tmp_path / f"{method}_{task}_pairs.jsonl"
            assert main(["generate", "--backend", "fake", "--method", method, "--task", task, "--input", str(one),
                         "--output", str(out), "-q"]) == 0, method
            made = read_jsonl(out)
            assert made, (method, task)
            record = read_jsonl(one)[0]
            for pair in made:
                assert pair["prompt"] == model_input(record["prompt"], record["context"], task), (method, task)


def test_the_rule_itself() -> None:
    conversation = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
                    {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]
    # No context, no task: the prompt is already the input.
    assert model_input("Just this.") == "Just this."
    assert model_input(conversation) == conversation
    # Context: laid out by the task (qa by default), the question last; a conversation keeps its turns.
    qa = model_input("Who?", "P1 says Ann.")
    assert qa.startswith("Answer the question") and qa.index("P1 says Ann.") < qa.rindex("Who?")
    chat = model_input(conversation, "CTX", "chat")
    assert isinstance(chat, list) and [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert chat[:3] == conversation[:3] and chat[3]["content"] == "CTX\n\nQ2"
    # A row: a list of passages is joined; an unknown task names the file, line and field.
    assert row_input({"context": ["P1", "P2"], "task": "chat"}, "Q", "f.jsonl", 3) == "P1\n\nP2\n\nQ"
    with pytest.raises(InputError, match=r"f.jsonl:4: field 'task'.*qa"):
        row_input({"task": "poetry"}, "Q", "f.jsonl", 4)
