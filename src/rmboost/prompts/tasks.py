"""Task definitions: how a prompt record is shown to the policy, and the quality aspects of the task.

A task is a YAML data file (`resources/tasks/<name>.yaml`, or any file given with `--aspects`).
This module only loads and renders tasks; choosing aspects for a pair is the methods' job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

BUILTIN_TASKS = ("qa", "chat", "summarization")

Message = dict[str, str]
Prompt = str | list[Message]


@dataclass(frozen=True, slots=True)
class Aspect:
    name: str
    definition: str


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

    def aspect_list(self, aspects: Sequence[Aspect] | None = None) -> str:
        """`- name: definition` lines, for a template's `{aspect_list}` (default: all of the task's)."""
        return "\n".join(f"- {a.name}: {a.definition}" for a in (self.aspects if aspects is None else aspects))

    def aspect(self, name: str) -> Aspect:
        for a in self.aspects:
            if a.name == name:
                return a
        raise KeyError(f"task {self.name!r} has no aspect {name!r}")


def _read_yaml(path: Path | None, builtin: str) -> tuple[dict[str, Any], str]:
    if path is not None:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8")), str(path)
    text = resources.files("rmboost.resources").joinpath(builtin).read_text(encoding="utf-8")
    return yaml.safe_load(text), builtin


def load_task(name: str = "qa", aspects_file: str | Path | None = None) -> Task:
    """Load a built-in task by name, or a task file (`--aspects FILE`) that replaces it."""
    if aspects_file is None and name not in BUILTIN_TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(BUILTIN_TASKS)} or give --aspects FILE")
    raw, where = _read_yaml(Path(aspects_file) if aspects_file else None, f"tasks/{name}.yaml")
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a task file must be a YAML mapping")
    base: dict[str, Any] = {}
    if aspects_file is not None and name in BUILTIN_TASKS:
        # A user file may give only `aspects`; the rest falls back to the built-in task.
        base, _ = _read_yaml(None, f"tasks/{name}.yaml")
    merged = {**base, **raw}
    try:
        aspects = tuple(Aspect(str(a["name"]), str(a["definition"])) for a in merged["aspects"])
        task = Task(
            name=str(merged.get("name", name)),
            description=str(merged["description"]),
            user_template=str(merged["user_template"]),
            user_template_no_context=str(merged.get("user_template_no_context", "{prompt}")),
            aspects=aspects,
        )
    except (KeyError, TypeError) as e:
        raise ValueError(f"{where}: task file is missing or has a malformed field: {e}") from e
    if not task.aspects:
        raise ValueError(f"{where}: a task needs at least one aspect")
    return task
