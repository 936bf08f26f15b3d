"""UltraFeedback (Cui et al. 2023) as prompt records and as preference pairs, from either form users
hold; a row's form is told by its fields (`completions`: raw; otherwise binarized).

Raw rows (openbmb/UltraFeedback): `source`, `instruction`, `models`, `completions` (each `model`,
`principle`, `custom_system_prompt`, `response`, `annotations` {`helpfulness`, `honesty`,
`instruction_following`, `truthfulness`}, each with a `Rating` string "1"-"5" or "N/A" and a
`Rationale`; older rows hold a list of one such object per aspect); `critique`, `overall_score`,
`fine-grained_score`), `correct_answers`, `incorrect_answers`. The pair rule: a completion's score
is the mean of its four Ratings; one with an "N/A" Rating or an empty response has none and is
counted in `notes` (`UNRATED`, `EMPTY`). The completion with the highest score is chosen over the
one with the lowest (the first listed among equals). A row with fewer than two scored completions
(`TOO_FEW`), or whose scores are all equal (`TIED`), makes no pair: left out and counted. A row of
neither form (a TRL pair of strings, a prompt record) is an `InputError` that says what it holds
(`io/row_kinds.py`). HuggingFaceH4's binarization draws the rejected one at random among the other
three; best over worst is the clearest preference the ratings give and needs no random draw. Only
the four Ratings are read: `overall_score`, `fine-grained_score`, `critique`, the rationales,
`principle` and the completion's system prompt are not.

Binarized rows (HuggingFaceH4/ultrafeedback_binarized): `prompt`, `prompt_id`, `chosen`, `rejected`
(whole conversations that repeat the prompt), `messages`, `score_chosen`, `score_rejected`. They are
TRL rows and are read by `trl_pairs.parse_row` (the shared turns split off; two conversations that
differ before the last reply are left out under `trl_pairs.DIVERGED`, in `row_loop.py`'s loop); a
prompt of one user turn becomes a plain prompt, as raw rows give. Equal scores are `TIED`; a chosen
score below the rejected one is an `InputError`. The ratings of both forms are GPT-4's, not
people's (docs/DATASETS.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rmboost.data.row_loop import parsed_rows
from rmboost.data.trl_pairs import parse_row
from rmboost.errors import InputError, UsageError
from rmboost.io.row_kinds import expect_row
from rmboost.io.rows import SkipCounter, require_rows, write_rows
from rmboost.records import Pair, Prompt

TASK = "ultrafeedback"
READS = ("ultrafeedback", "ultrafeedback-binarized")  # its kinds of rows (`io/row_kinds.py`)
ASPECTS = ("helpfulness", "honesty", "instruction_following", "truthfulness")
UNRATED = "completions with an N/A rating (not paired)"
EMPTY = "completions with an empty response (left out)"
TOO_FEW = "fewer than two completions with all four ratings"
TIED = "chosen and rejected have the same score"
ONE_RESPONSE = "prompts with one non-empty response (written as `response`)"
NO_RESPONSE = "prompts with no non-empty response (written without one)"


@dataclass(slots=True)
class Row:
    """One row of either form: its prompt, the responses it holds, and its pair or why it has none."""

    id: str
    prompt: Prompt
    responses: list[str]
    pair: Pair | None = None
    reason: str = ""
    notes: dict[str, int] = field(default_factory=dict)


def prompt_id(instruction: str) -> str:
    """The binarized form's `prompt_id` (the SHA-256 of the prompt), so both forms give one id."""
    return hashlib.sha256(instruction.encode("utf-8")).hexdigest()


def _rating(value: Any, source: str, line: int, where: str) -> float | None:
    if isinstance(value, str) and value.strip().upper() == "N/A":
        return None
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool) or str(text) not in ("1", "2", "3", "4", "5"):
        raise InputError(source, line, where, f"must be a rating '1'-'5' or 'N/A', got {value!r}")
    return float(str(text))


def _annotations(value: Any) -> dict[str, Any] | None:
    """The annotations as aspect -> rated object, from either form the data set has had: an object
    with an entry per aspect (each an object, or a list holding one), or a list of one object per
    aspect (`{aspect: {...}}`, or `{"aspect": name, "Rating": ...}`). None when neither."""
    if isinstance(value, dict):
        return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in value.items()}
    if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
        return None
    out: dict[str, Any] = {}
    for a in value:
        if isinstance(a.get("aspect"), str):
            out[a["aspect"]] = a
        elif len(a) == 1:
            out.update(_annotations(a) or {})
    return out


def _score(completion: Any, i: int, source: str, line: int) -> tuple[str, float | None]:
    """(response, mean rating); the mean is None when a rating is N/A."""
    where = f"completions[{i}]"
    if not isinstance(completion, dict):
        raise InputError(source, line, where, "must be an object with response and annotations")
    response = completion.get("response")
    if not isinstance(response, str):
        raise InputError(source, line, f"{where}.response", "must be a string")
    annotations = _annotations(completion.get("annotations"))
    if annotations is None:
        raise InputError(source, line, f"{where}.annotations", "must be an object with the four aspects (or a "
                         "list of one object per aspect)")
    ratings = []
    for aspect in ASPECTS:
        rated = annotations.get(aspect)
        if not isinstance(rated, dict) or "Rating" not in rated:
            raise InputError(source, line, f"{where}.annotations.{aspect}", "must be an object with a Rating")
        ratings.append(_rating(rated["Rating"], source, line, f"{where}.annotations.{aspect}.Rating"))
    mean = None if None in ratings else sum(r for r in ratings if r is not None) / len(ratings)
    return response.strip(), mean


def _raw(row: dict[str, Any], source: str, line: int) -> Row:
    instruction = row.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise InputError(source, line, "instruction", "must be a non-empty string")
    completions = row.get("completions")
    if not isinstance(completions, list):
        raise InputError(source, line, "completions", "must be a list")
    scored = [(i, *_score(c, i, source, line)) for i, c in enumerate(completions)]
    models = [str(c.get("model") or "") for c in completions]
    rid = "uf-" + prompt_id(instruction)[:16]
    out = Row(rid, instruction.strip(), [text for _, text, _ in scored if text])
    out.notes = {EMPTY: sum(1 for _, text, _ in scored if not text),
                 UNRATED: sum(1 for _, text, mean in scored if text and mean is None)}
    rated = [(i, text, mean) for i, text, mean in scored if text and mean is not None]
    if len(rated) < 2:
        out.reason = TOO_FEW
        return out
    best = max(rated, key=lambda r: r[2])  # max and min keep the first listed among equals
    worst = min(rated, key=lambda r: r[2])
    if best[2] == worst[2]:
        out.reason = TIED
        return out
    out.pair = Pair(id=rid, prompt=out.prompt, chosen=best[1], rejected=worst[1], method="human", task=TASK,
                    extra={"question_id": rid, "subset": str(row.get("source") or ""), "score_chosen": best[2],
                           "score_rejected": worst[2], "chosen_model": models[best[0]],
                           "rejected_model": models[worst[0]], "chosen_listed_first": best[0] < worst[0]})
    return out


def _score_of(row: dict[str, Any], name: str, source: str, line: int) -> float | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InputError(source, line, name, f"must be a number, got {value!r}")
    return float(value)


def _binarized(row: dict[str, Any], source: str, line: int) -> Row:
    pair = parse_row(row, source, line)
    if isinstance(pair.prompt, list) and len(pair.prompt) == 1 and pair.prompt[0]["role"] == "user":
        pair.prompt, pair.conversational = pair.prompt[0]["content"], False
    given = row.get("prompt_id")
    text = pair.prompt if isinstance(pair.prompt, str) else str(pair.prompt)
    rid = "uf-" + (given if isinstance(given, str) and given.strip() else prompt_id(text))[:16]
    pair.id, pair.method, pair.task = rid, "human", TASK
    pair.extra["question_id"] = rid
    out = Row(rid, pair.prompt, [pair.chosen, pair.rejected], pair)
    chosen, rejected = (_score_of(row, n, source, line) for n in ("score_chosen", "score_rejected"))
    if chosen is not None and rejected is not None:
        if chosen < rejected:
            raise InputError(source, line, "score_chosen", f"is below score_rejected ({chosen} < {rejected})")
        if chosen == rejected:
            out.pair, out.reason = None, TIED
    return out


def parse(row: Any, source: str, line: int) -> Row:
    """One row of either form; `InputError` when malformed, `row_loop.LeftOut` when left out by rule."""
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    if "completions" in row or "instruction" in row:
        return _raw(row, source, line)
    if not isinstance(row.get("chosen"), list):  # a TRL pair of strings (QA-Feedback's, generate's): no UltraFeedback
        expect_row(row, READS, "rmboost data ultrafeedback", source, line)
    return _binarized(row, source, line)


def load_rows(path: str | Path, counter: SkipCounter | None = None) -> list[Row]:
    """Every row of the file that has a prompt; a diverged binarized row is left out and counted. What
    the rating rule leaves out inside a row is in each row's `notes`, for the caller to count."""
    require_rows(path, "rows")
    return parsed_rows(path, parse, counter)


def load_ultrafeedback(path: str | Path, counter: SkipCounter | None = None) -> list[Pair]:
    """The pairs of a raw or binarized UltraFeedback file; a row without one is counted in `left_out`."""
    counter = counter or SkipCounter()
    out = []
    for row in load_rows(path, counter):
        for reason, n in row.notes.items():
            counter.note(reason, n)
        if row.pair is None:
            counter.leave_out(row.reason)
        else:
            out.append(row.pair)
    return out


def prompt_records(rows: list[Row], with_responses: str | None = None,
                   counter: SkipCounter | None = None) -> list[dict[str, Any]]:
    """One prompt record per row, in file order: `{"id", "prompt", "task": "ultrafeedback"}`; with
    `with_responses="all"`, also the row's non-empty completions (raw; an empty one is counted in
    `notes` under `EMPTY`) or its chosen and rejected replies (binarized): as `responses` when there
    are two or more, as `response` when there is one (counted under `ONE_RESPONSE`, as is a row with
    none, `NO_RESPONSE`)."""
    if with_responses not in (None, "all"):
        raise UsageError(f"--with-responses takes 'all', got {with_responses!r}")
    counter = counter or SkipCounter()
    out = []
    for r in rows:
        record: dict[str, Any] = {"id": r.id, "prompt": r.prompt, "task": TASK}
        if with_responses:
            counter.note(EMPTY, r.notes.get(EMPTY, 0))
        if with_responses and len(r.responses) >= 2:
            record["responses"] = list(r.responses)
        elif with_responses and r.responses:
            record["response"] = r.responses[0]
            counter.note(ONE_RESPONSE)
        elif with_responses:
            counter.note(NO_RESPONSE)
        out.append(record)
    return out


def export(
    path: str | Path,
    output: str | Path,
    as_: Literal["pairs", "prompts"] = "pairs",
    fmt: str | None = None,
    counter: SkipCounter | None = None,
    with_responses: str | None = None,
) -> int:
    """Write the file's pairs (TRL rows) or prompt records (JSONL, or Parquet); return the count."""
    if with_responses is not None and as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")
    counter = counter or SkipCounter()
    if as_ == "prompts":
        rows = prompt_records(load_rows(path, counter), with_responses, counter)
    else:
        rows = [p.to_dict() for p in load_ultrafeedback(path, counter)]
    return write_rows(output, rows, fmt)
