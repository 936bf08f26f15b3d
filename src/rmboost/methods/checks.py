"""Content checks: is an LLM's text an answer at all? Empty, only a lead-in ("The answer is:"),
a paste of the instructions, the same text as another response. Every method applies them to
every response it keeps; each check returns a reason or None, and never repairs the text.
Pulling the text out of its tags is `extraction.py`'s job.

A rewrite (RMBoost's y2) is checked the same way whatever the template that asked for it
(`rewrite_problem`): the same as y1, a comment on the responses, a refusal, the instruction's
direction word, words or layout of the instruction (a run of 8 words, a numbered step, a bracketed
section header, a tag), the question again, or a fragment too short to be a response ("and").
"""

from __future__ import annotations

import re

from rmboost.measure.words import words as word_list

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
    words = word_list(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def normalise(text: str) -> str:
    """For comparing two responses: case, whitespace and trailing punctuation do not count."""
    return re.sub(r"\s+", " ", text).strip().strip(".!").lower()


# Weak models often answer the rewrite request with a comment on the responses instead of a new one.
META_COMMENT = re.compile(
    r"\b(?:previous|original|existing|old|new|first|rewritten|edited) (?:response|answer)\b"
    # Talk about the edit itself: "rewrite the paragraph so that the edited response is worse".
    r"|\b(?:rewrite|edit|revise) (?:the|this|your) (?:paragraph|response|answer|text)\b"
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


# Function words: a "response" made only of these ("and") says nothing.
STOP_WORDS = frozenset(
    "a an the and or but nor so yet of to in on at by for with from as into about than then that this these those "
    "it its is are was were be been being has have had do does did not no".split())
# The layout of a request, pasted into an answer: "[Step 3: ...", "Step 2." (a template's steps).
STEP_MARKER = re.compile(r"\bstep\s*\d+\s*[:.)\]]", re.IGNORECASE)
SECTION_HEADER = re.compile(r"\[[A-Za-z][^\]\n]{0,40}\]")
TAG = re.compile(r"</?[A-Za-z_]+>")


def too_short(y1: str, y2: str) -> bool:
    """y2 is a fragment, not a response: only function words ("and"), or fewer than 3 words where
    y1 has 10 or more."""
    said, y1_words = word_list(y2), word_list(y1)
    if not set(said) - STOP_WORDS:
        return bool(set(y1_words) - STOP_WORDS)
    return len(said) < 3 and len(y1_words) >= 10


def leaks_layout(y1: str, y2: str, instruction: str) -> bool:
    """y2 carries the request's layout instead of being only a response: a numbered step, a bracketed
    section header of the request ("[Response]") or one of its tags, where y1 has none of it."""
    marks = {m.lower() for m in SECTION_HEADER.findall(instruction) + TAG.findall(instruction)}

    def has(text: str) -> bool:
        return bool(STEP_MARKER.search(text)) or any(m in text.lower() for m in marks)

    return has(y2) and not has(y1)


def echoes_question(text: str, question: str) -> bool:
    """`text` is the question again, give or take a word or two: about as many words as the question
    (60% of them to two more), 80% or more of which are the question's words."""
    asked, said = word_list(question), word_list(text)
    if not asked or not said or not 0.6 * len(asked) <= len(said) <= len(asked) + 2:
        return False
    known = set(asked)
    return sum(w in known for w in said) >= 0.8 * len(said)


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
    if leaks_layout(y1, y2, instruction):
        return "copies the rewrite instruction's layout"
    if question is not None and echoes_question(y2, question) and not echoes_question(y1, question):
        return "repeats the question"
    if too_short(y1, y2):
        return "too short to be a response"
    return None
