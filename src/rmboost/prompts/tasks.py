"""Task definitions: how a prompt record is shown to the policy, and the quality aspects of the task.

A task is a YAML data file (`resources/tasks/<name>.yaml`, or any file given with `--aspects`).
This module only loads and renders tasks; choosing aspects for a pair is the methods' job.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rmboost.errors import UsageError, UserError

BUILTIN_TASKS = ("qa", "chat", "summarization", "ultrafeedback")

Message = dict[str, str]
Prompt = str | list[Message]


@dataclass(frozen=True, slots=True)
class Aspect:
    name: str
    definition: str
    # What a BETTER (WORSE) response does on this aspect, for a rewrite in that direction; empty:
    # the definition serves both.
    better: str = ""
    worse: str = ""

    def description(self, direction: str | None = None) -> str:
        """The text a template shows for this aspect: the BETTER or WORSE description, else the definition."""
        return {"BETTER": self.better, "WORSE": self.worse}.get(direction or "", "") or self.definition


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    description: str
    user_template: str
    user_template_no_context: str
    aspects: tuple[Aspect, ...]

    def render_user(self, prompt: str, context: str | None = None) -> str:
        """The user message the policy model sees for a plain-string prompt."""
        if context:
            return self.user_template.format_map({"prompt": prompt, "context": context}).strip()
        return self.user_template_no_context.format_map({"prompt": prompt}).strip()

    def policy_messages(self, prompt: Prompt, context: str | None = None) -> list[Message]:
        """Chat messages for generating a response. A conversational prompt keeps its turns; the
        context, if any, is put in front of the last user turn."""
        if isinstance(prompt, str):
            return [{"role": "user", "content": self.render_user(prompt, context)}]
        messages = [dict(m) for m in prompt]
        if context:
            last = max(i for i, m in enumerate(messages) if m["role"] == "user")
            messages[last]["content"] = self.render_user(messages[last]["content"], context)
        return messages

    def aspect_list(self, aspects: Sequence[Aspect] | None = None, direction: str | None = None) -> str:
        """`- name: description` lines, for a template's `{aspect_list}` (default: all of the task's); with
        `direction` BETTER or WORSE, each aspect's description for that direction where it has one."""
        chosen = self.aspects if aspects is None else aspects
        return "\n".join(f"- {a.name}: {a.description(direction)}" for a in chosen)

    def aspect(self, name: str) -> Aspect:
        for a in self.aspects:
            if a.name == name:
                return a
        raise KeyError(f"task {self.name!r} has no aspect {name!r}")


TASK_FIELDS = ("name", "description", "user_template", "user_template_no_context", "aspects")
ASPECT_FIELDS = ("name", "definition", "better", "worse")
# The fields `render_user` fills in a task's user templates.
TEMPLATE_FIELDS = {"prompt", "context"}


def _read_yaml(path: Path | None, builtin: str) -> tuple[Any, str]:
    if path is None:
        text = resources.files("rmboost.resources").joinpath(builtin).read_text(encoding="utf-8")
        return yaml.safe_load(text), builtin
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read task file: {getattr(e, 'strerror', None) or e}") from e
    try:
        return yaml.safe_load(text), str(path)
    except yaml.YAMLError as e:
        raise UserError(f"{path}: task file is not valid YAML: {' '.join(str(e).split())}") from e


def _text(merged: dict[str, Any], key: str, where: str, fields: set[str] | None = None) -> str:
    value = merged.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: field '{key}' must be a non-empty string, got {type(value).__name__}")
    if fields is not None:
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as e:
            raise UserError(f"{where}: field '{key}' is not a valid template ({e}); write a literal brace "
                            "as {{ or }}") from e
        unknown = used - fields
        if unknown:
            raise UserError(f"{where}: field '{key}' uses unknown field(s) {sorted(unknown)}; it may use "
                            f"{', '.join('{' + f + '}' for f in sorted(fields))}")
    return value


def _aspects(value: Any, where: str) -> tuple[Aspect, ...]:
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: field 'aspects' must be a non-empty list of {{name, definition}} mappings")
    out = []
    for i, a in enumerate(value):
        if not isinstance(a, dict) or not {"name", "definition"} <= set(a) <= set(ASPECT_FIELDS):
            raise UserError(f"{where}: field 'aspects[{i}]' must be a mapping with 'name' and 'definition' "
                            "(and optionally 'better' and 'worse')")
        for key in a:
            if not isinstance(a[key], str) or not a[key].strip():
                raise UserError(f"{where}: field 'aspects[{i}].{key}' must be a non-empty string")
        out.append(Aspect(a["name"], a["definition"], a.get("better", ""), a.get("worse", "")))
    return tuple(out)


def load_task(name: str = "qa", aspects_file: str | Path | None = None) -> Task:
    """Load a built-in task by name, or a task file (`--aspects FILE`) that replaces it. A task file
    that is unreadable, not YAML, or of the wrong shape is a `UserError` naming the file and field."""
    if aspects_file is None and name not in BUILTIN_TASKS:
        raise UsageError(f"unknown task {name!r}; choose one of {', '.join(BUILTIN_TASKS)} or give --aspects FILE")
    raw, where = _read_yaml(Path(aspects_file) if aspects_file else None, f"tasks/{name}.yaml")
    if not isinstance(raw, dict):
        raise UserError(f"{where}: a task file must be a YAML mapping, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in TASK_FIELDS)
    if unknown:
        raise UserError(f"{where}: unknown field(s) {unknown}; a task file has {', '.join(TASK_FIELDS)}")
    base: dict[str, Any] = {}
    if aspects_file is not None and name in BUILTIN_TASKS:
        # A user file may give only `aspects`; the rest falls back to the built-in task.
        base, _ = _read_yaml(None, f"tasks/{name}.yaml")
    merged = {"name": name, "user_template_no_context": "{prompt}", **base, **raw}
    return Task(
        name=_text(merged, "name", where),
        description=_text(merged, "description", where),
        user_template=_text(merged, "user_template", where, TEMPLATE_FIELDS),
        user_template_no_context=_text(merged, "user_template_no_context", where, TEMPLATE_FIELDS - {"context"}),
        aspects=_aspects(merged.get("aspects"), where),
    )
