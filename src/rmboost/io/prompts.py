"""Stream prompt records from a row file (`io/rows.py`: JSONL, a JSON list, or Parquet), one at a
time, validating each row.

A row is `{"prompt": str | [{"role", "content"}...], "id"?: str|int, "context"?: str|[str], "task"?: str,
"response"?: str}`; `response` is a response the user already has, which RMBoost rewrites.
A bad row becomes an `InputError` naming the file, line (1-based; the row number for Parquet) and
field; the reader yields it instead of raising so the engine can stop or skip as the user asked.
The reader never holds more than one row (one Parquet batch) in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rmboost.errors import InputError, UserError
from rmboost.io.rows import iter_rows
from rmboost.records import PromptRecord, stable_id

ROLES = ("system", "user", "assistant")


def _check_messages(value: list[Any], source: str, line: int) -> list[dict[str, str]]:
    messages = []
    for i, m in enumerate(value):
        where = f"prompt[{i}]"
        if not isinstance(m, dict):
            raise InputError(source, line, where, "must be an object with 'role' and 'content'")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise InputError(source, line, f"{where}.role",
                             f"must be one of {', '.join(ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise InputError(source, line, f"{where}.content", "must be a string")
        messages.append({"role": role, "content": content})
    if not any(m["role"] == "user" for m in messages):
        raise InputError(source, line, "prompt", "a conversation needs at least one 'user' message")
    if messages[-1]["role"] == "assistant":
        raise InputError(source, line, "prompt", "a conversation must not end with an 'assistant' message")
    return messages


def parse_row(row: Any, source: str, line: int) -> PromptRecord:
    """Validate one decoded row; raise `InputError` for the first problem found."""
    if not isinstance(row, dict):
        raise InputError(source, line, None, f"a row must be a JSON object, got {type(row).__name__}")
    if "prompt" not in row or row["prompt"] is None:
        raise InputError(source, line, "prompt", "is missing")
    prompt = row["prompt"]
    if isinstance(prompt, str):
        if not prompt.strip():
            raise InputError(source, line, "prompt", "is empty")
    elif isinstance(prompt, list):
        if not prompt:
            raise InputError(source, line, "prompt", "is an empty conversation")
        prompt = _check_messages(prompt, source, line)
    else:
        raise InputError(
            source, line, "prompt", f"must be a string or a list of messages, got {type(prompt).__name__}"
        )
    context = row.get("context")
    if isinstance(context, list) and all(isinstance(c, str) for c in context):
        context = "\n\n".join(context)
    if context is not None and not isinstance(context, str):
        raise InputError(source, line, "context",
                         f"must be a string or a list of strings, got {type(context).__name__}")
    rid = row.get("id")
    if rid is None:
        rid = stable_id(prompt, context)
    elif isinstance(rid, bool) or not isinstance(rid, str | int):
        raise InputError(source, line, "id", f"must be a string or an integer, got {type(rid).__name__}")
    elif not str(rid).strip():
        raise InputError(source, line, "id", "is empty")
    task = row.get("task")
    if task is not None and not isinstance(task, str):
        raise InputError(source, line, "task", f"must be a string, got {type(task).__name__}")
    response = row.get("response")
    if response is not None and not isinstance(response, str):
        raise InputError(source, line, "response", f"must be a string, got {type(response).__name__}")
    if response is not None and not response.strip():
        raise InputError(source, line, "response", "is empty")
    return PromptRecord(prompt=prompt, id=str(rid), context=context or None, task=task, response=response,
                        source=source, line=line)


def read_prompts(path: str | Path) -> Iterator[PromptRecord | InputError]:
    """Yield each row as a `PromptRecord`, or an `InputError` for a bad one."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: input file not found")
    for line_no, row in iter_rows(p):
        if isinstance(row, InputError):
            yield row
            continue
        try:
            yield parse_row(row, str(p), line_no)
        except InputError as e:
            yield e
