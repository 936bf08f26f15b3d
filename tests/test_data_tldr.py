"""The TL;DR comparisons loader on hand-made fixtures in the official format: every quirk of the real
files (repeats with opposite votes, texts with spaces around them, CNN/DM rows, absent `extra`, null
`note`) counted by its rule, malformed lines named or skipped, and the `rmboost data tldr` command.
The expected numbers are counted by hand from the fixtures (see the comments), not from the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_jsonl
from rmboost.cli import main
from rmboost.data.tldr import INSTRUCTION, MERGED, SAME_TEXT, TIED, load_comparisons, prompt_records, vote
from rmboost.data.tldr_rows import AGAINST, CNNDM, NO_CONFIDENCE, OTHER_SPLIT, STRIPPED
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter
from rmboost.prompts.tasks import load_task

FIX = Path(__file__).parent / "fixtures"
QUIRKS = FIX / "tldr_comparisons.jsonl"
BAD = FIX / "tldr_malformed.jsonl"
RAW = [json.loads(line) for line in QUIRKS.read_text().splitlines()]


def text(line: int, k: int) -> str:
    """Summary k of the fixture's line (1-based), as the rule keeps it: stripped."""
    return RAW[line - 1]["summaries"][k]["text"].strip()


def pairs_of(split: str) -> tuple[list, SkipCounter]:
    counter = SkipCounter()
    return vote(load_comparisons(QUIRKS, split, counter), counter), counter  # type: ignore[arg-type]


def test_every_line_is_a_pair_or_counted_by_its_rule() -> None:
    pairs, counter = pairs_of("all")
    # 17 lines: 7 pairs; lines 2 and 3 repeat line 1 and line 14 repeats line 13 (merged); lines 5+6
    # and 16+17 split 1:1 (tied); lines 8 and 15 are CNN/DM; line 9 compares one text with itself.
    assert len(pairs) == 7
    assert counter.left_out == {CNNDM: 2, SAME_TEXT: 1, MERGED: 3, TIED: 4}
    assert len(pairs) + sum(counter.left_out.values()) + counter.skipped == 17
    # Lines 1 and 2 have two texts with a leading space each, line 9 one, line 11 one (and a newline).
    # extra.confidence: absent on lines 4, 7 and 11; 6 (summary 1 preferred) with choice 0 on lines 2,
    # 3, 5, 9, 10, 12, 13 and 17; the CNN/DM lines 8 and 15 are not read that far.
    assert counter.notes == {STRIPPED: 6, NO_CONFIDENCE: 3, AGAINST: 8}


def test_majority_vote_picks_the_summary_most_workers_chose() -> None:
    pairs, _ = pairs_of("train")
    by_texts = {frozenset((p.chosen, p.rejected)): p for p in pairs}
    # Lines 1-3: S1b, S1b (listed first on line 2), S1a -> S1b by 2 votes to 1.
    p1 = by_texts[frozenset((text(1, 0), text(1, 1)))]
    assert (p1.chosen, p1.rejected) == (text(1, 1), text(1, 0))
    assert p1.extra["votes"] == [2, 1] and p1.extra["chosen_listed_first"] is False  # as line 1 lists them
    # Lines 5-6 split 1:1: no pair of S2a and S2b; line 7 prefers S2c.
    assert frozenset((text(5, 0), text(5, 1))) not in by_texts
    p2 = by_texts[frozenset((text(7, 0), text(7, 1)))]
    assert (p2.chosen, p2.rejected) == (text(7, 1), text(7, 0)) and p2.extra["votes"] == [1, 0]
    assert len(pairs) == 4 and {p.extra["split"] for p in pairs} == {"train"}


def test_splits_come_from_the_files_own_field() -> None:
    sizes = {}
    for split in ("train", "valid1", "valid2"):
        pairs, counter = pairs_of(split)
        sizes[split] = (len(pairs), dict(counter.left_out))
    # Every line is counted in every split's run: the lines of the other splits as such.
    assert sizes["train"] == (4, {OTHER_SPLIT: 7, CNNDM: 1, SAME_TEXT: 1, TIED: 2, MERGED: 2})  # lines 1-10
    assert sizes["valid2"] == (3, {OTHER_SPLIT: 12, CNNDM: 1, MERGED: 1})  # lines 11-15
    assert sizes["valid1"] == (0, {OTHER_SPLIT: 15, TIED: 2})  # lines 16-17


def test_pairs_carry_the_post_as_the_summarization_prompt() -> None:
    pairs, _ = pairs_of("valid2")
    info = RAW[10]["info"]
    context = f"SUBREDDIT: r/{info['subreddit']}\nTITLE: {info['title']}\nPOST: {info['post'].strip()}"
    first = pairs[0]  # line 11: S4b chosen
    assert first.prompt == load_task("summarization").render_user(INSTRUCTION, context)
    assert first.prompt.endswith(info["post"].strip()) and f"r/{info['subreddit']}" in first.prompt
    assert (first.chosen, first.rejected) == (text(11, 1), text(11, 0))
    assert not first.rejected.startswith(" ") and not first.rejected.endswith("\n")
    assert first.task == "summarization" and first.method == "human"
    assert first.extra["question_id"] == "tldr-t3_fx0004"
    assert len({p.id for p in pairs}) == len(pairs)


def test_prompt_records_one_per_post_with_the_compared_summaries() -> None:
    comparisons = load_comparisons(QUIRKS, "train")
    plain = prompt_records(comparisons)
    assert [r["id"] for r in plain] == ["tldr-t3_fx0001", "tldr-t3_fx0002", "tldr-t3_fx0003"]
    assert all(set(r) == {"id", "prompt", "context", "task"} for r in plain)
    full = prompt_records(comparisons, "all")
    assert full[0]["responses"] == [text(1, 0), text(1, 1), text(4, 1)]  # S1a, S1b, S1c
    assert full[0]["pairs"] == [[0, 1], [0, 2]]
    assert full[1]["responses"] == [text(5, 0), text(5, 1), text(7, 1)] and full[1]["pairs"] == [[0, 1], [0, 2]]
    assert full[2]["responses"] == [text(10, 0), text(10, 1)]  # line 9 (one text twice) adds nothing


def test_a_malformed_line_names_file_line_and_field() -> None:
    with pytest.raises(InputError) as e:
        load_comparisons(BAD)
    assert (e.value.line, e.value.field) == (2, "choice")  # `choice` missing
    counter = SkipCounter("skip")
    pairs = vote(load_comparisons(BAD, "all", counter), counter)
    # Lines 1 and 8 are good; 2-7, 9 and 10 are malformed (choice missing, 2, true; one summary; no
    # post; split "test"; cut-off JSON; a blank summary).
    assert len(pairs) == 2 and counter.skipped == 8
    fields = [err.split("field ")[1].split(" ")[0] if "field" in err else None for err in counter.first_errors]
    assert fields == ["'choice'", "'choice'", "'summaries'", "'info.post'", "'split'"]


def test_cli_writes_pairs_and_prompts_and_reports_the_counts(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pairs.jsonl"
    assert main(["data", "tldr", str(QUIRKS), "--split", "valid2", "--output", str(out)]) == 0
    err = capsys.readouterr().err
    rows = read_jsonl(out)
    assert len(rows) == 3 and all(set(r) >= {"prompt", "chosen", "rejected"} for r in rows)
    assert f"wrote 3 pairs (split valid2) to {out}" in err and f"left out 1: {CNNDM}" in err and f"1 {STRIPPED}" in err
    prompts = tmp_path / "prompts.jsonl"
    assert main(["data", "tldr", str(QUIRKS), str(BAD), "--split", "train", "--as", "prompts", "--with-responses",
                 "all", "--on-error", "skip", "--output", str(prompts)]) == 0
    err = capsys.readouterr().err
    records = read_jsonl(prompts)
    # three posts of the quirks file and line 1 of the malformed file. Of its 9 other lines, the valid2
    # lines 8-10 are another split (9 and 10 malformed, not read that far), counted with the quirks
    # file's 7 lines of other splits; the 6 others are skipped (line 6's split "test" is none of three).
    assert [r["id"] for r in records][-1] == "tldr-t3_bad01" and len(records) == 4
    assert f"left out 10: {OTHER_SPLIT}" in err and "skipped 6 malformed" in err


def test_cli_malformed_line_is_one_line_exit_3_and_wrong_options_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["data", "tldr", str(BAD), "--output", str(tmp_path / "x.jsonl")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rmboost: error: {BAD}:2: field 'choice'")
    assert main(["data", "tldr", str(QUIRKS), "--with-responses", "all", "--output", str(tmp_path / "y")]) == 2
    assert "--with-responses applies to --as prompts only" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()


def test_prompt_records_read_back_through_the_prompt_reader(tmp_path: Path) -> None:
    from rmboost.data.tldr import export
    from rmboost.io.prompts import read_prompts
    from rmboost.records import PromptRecord

    out = tmp_path / "prompts.jsonl"
    assert export(QUIRKS, out, "train", "prompts", with_responses="all") == 3
    records = list(read_prompts(out))
    assert all(isinstance(r, PromptRecord) for r in records)
    first = records[0]
    assert isinstance(first, PromptRecord) and first.task == "summarization" and first.prompt == INSTRUCTION
    assert first.context is not None and first.context.startswith("SUBREDDIT: r/relationships\nTITLE: ")
    assert first.responses == (text(1, 0), text(1, 1), text(4, 1)) and first.response_pairs == ((0, 1), (0, 2))
