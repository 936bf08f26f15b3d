"""The experiment's split rules: a data set cut into a training side (prompt records and their Real
pairs) and a test side, as `Sides`, for QA-Feedback and for any pair file (HH, TRL, UltraFeedback).

The rule is QA-Feedback's (`qa_feedback.split_of`: the parity of a hash of the text), applied to a
question, or to a pair's prompt's first user turn (the prompt itself when it is a plain string). So
every pair of a prompt, and every conversation that opens with the same user turn (an extended copy
of a conversation included), lands on one side: a conversation never straddles the split. A
`data.test_path` gives the test side instead. `train_prompts` keeps the first prompts by id and the
Real pairs of those prompts; a side left empty is a one-line `UserError`. TL;DR's rule (its file's
own `split` field) is `tldr_sides.py`'s; which format takes which rule is `formats.py`'s registry;
reading the rows is the loaders' job, and what a run does with the sides is the experiment's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from rmboost.data.qa_feedback import QAFeedbackQuestion, load_questions, pairs, split_of
from rmboost.data.qa_feedback import prompt_records as question_records
from rmboost.errors import UserError
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair, Prompt, stable_id


class DataSection(Protocol):
    """What a split rule reads of an experiment config's `data:` section (`experiment/config.py`)."""

    format: str
    path: str | list[str]
    test_path: str | None
    train_split: str | list[str] | None
    test_split: str | list[str] | None
    split_by: str | None

    @property
    def file(self) -> str: ...


@dataclass
class Sides:
    """A data set cut for the experiment: the training prompt records kept, their Real pairs, the test
    pairs, how many training prompts there were, the split rule in words, and what only some data
    sets give: the training prompts with the responses people compared and their labels (`pool`,
    TL;DR), and the training questions (QA-Feedback: its predictions and corrections)."""

    records: list[dict[str, Any]]
    real: list[Pair]
    test: list[Pair]
    available_prompts: int
    split: str
    pool: list[dict[str, Any]] | None = None
    questions: list[QAFeedbackQuestion] | None = None


# A split rule: (the `data:` section, `train_prompts`, the task, the counter) -> the sides.
SideRule = Callable[[DataSection, int | None, str, SkipCounter], Sides]


def split_text(prompt: Prompt) -> str:
    """The text the split hashes: a plain prompt, or a conversation's first user turn."""
    if isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if m.get("role") == "user"]
    return users[0] if users else str(prompt)


def split_pairs(pairs: Sequence[Pair], side: Literal["train", "test"]) -> list[Pair]:
    """The pairs whose prompt falls on `side` of the split."""
    return [p for p in pairs if split_of(split_text(p.prompt)) == side]


def prompt_id(prompt: Prompt) -> str:
    return "p-" + stable_id(prompt)


def prompt_records(pairs: Sequence[Pair], task: str) -> list[dict[str, Any]]:
    """One prompt record per distinct prompt of `pairs`, in order of id: `{"id", "prompt", "task"}`.
    A conversational prompt stays a list of messages (the turns before the last reply)."""
    seen: dict[str, Prompt] = {}
    for p in pairs:
        seen.setdefault(prompt_id(p.prompt), p.prompt)
    return [{"id": i, "prompt": seen[i], "task": task} for i in sorted(seen)]


def pairs_of_prompts(pairs: Sequence[Pair], ids: set[str]) -> list[Pair]:
    """The pairs whose prompt is one of the prompt records `ids`."""
    return [p for p in pairs if prompt_id(p.prompt) in ids]


def check_sides(d: DataSection, train: int, test: int, what: str) -> None:
    """Refuse a split that leaves a side without `what` (questions, rows, pairs), naming the file."""
    if test == 0:
        where = f"{d.test_path}: field 'data.test_path'" if d.test_path else \
            f"{d.file}: the split by a hash of the prompt puts all {train} {what} on the training side"
        raise UserError(f"{where}: no test {what}; give data.test_path or more data")
    if train == 0:
        raise UserError(f"{d.file}: field 'data.path': no training {what} (the split puts all {test} on the test side)")


def question_sides(d: DataSection, train_prompts: int | None, task: str, counter: SkipCounter) -> Sides:
    """QA-Feedback's sides: its questions, split by a hash of the question (or `data.test_path`)."""
    if d.test_path:
        train_q, test_q = load_questions(d.file, "all", counter), load_questions(d.test_path, "all", counter)
        rule = "test pairs from data.test_path"
    else:
        train_q, test_q = load_questions(d.file, "train", counter), load_questions(d.file, "test", counter)
        rule = "split by a hash of the question"
    check_sides(d, len(train_q), len(test_q), "questions")
    kept = sorted(train_q, key=lambda q: q.id)[:train_prompts]
    return Sides(question_records(kept), pairs(kept), pairs(test_q), len(train_q), rule, questions=kept)


def pair_file_sides(d: DataSection, train_prompts: int | None, task: str, counter: SkipCounter, *,
                    load: Callable[[str | Path, SkipCounter], list[Pair]], rule: str, what: str) -> Sides:
    """A pair file's sides (read by `load`): split by a hash of each prompt (`rule` says how, in words),
    or the test pairs from `data.test_path`; the prompt records are made for `task`."""
    rows = load(d.file, counter)
    if d.test_path:
        train, test, rule = rows, load(d.test_path, counter), "test pairs from data.test_path"
    else:
        train, test = split_pairs(rows, "train"), split_pairs(rows, "test")
    check_sides(d, len(train), len(test), what)
    records = prompt_records(train, task)
    kept = records[:train_prompts]
    return Sides(kept, pairs_of_prompts(train, {r["id"] for r in kept}), test, len(records), rule)
