"""Content checks: is an LLM's text an answer at all? Empty, only a lead-in ("The answer is:"),
a paste of the instructions, the same text as another response. Every method applies them to
every response it keeps; each check returns a reason or None, and never repairs the text.
Pulling the text out of its tags is `extraction.py`'s job.
"""

from __future__ import annotations

import re

# "The answer is:" and nothing after it: weak models stop right after the lead-in.
LEAD_IN_ONLY = re.compile(
    r"^\s*(?:the\s+)?(?:final\s+|correct\s+|new\s+)?(?:answer|response)"
    r"(?:\s+to\s+(?:the|your|this)\s+(?:question|request))?(?:\s+(?:is|would be))?\s*[:.\-]*\s*$",
    re.IGNORECASE,
)


def content_problem(text: str) -> str | None:
    """Why `text` is no answer at all (empty, or only a lead-in such as "The answer is:"), or None."""
    if not text.strip():
        return "empty response"
    if LEAD_IN_ONLY.match(text):
        return "only a lead-in, no answer"
    return None


def copies_from(text: str, source: str, n: int = 8) -> bool:
    """Whether `text` repeats a run of `n` words of `source` (case and punctuation ignored): a weak
    model's "answer" that pastes back its instructions."""
    grams = _ngrams(source, n)
    return bool(grams) and not grams.isdisjoint(_ngrams(text, n))


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def normalise(text: str) -> str:
    """For comparing two responses: case, whitespace and trailing punctuation do not count."""
    return re.sub(r"\s+", " ", text).strip().strip(".!").lower()
