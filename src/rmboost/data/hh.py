"""Anthropic HH-RLHF rows as preference pairs.

A row has `chosen` and `rejected`, each a whole transcript `\\n\\nHuman: ...\\n\\nAssistant: ...`.
The two should share every turn but the last assistant reply; the shared turns become a
conversational prompt (a list of messages) and the two final replies become chosen and rejected.

The official files hold rows whose transcripts differ before the last reply (an earlier turn is
missing, or two turns are merged into one, in one of them). The rule for those: earlier turns are
compared with their whitespace collapsed (`trl_pairs.same_turns`, the rule TRL rows are read by),
so a row that differs only in spacing is kept (with the chosen transcript's turns as the prompt); a
row that still differs is left out (`row_loop.LeftOut`) and counted under `DIVERGED` in the
counter's `left_out`, not raised. It is not a pair: its two final replies answer
different conversations, so neither is a preference for one prompt, and the longest common prefix
would leave a multi-turn remainder that no single reply can hold. Rows that are really broken (not
a transcript, text before the first turn, no final assistant reply) are `InputError`s, raised or
skipped as `--on-error` says (`row_loop.py`'s loop). Downloading the data set is not done here: give
the JSONL or Parquet file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rmboost.data.row_loop import LeftOut, parsed_rows
from rmboost.data.trl_pairs import same_turns
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, require_fields
from rmboost.records import Message, Pair, stable_id

_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")
_ROLES = {"Human": "user", "Assistant": "assistant"}
DIVERGED = "chosen and rejected differ before the last reply"


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
    require_fields(row, ("chosen", "rejected"), source, line)
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
    if not same_turns(turns["rejected"][:-1], prompt):
        raise LeftOut(DIVERGED)
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
    """Read an HH-RLHF file (JSONL or Parquet) into conversational pairs; a row whose transcripts
    diverge before the last reply is counted in `counter.left_out[DIVERGED]`."""
    return parsed_rows(path, _parse, counter)
