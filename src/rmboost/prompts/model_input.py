"""The one rule for how a prompt row becomes a model's input: what the policy sees when a pair is
made, what a reward model is trained on, and so what it must be scored and reranked on.

A prompt row (`{"prompt", "context"?, "task"?}`, the records `rmboost data ... --as prompts` writes)
is shown through its task's layout (`Task.policy_messages`: the instruction, the passages or the
post, then the question last; a conversation keeps its turns and the context goes in front of its
last user turn). A plain-string prompt becomes that one user message's text, as a pair's `prompt`
stores it; a conversation stays a list of messages. A row with neither `context` nor `task` is
taken as already being the model's input. The row's own `task` wins over the caller's default.

Left out: reading and checking a whole row (`io/prompts.py`), the tasks themselves (`tasks.py`).
"""

from __future__ import annotations

import functools
from typing import Any

from rmboost.errors import InputError
from rmboost.io.prompts import parse_context
from rmboost.prompts.tasks import BUILTIN_TASKS, Task, load_task
from rmboost.records import Prompt

# The task a row with `context` but no `task` is shown with: generate's own default.
DEFAULT_TASK = "qa"


@functools.cache
def builtin_task(name: str) -> Task:
    """A built-in task, read once per process (a row asks for it at every line)."""
    return load_task(name)


def model_input(prompt: Prompt, context: str | None = None, task: str | Task | None = None) -> Prompt:
    """`prompt` (with its `context`) as the model sees it, laid out by `task` (a name, a loaded
    task, or None: the prompt as it is when there is no context, else the default task)."""
    if task is None and not context:
        return prompt
    loaded = task if isinstance(task, Task) else builtin_task(task or DEFAULT_TASK)
    messages = loaded.policy_messages(prompt, context)
    return messages[0]["content"] if isinstance(prompt, str) else messages


def row_task(row: dict[str, Any], source: str, line: int) -> str | None:
    """A row's `task` (None when absent or empty); `InputError` for one that is no task of rmboost."""
    task = row.get("task")
    if task is None or task == "":
        return None
    if not isinstance(task, str) or task not in BUILTIN_TASKS:
        raise InputError(source, line, "task", f"must be one of {', '.join(BUILTIN_TASKS)}, got {task!r}")
    return task


def row_input(row: dict[str, Any], prompt: Prompt, source: str, line: int) -> Prompt:
    """The model input of a prompt row whose `prompt` was already read and checked."""
    return model_input(prompt, parse_context(row, source, line), row_task(row, source, line))
