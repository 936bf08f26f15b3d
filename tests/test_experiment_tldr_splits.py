"""The experiment's TL;DR data options (`data.train_split`, `data.test_split`, `data.split_by: post`,
`data.path` as a list or a glob) and the confident-label yardstick, on a hand-made pair of files in
the shape of the official batch13/batch18 (no `train` row; `fixtures/tldr_splits/`, 17 + 9 lines,
posts t3_sp01-t3_sp10; t3_sp01 is in both files; line 17 of batch13 repeats t3_sp06's first
comparison). Which side each post is on is the documented rule written out again (`side`); the
sizes are hand counts of the files, written in the comments."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import read_jsonl
from rmboost.cli import main
from rmboost.errors import UserError
from rmboost.experiment.config import load_config
from rmboost.experiment.dataset import prepare

FIX = Path(__file__).parent / "fixtures" / "tldr_splits"
FILES = [str(FIX / "batch13.json"), str(FIX / "batch18.json")]
TRAIN_POSTS = {"t3_sp01", "t3_sp04", "t3_sp06", "t3_sp08", "t3_sp09", "t3_sp10"}
TEST_POSTS = {"t3_sp02", "t3_sp03", "t3_sp05", "t3_sp07"}


def side(post_id: str) -> str:
    """The documented split rule, written out again: the parity of sha256('split:' + post id)."""
    return "train" if int(hashlib.sha256(("split:" + post_id).encode()).hexdigest()[:8], 16) % 2 == 0 else "test"


def config(tmp_path: Path, data: str, extra: str = "") -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(f"data: {{format: tldr, {data}}}\ntrain_prompts: null\nmethods: []\ntrain_sets: [real]\n"
                    f"reward_models: [embed-linear]\nembeddings: false\n{extra}")
    return path


def prepared(tmp_path: Path, data: str, extra: str = "") -> tuple[dict, dict]:
    p = prepare(load_config(config(tmp_path, data, extra)), tmp_path / "out")
    return p.info, p.yardsticks


def posts(pairs: list) -> set[str]:
    return {p.extra["question_id"].removeprefix("tldr-") for p in pairs}


def test_the_fixture_posts_are_where_the_rule_puts_them() -> None:
    assert {p for p in TRAIN_POSTS | TEST_POSTS if side(p) == "train"} == TRAIN_POSTS


def test_split_by_post_over_every_split_of_two_files(tmp_path: Path) -> None:
    info, yardsticks = prepared(tmp_path, f"path: {FILES}, train_split: all, test_split: all, split_by: post")
    # Training posts: sp01 (3 lines in batch13, 1 in batch18), sp04 (3), sp06 (2 + a repeat), sp08,
    # sp09, sp10 (2 each): 16 comparisons, 15 pairs, 1 merged. Test posts: sp02, sp03 (3 each), sp05,
    # sp07 (2 each): 10 pairs. 15 + 1 + 10 = 26 lines.
    assert (info["train_prompts"], info["real_pairs"], info["test_pairs"]) == (6, 15, 10)
    assert info["left_out"] == {"repeat comparison of the same two summaries (merged by majority vote)": 1}
    real = read_jsonl(tmp_path / "out" / "data" / "real_train.jsonl")
    assert {r["question_id"].removeprefix("tldr-") for r in real} == TRAIN_POSTS
    assert posts(yardsticks["human-pairs"]) == TEST_POSTS
    # Confident (strength >= 3): sp02's valid2 first (confidence 1) and valid1 (1), sp03's first (9),
    # sp05's two (2 and 8). sp07's (3, 7) and the others' (6, 4, 4) are weaker.
    confident = yardsticks["confident-human-pairs"]
    assert len(confident) == 5 and all(p.extra["strength"] >= 3 for p in confident)
    assert sorted(posts(confident)) == ["t3_sp02", "t3_sp03", "t3_sp05"]
    assert len(read_jsonl(tmp_path / "out" / "data" / "test_confident-human-pairs.jsonl")) == 5
    assert "each post on one side by a hash of its id" in info["split"]


def test_given_responses_draw_on_the_training_posts_compared_summaries(tmp_path: Path) -> None:
    path = config(tmp_path, f"path: {FILES}, train_split: all, test_split: all, split_by: post")
    path.write_text(path.read_text().replace("methods: []", "methods: [{name: rlaif-given, method: rlaif, "
                                                            "given_responses: true}]"))
    prepare(load_config(path), tmp_path / "out")
    pool = read_jsonl(tmp_path / "out" / "data" / "train_prompts_pool.jsonl")
    # The six training posts: sp01 compared 3 pairs, sp04 and sp06 3 (sp06's repeat is one pair), the
    # others 2. sp01's `responses` start with its long summary, which won its first two pairs (label 1:
    # the pair's first, by index); its third pair was compared in batch13's valid1 and again in
    # batch18's valid2, once for each summary: an even vote, 0.
    assert [r["id"] for r in pool] == sorted(f"tldr-{p}" for p in TRAIN_POSTS)
    assert [len(r["pairs"]) for r in pool] == [3, 3, 2, 2, 2, 2]
    assert pool[0]["human"] == [1, 1, 0] and all(set(r["human"]) <= {1, 2} for r in pool[1:])
    assert not (tmp_path / "out" / "data" / "train_corrections.jsonl").exists()  # TL;DR has none


def test_one_split_a_side_split_by_post_leaves_the_other_side_out(tmp_path: Path) -> None:
    info, yardsticks = prepared(tmp_path, f"path: '{FIX}/*.json', train_split: valid1, test_split: [valid2], "
                                          "split_by: post")
    # Training: the valid1 lines of training posts sp01, sp04. Test: the valid2 lines of test posts
    # sp02, sp03, sp05, sp07 (2 each). Left out: valid1 of test posts sp02, sp03 (2) and valid2 of
    # training posts sp01 (3), sp04 (2), sp06 (3), sp08-sp10 (6): 16. 2 + 8 + 16 = 26.
    assert (info["train_prompts"], info["real_pairs"], info["test_pairs"]) == (2, 2, 8)
    assert info["left_out"] == {"comparisons whose post the split by post puts on the side their split is not "
                                "chosen for": 16}
    assert len(yardsticks["confident-human-pairs"]) == 4  # sp02, sp03 first; sp05 both


def test_by_the_split_field_a_test_post_that_was_trained_on_is_left_out(tmp_path: Path) -> None:
    info, _ = prepared(tmp_path, f"path: {FILES}, train_split: valid1, test_split: valid2")
    # Training: the 4 valid1 lines (sp01-sp04). Test: valid2 lines of sp05-sp10 (2 + 3 + 8 = 13: 12
    # pairs, sp06's repeat merged); the 9 valid2 lines of sp01-sp04 are left out. 4 + 13 + 9 = 26.
    assert (info["train_prompts"], info["real_pairs"], info["test_pairs"]) == (4, 4, 12)
    assert info["left_out"] == {"test comparisons of a post that is also a training post": 9,
                                "repeat comparison of the same two summaries (merged by majority vote)": 1}


def test_no_training_comparison_names_the_files_and_the_splits_they_hold(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        prepared(tmp_path, f"path: {FILES}")  # the defaults: train and valid2; the files hold no train row
    message = str(e.value)
    assert e.value.exit_code == 2 and "\n" not in message
    assert message.startswith(f"{FILES[0]}, {FILES[1]}: field 'data.train_split'")
    assert f"{FILES[0]}: valid2 13, valid1 4; {FILES[1]}: valid2 9" in message and "data.split_by: post" in message


def test_without_confident_labels_the_yardstick_is_left_out_unless_asked_for(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures" / "tldr_experiment.jsonl"
    # Its valid2 confidences: absent, 5, or against the choice, but t3_ex0014's 7 (strength 2).
    _, yardsticks = prepared(tmp_path, f"path: {fixture}")
    assert list(yardsticks) == ["human-pairs"]
    with pytest.raises(UserError, match="no test pair has a confident human label"):
        prepared(tmp_path, f"path: {fixture}", "yardsticks: [human-pairs, confident-human-pairs]\n")


@pytest.mark.parametrize(("data", "expected"), [
    ("train_split: test", "field 'data.train_split': must be one of train, valid1, valid2, all"),
    ("test_split: [valid2, valid2]", "field 'data.test_split': must be one of"),
    ("split_by: question", "field 'data.split_by' must be post"),
    ("train_split: all", "field 'data.test_split': valid2 is also a training split"),
    (f"path: [{FILES[0]}, {FILES[0]}]", "given twice"),
    ("path: [7]", "field 'data.path' must be a file, folder or glob"),
    ("path: 'nowhere/*.json'", "field 'data.path': nowhere/*.json: no comparison file matches"),
    ("path: nowhere.json", "field 'data.path': no such file nowhere.json"),
])
def test_wrong_data_options_are_one_line_errors(tmp_path: Path, data: str, expected: str, capsys) -> None:
    section = data if data.startswith("path") else f"path: {FILES[0]}, {data}"
    code = main(["experiment", "--config", str(config(tmp_path, section)), "--output", str(tmp_path / "out")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert code == (3 if "no such" in expected or "matches" in expected else 2)
    assert not (tmp_path / "out").exists()


def test_split_options_are_for_tldr_only(tmp_path: Path) -> None:
    qa = Path(__file__).parent / "fixtures" / "qa_feedback_small.json"
    path = tmp_path / "qa.yaml"
    path.write_text(f"data: {{path: {qa}, split_by: post}}\nmethods: []\ntrain_sets: [real]\n")
    with pytest.raises(UserError, match="field 'data.split_by' applies to tldr data only") as e:
        load_config(path)
    assert e.value.exit_code == 2
    path.write_text(f"data: {{path: [{qa}]}}\nmethods: []\ntrain_sets: [real]\n")
    with pytest.raises(UserError, match="must be one file for qa-feedback data"):
        load_config(path)
