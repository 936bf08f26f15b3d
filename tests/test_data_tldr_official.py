"""The TL;DR loader on the shapes of the official `comparisons/` folder, from a hand-made folder
(`fixtures/tldr_folder/`): a Reddit batch with confidences 1-9 and `extra` absent or `{}`
(`batch3.json`, 14 lines), CNN/DM rows with empty summaries and one without `info.id`
(`cnndm1.json`, 3 lines), and evaluation rows without `info.id`, `subreddit` already `r/...`, texts
without the leading space and `note` a string, empty or null (`edit_b2_eval_test.json`, 4 lines),
beside a file that is not a comparison file (`README.txt`). Every expected number is a hand count of
those lines, written in the comments."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import read_jsonl
from rmboost.cli import main
from rmboost.data.tldr import MERGED, load_comparisons, read_comparisons, vote
from rmboost.data.tldr_rows import AGAINST, BAD_CONFIDENCE, CNNDM, NO_CONFIDENCE, NO_ID, OTHER_SPLIT, STRIPPED
from rmboost.errors import InputError, UsageError, UserError
from rmboost.io.rows import SkipCounter

FOLDER = Path(__file__).parent / "fixtures" / "tldr_folder"
BATCH, NEWS, EDIT = FOLDER / "batch3.json", FOLDER / "cnndm1.json", FOLDER / "edit_b2_eval_test.json"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_pair(pairs: list) -> dict:
    """Each pair by (post id, the first 3 characters of its chosen and rejected summaries)."""
    return {(p.extra["question_id"], p.chosen[:3], p.rejected[:3]): p for p in pairs}


def test_the_folder_loads_as_it_is_and_every_line_is_counted() -> None:
    counter = SkipCounter()
    pairs = vote(load_comparisons(FOLDER, "all", counter), counter)
    # batch3: 14 lines in 11 groups (a1: lines 1+2, a2: lines 3-5 merged) -> 11 pairs, 3 merged;
    # cnndm1: 3 news rows; edit_b2: 4 lines, 4 pairs. 21 lines = 15 pairs + 3 merged + 3 CNN/DM.
    assert len(pairs) == 15 and counter.left_out == {MERGED: 3, CNNDM: 3} and counter.skipped == 0
    assert len(pairs) + sum(counter.left_out.values()) == 21
    # 14 batch3 lines x 2 texts start with a space; edit_b2's texts do not. The 4 edit_b2 rows have
    # no usable info.id (absent, absent, null, ""). Confidence: absent on lines 7 (batch3) and 2
    # (edit_b2), {} on batch3 line 9; 6 with choice 0 on batch3 line 11; 5 on batch3 line 13.
    assert counter.notes == {STRIPPED: 28, NO_ID: 4, NO_CONFIDENCE: 3, AGAINST: 1, BAD_CONFIDENCE: 1}


def test_rows_without_an_id_get_one_from_the_post_text() -> None:
    comparisons = load_comparisons(EDIT)
    edit = rows(EDIT)
    # The documented rule, written out again: "text-" and 16 hex digits of SHA-256 of the JSON of
    # {"context": null, "prompt": the stripped post}.
    def made(post: str) -> str:
        blob = json.dumps({"context": None, "prompt": post.strip()}, sort_keys=True, ensure_ascii=False)
        return "text-" + hashlib.sha256(blob.encode()).hexdigest()[:16]

    assert [c.post_id for c in comparisons] == [made(r["info"]["post"]) for r in edit]
    assert comparisons[0].post_id == comparisons[1].post_id  # lines 1 and 2: one post, two pairs
    assert comparisons[0].post_id != comparisons[2].post_id
    assert comparisons[0].post_id == load_comparisons(EDIT)[0].post_id  # stable across reads


def test_subreddit_with_or_without_r_and_texts_with_or_without_space() -> None:
    comparisons = {c.context.split("\n")[0] for c in load_comparisons(FOLDER)}
    assert comparisons == {"SUBREDDIT: r/relationships", "SUBREDDIT: r/legaladvice", "SUBREDDIT: r/running",
                           "SUBREDDIT: r/cats", "SUBREDDIT: r/MechanicAdvice", "SUBREDDIT: r/tifu",
                           "SUBREDDIT: r/AskWomen"}
    edit = rows(EDIT)
    first = load_comparisons(EDIT)[0]
    assert first.summaries == (edit[0]["summaries"][0]["text"], edit[0]["summaries"][1]["text"])
    batch = rows(BATCH)
    assert load_comparisons(BATCH)[0].summaries[0] == batch[0]["summaries"][0]["text"][1:]


def test_each_pair_records_the_strength_of_the_preference() -> None:
    pairs = by_pair(vote(load_comparisons(FOLDER)))
    # a1: line 1 confidence 1 (summary 0 = a1x, strength 4), line 2 lists (a1y, a1x) with 7 (summary 1 =
    # a1x, strength 2): both for a1x -> mean 3.0.
    assert pairs[("tldr-t3_a1", "off", "job")].extra["strength"] == 3.0
    # a2: lines 3 (9: a2y, 4), 4 (4: a2x, 1), 5 (6: a2y, 1): a2y wins 2:1, strength (4 - 1 + 1) / 3.
    a2 = pairs[("tldr-t3_a2", "lan", "lan")]
    assert a2.extra["votes"] == [2, 1] and a2.extra["strength"] == pytest.approx(4 / 3, abs=1e-4)
    assert pairs[("tldr-t3_a3", "run", "run")].extra["strength"] == 2  # line 6: confidence 3
    assert pairs[("tldr-t3_a3", "I r", "run")].extra["strength"] is None  # line 7: no extra
    assert pairs[("tldr-t3_a4", "roo", "roo")].extra["strength"] == 3  # line 8: confidence 2
    assert pairs[("tldr-t3_a4", "my ", "roo")].extra["strength"] is None  # line 9: extra {}
    assert pairs[("tldr-t3_a5", "cat", "ado")].extra["strength"] == 3  # line 10: confidence 8
    assert pairs[("tldr-t3_a5", "cat", "new")].extra["strength"] is None  # line 11: 6 against choice 0
    assert pairs[("tldr-t3_a7", "wen", "loc")].extra["strength"] == 4  # line 14: confidence 9
    every = vote(load_comparisons(FOLDER))  # (a6's valid1 and valid2 pairs share a key of by_pair)
    strengths = sorted(p.extra["strength"] for p in every if p.extra["strength"] is not None)
    # + line 12 (valid1, 1: 4); line 13 (5) none; edit_b2 lines 1 (2: 3), 3 (3: 2), 4 (7: 2); line 2 none.
    assert strengths == pytest.approx([4 / 3, 2, 2, 2, 3, 3, 3, 3, 4, 4], abs=1e-4)


def test_lines_of_other_splits_are_counted_once_and_not_checked(tmp_path: Path) -> None:
    bad = tmp_path / "mixed.json"
    lines = rows(BATCH)[:2]  # two train lines
    broken = {**rows(BATCH)[7], "choice": 7}  # a valid2 line with a bad choice
    bad.write_text("\n".join(json.dumps(r) for r in [*lines, broken]) + "\n")
    counter = SkipCounter()
    assert len(load_comparisons(bad, "train", counter)) == 2 and counter.left_out == {OTHER_SPLIT: 1}
    with pytest.raises(InputError) as e:  # its own split reads it: file, line, field
        load_comparisons(bad, "valid2")
    assert (e.value.source, e.value.line, e.value.field) == (str(bad), 3, "choice")
    counts = []
    for split in ("train", "valid1", "valid2"):
        counter = SkipCounter("skip")
        kept = load_comparisons(bad, split, counter)  # type: ignore[arg-type]
        counts.append((len(kept), counter.skipped, counter.left_out.get(OTHER_SPLIT, 0)))
    assert counts == [(2, 0, 1), (0, 0, 3), (0, 1, 2)]  # the malformed line is skipped in one run only


def test_news_rows_are_left_out_before_any_text_check() -> None:
    counter = SkipCounter()
    assert load_comparisons(NEWS, "all", counter) == [] and counter.left_out == {CNNDM: 3}
    assert counter.skipped == 0 and NO_ID not in counter.notes  # line 3 has no id: not read that far


def test_a_file_given_twice_is_refused_and_a_folder_reads_its_json_files(tmp_path: Path) -> None:
    for given in ([BATCH, BATCH], [FOLDER, BATCH], [BATCH, FOLDER / ".." / "tldr_folder" / "batch3.json"]):
        with pytest.raises(UsageError, match="given twice"):
            load_comparisons(given)
    assert read_comparisons(FOLDER).held.keys() == {str(BATCH), str(NEWS), str(EDIT)}  # not README.txt
    assert len(load_comparisons(str(FOLDER / "*.json"))) == len(load_comparisons([BATCH, NEWS, EDIT]))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no comparison files"):
        load_comparisons(empty)
    with pytest.raises(UserError, match="no comparison file matches"):
        load_comparisons(str(tmp_path / "*.json"))


def test_cli_reads_a_folder_and_names_the_splits_a_file_holds(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pairs.jsonl"
    assert main(["data", "tldr", str(FOLDER), "--split", "train", "--output", str(out)]) == 0
    err = capsys.readouterr().err
    # train lines: batch3 1-7 (a1, a2 merged; a3 twice) and edit_b2 line 4: 5 pairs, 3 merged; the
    # other 13 lines (batch3 7, cnndm1 3, edit_b2 3) are other splits: 5 + 3 + 13 = 21.
    assert len(read_jsonl(out)) == 5
    assert f"left out 13: {OTHER_SPLIT}" in err and f"left out 3: {MERGED}" in err
    assert f"1 {NO_ID}" in err and f"1 {NO_CONFIDENCE}" in err
    # cnndm1 holds valid2 (lines 1-2) and valid1 (line 3), no train line: exit 2, nothing written.
    assert main(["data", "tldr", str(NEWS), "--split", "train", "--output", str(tmp_path / "none.jsonl")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"{NEWS}: valid2 2, valid1 1" in lines[0]
    assert "--split valid1 or valid2 or all" in lines[0]
    assert not (tmp_path / "none.jsonl").exists()
    assert main(["data", "tldr", str(FOLDER), str(EDIT), "--output", str(tmp_path / "twice.jsonl")]) == 2
    assert "given twice" in capsys.readouterr().err


def test_official_files_elsewhere_load_with_the_same_rules(tmp_path: Path) -> None:
    """A copy of the folder under other names (as the official files are named) reads the same."""
    copy = tmp_path / "comparisons"
    shutil.copytree(FOLDER, copy)
    (copy / "batch3.json").rename(copy / "batch22.json")
    counter = SkipCounter()
    assert len(vote(load_comparisons(copy, "all", counter), counter)) == 15
    assert counter.left_out == {MERGED: 3, CNNDM: 3}


def test_prompt_records_carry_each_compared_pair_and_its_vote() -> None:
    from rmboost.data.tldr import prompt_records

    records = {r["id"]: r for r in prompt_records(load_comparisons(BATCH, "train"), "all")}
    # a1: line 1 picks a1x (listed first), line 2 lists (a1y, a1x) and picks a1x: label 1 (the first).
    a1 = records["tldr-t3_a1"]
    assert a1["responses"][0].startswith("offered") and a1["pairs"] == [[0, 1]] and a1["human"] == [1]
    # a2: a2y (the second) by 2 votes to 1; a3: line 6 picks a3x over a3y (1), line 7 a3z over a3x (2).
    assert records["tldr-t3_a2"]["human"] == [2]
    assert records["tldr-t3_a3"]["pairs"] == [[0, 1], [0, 2]] and records["tldr-t3_a3"]["human"] == [1, 2]
