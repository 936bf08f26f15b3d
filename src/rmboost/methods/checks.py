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


# Weak models often answer the rewrite request with a comment on the responses instead of a new one.
META_COMMENT = re.compile(
    r"\b(?:previous|original|existing|old|new|first|rewritten) (?:response|answer)\b"
    r"|\bthe (?:response|answer) (?:above|below)\b|\bthis (?:response|answer) is (?:better|worse)\b"
    r"|\bI(?:'ll| will) (?:try to |now )?(?:ensure|make sure|rewrite|revise|improve|write|provide)\b"
    r"|\b(?:previous|original|first) one\b"
    # "The answer to the question is perfectly coherent": a verdict on the answer, not an answer.
    r"|\bthe (?:response|answer)(?: to the question)? is (?:\w+ )?(?:coherent|relevant|faithful|correct"
    r"|complete|accurate|incoherent|irrelevant|unfaithful|incorrect|incomplete|inaccurate|better|worse)\b",
    re.IGNORECASE,
)
# ... or with a refusal, or talk about itself: "I'm sorry, but I'm unable to edit my responses."
SELF_TALK = re.compile(
    r"\bI(?:'m| am) (?:sorry|unable|not able|looking for|ready to)\b|\bI (?:cannot|can't|can not) "
    r"(?:provide|answer|edit|help|rewrite)\b|\bas an AI\b",
    re.IGNORECASE,
)


def echoes_word(word: str, y1: str, y2: str) -> bool:
    """y2 repeats the instruction's capitalised direction ("... and that the response is BETTER.")
    that y1 does not hold. Only an all-caps word is checked: a lower-case one is ordinary prose."""
    if not word.isupper():
        return False
    pattern = re.compile(rf"\b{re.escape(word)}\b")
    return bool(pattern.search(y2)) and not pattern.search(y1)


def rewrite_problem(y1: str, y2: str | None, instruction: str, direction: str, question: str | None) -> str | None:
    """Why the rewrite `y2` of `y1` is no usable second response, or None. `instruction` is the
    rewrite request's own wording (without the prompt and y1 it quotes); `question` the prompt
    when it is one string. Each check lets through what y1 already does."""
    if y2 is None:
        return "no response could be extracted"
    problem = content_problem(y2)
    if problem:
        return problem
    if normalise(y2) == normalise(y1):
        return "identical to y1"
    if META_COMMENT.search(y2) and not META_COMMENT.search(y1):
        return "comments on the responses instead of answering"
    if SELF_TALK.search(y2) and not SELF_TALK.search(y1):
        return "refuses or talks about itself instead of answering"
    if echoes_word(direction, y1, y2):
        return "echoes the instruction's direction word"
    if copies_from(y2, instruction) and not copies_from(y1, instruction):
        return "copies the rewrite instruction"
    if question is not None and normalise(y2) == normalise(question):
        return "repeats the question"
    return None
