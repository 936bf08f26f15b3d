"""A train/test split of any pair file by a hash of its prompt, and the prompt records it gives.

The rule is QA-Feedback's (`qa_feedback.split_of`: the parity of a hash of the text), applied to
the prompt's first user turn (the prompt itself when it is a plain string). So every pair of a
prompt, and every conversation that opens with the same user turn (an extended copy of a
conversation included), lands on one side: a conversation never straddles the split. Reading the
files is the loaders' job (`formats.py`); what a run does with the sides is the experiment's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rmboost.data.qa_feedback import split_of
from rmboost.records import Pair, Prompt, stable_id


def split_text(prompt: Prompt) -> str:
    """The text the split hashes: a plain prompt, or a conversation's first user turn."""
    if isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if m.get("role") == "user"]
    return users[0] if users else str(prompt)


def split_pairs(pairs: Sequence[Pair], side: Literal["train", "test"]) -> list[Pair]:
    """The pairs whose prompt falls on `side` of the split."""
    return [p for p in pairs if split_of(split_text(p.prompt)) == side]


def prompt_id(prompt: Prompt) -> str:
    return "p-" + stable_id(prompt)


def prompt_records(pairs: Sequence[Pair], task: str) -> list[dict[str, Any]]:
    """One prompt record per distinct prompt of `pairs`, in order of id: `{"id", "prompt", "task"}`.
    A conversational prompt stays a list of messages (the turns before the last reply)."""
    seen: dict[str, Prompt] = {}
    for p in pairs:
        seen.setdefault(prompt_id(p.prompt), p.prompt)
    return [{"id": i, "prompt": seen[i], "task": task} for i in sorted(seen)]


def pairs_of_prompts(pairs: Sequence[Pair], ids: set[str]) -> list[Pair]:
    """The pairs whose prompt is one of the prompt records `ids`."""
    return [p for p in pairs if prompt_id(p.prompt) in ids]
