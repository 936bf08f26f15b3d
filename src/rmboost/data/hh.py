"""Anthropic HH-RLHF rows as preference pairs.

A row has `chosen` and `rejected`, each a whole transcript `\\n\\nHuman: ...\\n\\nAssistant: ...`.
The two share every turn but the last assistant reply; the shared turns become a conversational
prompt (a list of messages) and the two final replies become chosen and rejected. Rows whose
transcripts do not share their earlier turns, or do not end with an assistant reply, are malformed.
Downloading the data set is not done here: give the JSONL or Parquet file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, parse_rows
from rmboost.records import Message, Pair, stable_id

_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")
_ROLES = {"Human": "user", "Assistant": "assistant"}


def split_transcript(text: str) -> list[Message]:
    """`\\n\\nHuman: hi\\n\\nAssistant: hello` -> `[{"role": "user", ...}, {"role": "assistant", ...}]`."""
    if not text.startswith("\n\n"):
        text = "\n\n" + text.lstrip("\n")
    parts = _TURN.split(text)
    if parts[0].strip():
        raise ValueError("text before the first 'Human:' turn")
    messages = []
    for speaker, content in zip(parts[1::2], parts[2::2], strict=True):
        messages.append({"role": _ROLES[speaker], "content": content.strip()})
    if not messages:
        raise ValueError("no 'Human:' or 'Assistant:' turns")
    return messages


def _parse(row: Any, source: str, line: int) -> Pair:
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    turns = {}
    for name in ("chosen", "rejected"):
        value = row.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InputError(source, line, name, "must be a non-empty transcript string")
        try:
            turns[name] = split_transcript(value)
        except ValueError as e:
            raise InputError(source, line, name, str(e)) from e
        if turns[name][-1]["role"] != "assistant" or len(turns[name]) < 2:
            raise InputError(source, line, name, "must end with an 'Assistant:' reply after a 'Human:' turn")
    prompt = turns["chosen"][:-1]
    if turns["rejected"][:-1] != prompt:
        raise InputError(source, line, "rejected", "does not share the conversation before the last reply")
    chosen, rejected = turns["chosen"][-1]["content"], turns["rejected"][-1]["content"]
    return Pair(
        id=str(row.get("id") or "hh-" + stable_id(prompt, chosen + "\0" + rejected)),
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        method="human",
        conversational=True,
        task="chat",
    )


def load_hh(path: str | Path, counter: SkipCounter | None = None) -> list[Pair]:
    """Read an HH-RLHF file (JSONL or Parquet) into conversational pairs."""
    return parse_rows(path, _parse, counter)
