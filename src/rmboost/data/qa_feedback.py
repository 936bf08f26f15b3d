"""QA-Feedback (Wu et al. 2023; `dev_feedback.json`, see shared/data/qa_feedback/SOURCE.md) as prompt
records and as human-labelled preference pairs.

Each question has four predictions and six labels in the fixed order 1v2, 1v3, 1v4, 2v3, 2v4, 3v4
(1 = first preferred, 2 = second, 0 = tie). Ties are dropped. The train/test split is by question and
comes from a hash of the question text, so it is deterministic, disjoint, and independent of file
order. The fine-grained `feedback` (the human corrections) is `qa_corrections.py`'s, the loop over
a file's rows `row_loop.py`'s; the `gold` answer is not used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rmboost.data.row_loop import parsed_rows
from rmboost.errors import InputError, UsageError
from rmboost.io.row_kinds import expect_row
from rmboost.io.rows import SkipCounter, require_rows
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair

# The names of the two training sets made of the corrections: the known-good pairs and the same
# pairs flipped (the experiment's controls; reserved, so no method set can take them).
CONTROL_SETS = ("oracle-rewrite", "oracle-rewrite-flipped")

Split = Literal["train", "test", "all"]
COMPARISONS: tuple[tuple[int, int], ...] = ((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4))


@dataclass(frozen=True, slots=True)
class QAFeedbackQuestion:
    id: str
    question: str
    context: str
    predictions: tuple[str, ...]
    preference: tuple[int, ...]


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def question_id(question: str) -> str:
    """A stable id for a question (the file has none): a hash of its text."""
    return "qaf-" + _digest(question)[:12]


def split_of(question: str) -> Literal["train", "test"]:
    """Which side of the split a question is on: the parity of a hash of its text, so about half each."""
    return "train" if int(_digest("split:" + question.strip())[:8], 16) % 2 == 0 else "test"


def passages_text(passages: list[list[str]]) -> str:
    """Passages as text: one paragraph per passage, `Title: sentence sentence ...`. The first sentence
    often repeats the title followed by a blank line; that repeat is dropped."""
    paragraphs = []
    for title, *sentences in passages:
        title = title.strip()
        if sentences and sentences[0].startswith(title + "\n"):
            sentences = [sentences[0][len(title) :].strip(), *sentences[1:]]
        body = " ".join(s.strip() for s in sentences if s.strip())
        paragraphs.append(f"{title}: {body}" if body else title)
    return "\n\n".join(paragraphs)


def parse_question(row: Any, source: str, line: int) -> QAFeedbackQuestion:
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    # A swapped file (pairs, prompts, another data set) is named as what it is, not as a bad field.
    expect_row(row, ("qa-feedback", "unknown"), "rmboost data qa-feedback", source, line)
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(source, line, "question", "must be a non-empty string")
    passages = row.get("passages")
    if not isinstance(passages, list) or not all(
        isinstance(p, list) and p and all(isinstance(s, str) for s in p) for p in passages
    ):
        raise InputError(source, line, "passages", "must be a list of [title, sentence, ...] lists")
    predictions = []
    for k in range(1, 5):
        pred = row.get(f"prediction {k}")
        if not isinstance(pred, str) or not pred.strip():
            raise InputError(source, line, f"prediction {k}", "must be a non-empty string")
        predictions.append(pred.strip())
    pref = row.get("preference")
    if not isinstance(pref, list) or len(pref) != 6 or any(p not in (0, 1, 2) for p in pref):
        raise InputError(source, line, "preference", "must be a list of six labels, each 0, 1 or 2")
    return QAFeedbackQuestion(
        id=question_id(question),
        question=question.strip(),
        context=passages_text(passages),
        predictions=tuple(predictions),
        preference=tuple(int(p) for p in pref),
    )


def load_questions(
    path: str | Path, split: Split = "all", counter: SkipCounter | None = None
) -> list[QAFeedbackQuestion]:
    """Read `dev_feedback.json` (a JSON list, or JSONL with one question a line), keeping `split`."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown split {split!r}")
    require_rows(path, "questions")
    questions = parsed_rows(path, parse_question, counter)
    return [q for q in questions if split == "all" or split_of(q.question) == split]


def prompt_records(questions: list[QAFeedbackQuestion], with_response: int | None = None,
                   with_responses: bool = False) -> list[dict[str, Any]]:
    """Prompt records for generation: `{"id", "prompt": question, "context": passages, "task": "qa"}`;
    with `with_response=N`, also `"response"`: prediction N, for RMBoost to rewrite; with
    `with_responses`, all four predictions as `"responses"`, the six comparisons the humans labelled
    as `"pairs"` (0-based indices, 1v2 ... 3v4) and their labels as `"human"` (1: the first of the
    pair preferred, 2: the second, 0: a tie; generation ignores it, `rmboost agree` reads it)."""
    if with_response is not None and not 1 <= with_response <= 4:
        raise UsageError(f"--with-response must be 1, 2, 3 or 4 (a prediction's number), got {with_response}")
    if with_response is not None and with_responses:
        raise UsageError("--with-response N and --with-responses all do not go together: choose one")
    out = []
    for q in questions:
        row: dict[str, Any] = {"id": q.id, "prompt": q.question, "context": q.context, "task": "qa"}
        if with_response:
            row["response"] = q.predictions[with_response - 1]
        if with_responses:
            row.update(responses=list(q.predictions), pairs=[[a - 1, b - 1] for a, b in COMPARISONS],
                       human=list(q.preference))
        out.append(row)
    return out


def pairs(questions: list[QAFeedbackQuestion]) -> list[Pair]:
    """The non-tied human comparisons as pairs. `prompt` is the qa task's rendered user message, the
    same text synthetic pairs store, so real and synthetic pairs can be mixed. `chosen_listed_first`
    records whether the preferred answer was the lower-numbered one (for the position baseline)."""
    task = load_task("qa")
    out = []
    for q in questions:
        prompt = task.render_user(q.question, q.context)
        for (a, b), label in zip(COMPARISONS, q.preference, strict=True):
            if label == 0:
                continue
            win, lose = (a, b) if label == 1 else (b, a)
            out.append(
                Pair(
                    id=f"{q.id}:{a}v{b}",
                    prompt=prompt,
                    chosen=q.predictions[win - 1],
                    rejected=q.predictions[lose - 1],
                    method="human",
                    task="qa",
                    extra={"question_id": q.id, "chosen_listed_first": label == 1},
                )
            )
    return out


def export(
    path: str | Path,
    output: str | Path,
    split: Split = "all",
    as_: Literal["prompts", "pairs"] = "prompts",
    fmt: str | None = None,
    counter: SkipCounter | None = None,
    with_response: int | None = None,
    with_responses: bool = False,
) -> int:
    """Write the questions of `split` as prompt records or as TRL pairs (JSONL, or Parquet with
    `fmt="parquet"`); return the number of rows written. The corrections' pairs are
    `qa_corrections.export_corrections`."""
    from rmboost.io.rows import write_rows

    if with_response is not None and as_ != "prompts":
        raise UsageError("--with-response applies to --as prompts only")
    if with_responses and as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")
    questions = load_questions(path, split, counter)
    rows = (prompt_records(questions, with_response, with_responses) if as_ == "prompts"
            else [p.to_dict() for p in pairs(questions)])
    return write_rows(output, rows, fmt)
