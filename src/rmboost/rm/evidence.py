"""What a reward model reads of a prompt too long for it: the evidence a judgement of one response
needs, chosen per response, within a token budget.

A string prompt is cut into paragraphs (blank lines). Its first paragraph (the instruction) and
its last (the question, in every rmboost template) are always kept; the paragraphs between are cut
into sentences (and lines), each scored by BM25 against the response (`lexical.bm25_scores`), and
the best-scoring sentences that fit are kept, in document order. A one-paragraph prompt keeps its
first and last sentence instead. A conversation keeps its leading system messages and its last
message, then the latest earlier turns that fit; the newest turn that does not fit whole gives up
its best-matching sentences, and older turns are dropped. A message that is itself too long is
reduced by the string rule.

The result is a prompt of the same shape (a string or a list of messages). Token counts come from
the caller's `count`; when the kept head and question alone overflow, the token-level cut of
`truncation.py` still applies downstream. Semantic matching is left out: selection is lexical.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rmboost.prompts.prompt_text import role_line
from rmboost.records import Message, Prompt
from rmboost.rm.lexical import bm25_scores

Count = Callable[[str], int]

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")


def sentences(text: str) -> list[str]:
    """`text` cut after `.`, `!` or `?` followed by white space, and at line breaks."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _best_units(units: list[tuple[int, str]], response: str, budget: int, count: Count) -> set[int]:
    """Indices of the units kept: the highest BM25 scores first, each that still fits the budget."""
    scores = bm25_scores([text for _, text in units], response)
    order = sorted(range(len(units)), key=lambda i: (-scores[i], i))
    kept: set[int] = set()
    left = budget
    for i in order:
        cost = count(units[i][1]) + 1  # +1: the space or line break that joins it to its neighbour
        if cost <= left:
            kept.add(i)
            left -= cost
    return kept


def select_text(text: str, response: str, budget: int, count: Count) -> str:
    """`text` reduced to at most about `budget` tokens by the string rule in the module docstring."""
    if count(text) <= budget:
        return text
    paragraphs = [p.strip() for p in _PARAGRAPH.split(text.strip()) if p.strip()]
    if len(paragraphs) >= 2:
        head, middle, tail = paragraphs[0], paragraphs[1:-1], paragraphs[-1]
        glue = "\n\n"
    else:
        parts = sentences(text)
        if len(parts) < 3:
            return text
        head, middle, tail = parts[0], [" ".join(parts[1:-1])], parts[-1]
        glue = " "
    budget -= count(head) + count(tail) + 2
    units = [(k, s) for k, paragraph in enumerate(middle) for s in sentences(paragraph)]
    kept = _best_units(units, response, budget, count) if budget > 0 else set()
    chosen: dict[int, list[str]] = {}
    for i in sorted(kept):
        chosen.setdefault(units[i][0], []).append(units[i][1])
    body = [" ".join(chosen[k]) for k in sorted(chosen)]
    return glue.join([head, *body, tail])


def select_conversation(messages: list[Message], response: str, budget: int, count: Count) -> list[Message]:
    """A conversation reduced to about `budget` tokens: system head, last message, latest turns."""
    if count("\n\n".join(role_line(m) for m in messages)) <= budget or not messages:
        return list(messages)
    start = 0
    while start < len(messages) - 1 and messages[start]["role"] == "system":
        start += 1
    head, turns, last = list(messages[:start]), list(messages[start:-1]), messages[-1]
    left = budget - sum(count(role_line(m)) + 2 for m in head)
    last_cost = count(role_line(last)) + 2
    if last_cost > left:
        reduced = select_text(last["content"], response, max(left - 4, 0), count)
        return [*head, {**last, "content": reduced}]
    left -= last_cost
    kept: list[Message] = []
    for m in reversed(turns):
        cost = count(role_line(m)) + 2
        if cost <= left:
            kept.insert(0, m)
            left -= cost
            continue
        if left > 16:
            kept.insert(0, {**m, "content": select_text(m["content"], response, left - 4, count)})
        break
    return [*head, *kept, last]


def select_evidence(prompt: Prompt, response: str, budget: int, count: Count) -> Prompt:
    """`prompt` as the evidence for judging `response` within `budget` tokens (same shape back)."""
    if isinstance(prompt, str):
        return select_text(prompt, response, budget, count)
    return select_conversation(list(prompt), response, budget, count)
