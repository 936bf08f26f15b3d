"""Word-level features of a (prompt, response), for the `features` reward-model kinds: how long the
response is, how much of it the prompt supports, how well it covers the question, how much it repeats
itself, whether it ends mid-sentence. Pure Python over `lexical.words`; no tokenizer, no model.

A prompt is read as its question (the last paragraph of a string prompt, the last user message of
a conversation) and its evidence (the whole prompt text), by `prompts/prompt_text.py`'s rules.
Every feature is a number computed from the response and that reading alone, so the same response
to the same prompt always gets the same row, and a linear model over these rows has no opinion
before it is trained (all weights zero).
What each feature measures is in `FEATURES`; which direction is good is left to the training data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rmboost.prompts.prompt_text import prompt_text, question_text
from rmboost.records import Prompt
from rmboost.rm.evidence import sentences
from rmboost.rm.lexical import words

# name -> what it measures (docs/METHODS.md lists them too).
FEATURES: dict[str, str] = {
    "log_words": "log(1 + words in the response)",
    "log_sentences": "log(1 + sentences in the response)",
    "word_support": "share of the response's words found in the prompt (the `overlap` baseline)",
    "bigram_support": "share of the response's word bigrams found in the prompt",
    "trigram_support": "share of the response's word trigrams found in the prompt",
    "sentence_support": "mean over the response's sentences of their bigram support",
    "weakest_sentence": "bigram support of the response's least supported sentence",
    "unsupported_sentences": "share of the response's sentences with bigram support under 0.5",
    "novel_words": "log(1 + distinct words of 4+ letters that the prompt never uses)",
    "novel_numbers": "share of the response's numbers that the prompt never uses (0 without numbers)",
    "novel_names": "share of the response's capitalised words (not sentence-initial) absent from the prompt",
    "question_coverage": "share of the question's words of 4+ letters that the response uses",
    "opening_question": "share of the question's words of 4+ letters in the response's first sentence",
    "repeated_trigrams": "share of the response's word trigrams that occurred earlier in it",
    "repeated_sentences": "share of the response's sentences that repeat an earlier one",
    "distinct_words": "distinct words / words in the response",
    "unfinished": "1 when the response does not end with . ! ? or a closing quote/bracket",
}
NAMES = tuple(FEATURES)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<=[a-z,;:] )([A-Z][a-z]+)")


@dataclass(frozen=True)
class PromptView:
    """What the features read of a prompt: its word set, bigram set, numbers, and the question."""

    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    trigrams: frozenset[tuple[str, str, str]]
    numbers: frozenset[str]
    question: tuple[str, ...]


def prompt_view(prompt: Prompt) -> PromptView:
    text = prompt_text(prompt)
    w = words(text)
    content = tuple(dict.fromkeys(x for x in words(question_text(prompt)) if len(x) >= 4))
    return PromptView(frozenset(w), frozenset(zip(w, w[1:], strict=False)),
                      frozenset(zip(w, w[1:], w[2:], strict=False)), frozenset(_NUMBER.findall(text)), content)


def _share(hits: int, total: int, empty: float = 0.0) -> float:
    return hits / total if total else empty


def _bigram_support(w: list[str], view: PromptView) -> float:
    grams = list(zip(w, w[1:], strict=False))
    return _share(sum(g in view.bigrams for g in grams), len(grams), _share(sum(x in view.words for x in w), len(w)))


def _repeats(items: Sequence[object]) -> float:
    seen: set[object] = set()
    again = 0
    for item in items:
        again += item in seen
        seen.add(item)
    return _share(again, len(items))


def features(view: PromptView, response: str) -> list[float]:
    """The row of `FEATURES` for one response, in the order of `NAMES`."""
    w = words(response)
    sents = sentences(response) or [response]
    sent_words = [words(s) for s in sents]
    numbers = _NUMBER.findall(response)
    names = _NAME.findall(response)
    q = view.question
    first = set(sent_words[0]) if sent_words else set()
    support = [_bigram_support(s, view) for s in sent_words if s] or [0.0]
    trigrams = list(zip(w, w[1:], w[2:], strict=False))
    stripped = response.rstrip()
    row = {
        "log_words": math.log1p(len(w)),
        "log_sentences": math.log1p(len(sents)),
        "word_support": _share(sum(x in view.words for x in w), len(w)),
        "bigram_support": _bigram_support(w, view),
        "trigram_support": _share(sum(t in view.trigrams for t in trigrams), len(trigrams)),
        "sentence_support": sum(support) / len(support),
        "weakest_sentence": min(support),
        "unsupported_sentences": _share(sum(x < 0.5 for x in support), len(support)),
        "novel_words": math.log1p(len({x for x in w if len(x) >= 4 and x not in view.words})),
        "novel_numbers": _share(sum(n not in view.numbers for n in numbers), len(numbers)),
        "novel_names": _share(sum(n.lower() not in view.words for n in names), len(names)),
        "question_coverage": _share(sum(x in set(w) for x in q), len(q)),
        "opening_question": _share(sum(x in first for x in q), len(q)),
        "repeated_trigrams": _repeats(trigrams),
        "repeated_sentences": _repeats([" ".join(s) for s in sent_words if s]),
        "distinct_words": _share(len(set(w)), len(w)),
        "unfinished": 0.0 if stripped.endswith((".", "!", "?", '"', "'", ")", "]", "”")) else 1.0,
    }
    return [row[n] for n in NAMES]


# Rows already computed in this process, by (prompt, response): an experiment trains many models
# on the same texts and scores them all on the same test pairs. Bounded, oldest out first.
_ROWS: dict[tuple[str, str], list[float]] = {}
_ROWS_LIMIT = 200_000


def feature_rows(prompts: Sequence[Prompt], responses: Sequence[str]) -> list[list[float]]:
    """One row per (prompt, response); each distinct prompt is read once."""
    views: dict[str, PromptView] = {}
    rows = []
    for prompt, response in zip(prompts, responses, strict=True):
        key = prompt if isinstance(prompt, str) else repr(prompt)
        row = _ROWS.get((key, response))
        if row is None:
            if key not in views:
                views[key] = prompt_view(prompt)
            row = features(views[key], response)
            if len(_ROWS) >= _ROWS_LIMIT:
                _ROWS.pop(next(iter(_ROWS)))
            _ROWS[(key, response)] = row
        rows.append(row)
    return rows
