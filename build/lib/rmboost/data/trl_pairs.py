"""TRL preference files (JSONL or Parquet) as pairs: the format `rmboost generate` writes and
`rmboost train` reads.

Standard rows have string `prompt`, `chosen`, `rejected`. Conversational rows have a list of
`{"role", "content"}` messages as `prompt` and a one-message assistant list as `chosen`/`rejected`;
a conversational row without `prompt` (TRL's implicit prompt) has its shared leading messages taken
as the prompt. The metadata columns `id`, `method`, `task`, `subset`, `question_id` and
`chosen_listed_first` are kept; other columns are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, parse_rows
from rmboost.records import Message, Pair, stable_id

KEPT_EXTRA = ("subset", "question_id", "chosen_listed_first")


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


def _split_implicit(row: dict[str, Any], source: str, line: int) -> tuple[list[Message], Any, Any]:
    chosen, rejected = _messages(row.get("chosen")), _messages(row.get("rejected"))
    if chosen is None or rejected is None:
        raise InputError(source, line, "prompt", "is missing (and chosen/rejected are not message lists)")
    n = 0
    while n < min(len(chosen), len(rejected)) and chosen[n] == rejected[n]:
        n += 1
    if n == 0 or n != len(chosen) - 1 or n != len(rejected) - 1:
        raise InputError(
            source, line, "prompt", "is missing and chosen/rejected differ before the last reply"
        )
    return chosen[:n], chosen[n:], rejected[n:]


def parse_row(row: Any, source: str, line: int) -> Pair:
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    if "prompt" not in row:
        prompt, chosen_v, rejected_v = _split_implicit(row, source, line)
    else:
        prompt, chosen_v, rejected_v = row["prompt"], row.get("chosen"), row.get("rejected")
    if isinstance(prompt, str):
        if not prompt.strip():
            raise InputError(source, line, "prompt", "is empty")
        for name, v in (("chosen", chosen_v), ("rejected", rejected_v)):
            if not isinstance(v, str):
                raise InputError(source, line, name, "must be a string when prompt is a string")
        chosen, rejected, conversational = chosen_v, rejected_v, False
    else:
        messages = _messages(prompt)
        if messages is None:
            raise InputError(source, line, "prompt", "must be a string or a list of {role, content} messages")
        prompt = messages
        chosen = _reply(chosen_v, source, line, "chosen")
        rejected = _reply(rejected_v, source, line, "rejected")
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
    """Read one TRL pair file (JSONL or Parquet)."""
    return parse_rows(path, parse_row, counter)
