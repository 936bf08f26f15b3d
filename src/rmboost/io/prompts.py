"""Stream prompt records from a row file (`io/rows.py`: JSONL, a JSON list, or Parquet), one at a
time, validating each row.

A row is `{"prompt": str | [{"role", "content"}...], "id"?: str|int, "context"?: str|[str], "task"?: str,
"response"?: str, "responses"?: [str, ...], "pairs"?: [[i, j], ...]}`; `response` is a response the user
already has, which RMBoost rewrites; `responses` (two or more, instead of `response`) are responses to
compare (RLAIF judges `pairs` among them, 0-based indices, by default every pair; West-of-N scores them
all; RMBoost rewrites one). Other fields (e.g. `human`, the labels QA-Feedback gives `pairs`) are ignored.
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


def parse_context(row: dict[str, Any], source: str, line: int) -> str | None:
    """A row's `context` as one text (a list of passages joined by blank lines), None when absent
    or empty; `InputError` when it is neither text nor a list of texts."""
    context = row.get("context")
    if isinstance(context, list) and all(isinstance(c, str) for c in context):
        context = "\n\n".join(context)
    if context is not None and not isinstance(context, str):
        raise InputError(source, line, "context",
                         f"must be a string or a list of strings, got {type(context).__name__}")
    return context or None


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
    context = parse_context(row, source, line)
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
    responses, pairs = _given_responses(row, source, line)
    if response is not None and responses is not None:
        raise InputError(source, line, "responses", "give either `response` (one) or `responses` (several), not both")
    return PromptRecord(prompt=prompt, id=str(rid), context=context or None, task=task, response=response,
                        source=source, line=line, responses=responses, response_pairs=pairs)


def _given_responses(row: dict[str, Any], source: str, line: int
                     ) -> tuple[tuple[str, ...] | None, tuple[tuple[int, int], ...] | None]:
    """`responses` (two or more non-empty strings) and `pairs` (distinct unordered index pairs among them)."""
    responses, pairs = row.get("responses"), row.get("pairs")
    if responses is None:
        if pairs is not None:
            raise InputError(source, line, "pairs", "applies only with `responses`")
        return None, None
    if not isinstance(responses, list) or len(responses) < 2:
        raise InputError(source, line, "responses", "must be a list of at least two responses (one is `response`)")
    for i, r in enumerate(responses):
        if not isinstance(r, str) or not r.strip():
            raise InputError(source, line, f"responses[{i}]", "must be a non-empty string")
    if pairs is None:
        return tuple(responses), None
    if not isinstance(pairs, list) or not pairs:
        raise InputError(source, line, "pairs", "must be a non-empty list of [i, j] index pairs")
    seen: set[frozenset[int]] = set()
    for k, p in enumerate(pairs):
        ok = (isinstance(p, list) and len(p) == 2 and all(type(i) is int and 0 <= i < len(responses) for i in p)
              and p[0] != p[1])
        if not ok:
            raise InputError(source, line, f"pairs[{k}]", f"must be two different indices of `responses` "
                             f"(0 to {len(responses) - 1}), got {p!r}")
        if frozenset(p) in seen:
            raise InputError(source, line, f"pairs[{k}]", f"lists the pair {p!r} twice")
        seen.add(frozenset(p))
    return tuple(responses), tuple((int(p[0]), int(p[1])) for p in pairs)


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
