"""TRL preference files (JSONL or Parquet) as pairs: the format `rmboost generate` writes, and the
one rule for what a pair row is (`parse_row`), which every reader of pair files uses (`train`,
`eval`, `score`, `agree`, `report`, `export`, `stats`, the experiment).

Standard rows have string `prompt`, `chosen`, `rejected`. Conversational rows have a list of
`{"role", "content"}` messages as `prompt` and a one-message assistant list as `chosen`/`rejected`.
A conversational row without `prompt` (TRL's implicit prompt), or with a null one, holds two whole
conversations: their turns before the last assistant reply are the prompt, and the two last replies
are chosen and rejected. Rows that give both a string `prompt` and whole conversations (UltraFeedback binarized:
`prompt` is the first user turn, repeated inside `chosen` and `rejected`) are read the same way,
and the string must be one of the shared user turns. Shared turns are compared with whitespace
collapsed (`same_turns`, HH-RLHF's rule too). A pair whose two conversations differ before the
last reply is left out (`row_loop.LeftOut`) and counted under `DIVERGED` in the counter's
`left_out` (its two replies answer different conversations, so it is no preference for one
prompt), not raised. The metadata columns `id`, `method`, `task` and those of `KEPT_EXTRA` are
kept; other columns (UltraFeedback's `messages`, `prompt_id`) are ignored. Left out: the loop over
a file's rows (`row_loop.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.data.row_loop import LeftOut, parsed_rows
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, require_fields
from rmboost.records import Message, Pair, stable_id

KEPT_EXTRA = ("subset", "question_id", "chosen_listed_first", "score_chosen", "score_rejected")
DIVERGED = "chosen and rejected conversations differ before the last reply"


def _messages(value: Any) -> list[Message] | None:
    if not isinstance(value, list) or not value:
        return None
    for m in value:
        if not (isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)):
            return None
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _reply(value: Any, source: str, line: int, name: str) -> str:
    msgs = _messages(value)
    if msgs is None or len(msgs) != 1 or msgs[0]["role"] != "assistant":
        raise InputError(source, line, name, "must be a list holding one assistant message")
    return msgs[0]["content"]


def same_turns(a: list[Message], b: list[Message]) -> bool:
    """Whether two runs of turns are the same: the same roles, the same texts with whitespace collapsed."""
    def key(turns: list[Message]) -> list[tuple[str, str]]:
        return [(m["role"], " ".join(m["content"].split())) for m in turns]

    return key(a) == key(b)


def split_conversations(
    chosen: list[Message], rejected: list[Message], source: str, line: int
) -> tuple[list[Message], str, str]:
    """Two whole conversations -> (the shared turns before the last reply, chosen's reply, rejected's
    reply). `LeftOut(DIVERGED)` when the turns before the last reply differ; `InputError` when a conversation
    does not end with an assistant reply after at least one turn."""
    for name, msgs in (("chosen", chosen), ("rejected", rejected)):
        if len(msgs) < 2 or msgs[-1]["role"] != "assistant":
            raise InputError(source, line, name, "must end with an assistant reply after at least one turn "
                             "(the prompt is missing)")
    if not same_turns(chosen[:-1], rejected[:-1]):
        raise LeftOut(DIVERGED)
    return chosen[:-1], chosen[-1]["content"], rejected[-1]["content"]


def _implicit(row: dict[str, Any], source: str, line: int) -> tuple[list[Message], str, str]:
    chosen, rejected = _messages(row.get("chosen")), _messages(row.get("rejected"))
    if chosen is None or rejected is None:
        raise InputError(source, line, "prompt", "is missing (and chosen/rejected are not message lists)")
    prompt, good, bad = split_conversations(chosen, rejected, source, line)
    given = row.get("prompt")
    if isinstance(given, str):
        users = {" ".join(m["content"].split()) for m in prompt if m["role"] == "user"}
        if " ".join(given.split()) not in users:
            raise InputError(source, line, "prompt", "is not one of the user turns that chosen and rejected share")
    return prompt, good, bad


def parse_row(row: Any, source: str, line: int) -> Pair:
    """One TRL row as a `Pair`; `InputError` for a malformed row, `LeftOut` for one left out by rule."""
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    require_fields(row, ("chosen", "rejected"), source, line)
    prompt = row.get("prompt")
    whole = _messages(row.get("chosen")) is not None and _messages(row.get("rejected")) is not None
    if prompt is None or (isinstance(prompt, str) and whole):
        prompt, chosen, rejected = _implicit(row, source, line)
        conversational = True
    elif isinstance(prompt, str):
        if not prompt.strip():
            raise InputError(source, line, "prompt", "is empty")
        for name in ("chosen", "rejected"):
            if not isinstance(row.get(name), str):
                raise InputError(source, line, name, "must be a string when prompt is a string")
        chosen, rejected, conversational = str(row["chosen"]), str(row["rejected"]), False
    else:
        messages = _messages(prompt)
        if messages is None:
            raise InputError(source, line, "prompt", "must be a string or a list of {role, content} messages")
        prompt = messages
        chosen = _reply(row.get("chosen"), source, line, "chosen")
        rejected = _reply(row.get("rejected"), source, line, "rejected")
        conversational = True
    extra = {k: row[k] for k in KEPT_EXTRA if row.get(k) is not None}
    return Pair(
        id=str(row.get("id") or stable_id(prompt, chosen + "\0" + rejected)),
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        method=str(row.get("method") or ""),
        conversational=conversational,
        task=str(row.get("task") or ""),
        extra=extra,
    )


def load_trl_pairs(path: str | Path, counter: SkipCounter | None = None) -> list[Pair]:
    """Read one TRL pair file (JSONL or Parquet); a pair whose conversations diverge before the
    last reply is counted in `counter.left_out[DIVERGED]`."""
    return parsed_rows(path, parse_row, counter)
