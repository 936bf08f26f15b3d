"""A prompt read as text, and the question of a prompt: the one rule for each, for every reader that
counts or matches the words of a prompt (the `features` reward models, the word-overlap rules of
`rmboost agree` and `rmboost eval`, a MiniLM cross-encoder's input, RMBoost's check that a rewrite
is not the question again).

A prompt (`records.Prompt`) is a string or a conversation, a list of `{role, content}` messages.
- `prompt_text`: a string as it is; a conversation as its messages' text joined by blank lines
  (role names are no words of the prompt, so they are left out).
- `transcript`: a conversation with each message under its role (`User: ...`, `Assistant: ...`),
  for a model that reads a conversation as one text and must tell whose turn is whose.
- `last_user_turn`: what was asked last: a string itself, a conversation's last user message.
- `question_text`: the question of a prompt laid out as model input (`model_input.py`): a
  string's last paragraph (where the qa, chat and ultrafeedback layouts put the request; the
  summarization layout puts its text there), a conversation's last user message.
A conversation with no user message has no question: "".

Left out: how a prompt row becomes model input (`model_input.py`), cutting a prompt to a token
budget (`rm/evidence.py`), showing a prompt on the report page (`report/collect.py`).
"""

from __future__ import annotations

import re

from rmboost.records import Message, Prompt

_PARAGRAPH = re.compile(r"\n\s*\n")
_ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}


def prompt_text(prompt: Prompt) -> str:
    """A string as it is; a conversation as its messages' text, joined by blank lines. A message
    without text reads as empty (a pair file's prompt is not always checked message by message)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(str(m.get("content", "")) for m in prompt)


def role_line(message: Message) -> str:
    """One message under its role: `User: ...` (a role rmboost does not know, title-cased)."""
    role = message["role"]
    return f"{_ROLE_NAMES.get(role, role.title())}: {message['content']}"


def transcript(prompt: Prompt) -> str:
    """A string as it is; a conversation as `User: ...` / `Assistant: ...` turns, blank lines between."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(role_line(m) for m in prompt)


def last_user_turn(prompt: Prompt) -> str:
    """What was asked last: a string prompt itself, a conversation's last user message ("" if none)."""
    if isinstance(prompt, str):
        return prompt
    return next((m["content"] for m in reversed(prompt) if m.get("role") == "user"), "")


def question_text(prompt: Prompt) -> str:
    """The question of a prompt laid out as model input: a string's last paragraph (the qa task puts
    the question there, after its passages), a conversation's last user message; "" if none."""
    if not isinstance(prompt, str):
        return last_user_turn(prompt)
    paragraphs = [p for p in _PARAGRAPH.split(prompt) if p.strip()]
    return paragraphs[-1] if paragraphs else ""
