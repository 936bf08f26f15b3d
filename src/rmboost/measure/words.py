"""What a word is, and the measures made of words. Two word rules, each for its own job:

- `words`: lower-cased `\\w+` matches, punctuation dropped. The lexical rules use it: the `overlap`
  share (how much of a response is made of words found in its prompt: the faithfulness baseline a
  reward model should beat), BM25 (`rm/lexical.py`), word features, ROUGE-L (`data/`).
- `word_count` and `distinct_n`: whitespace-separated words (lower-cased for n-grams). Lengths and
  diversity are counted this way by `rmboost stats`, the report and the length-balanced accuracy,
  so a response's length is what a reader counts by eye.

Pure Python, no tokenizer. Stemming, stop words and synonyms are left out on purpose: a baseline
must stay a one-line rule anyone can recompute.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lower-cased `\\w+` words of `text`, in order."""
    return _WORD.findall(text.lower())


def overlap_share(prompt_text: str, response: str) -> float:
    """The share of the response's words (counted with repeats) that occur anywhere in the prompt;
    0 for a response without words."""
    found = set(words(prompt_text))
    said = words(response)
    return sum(w in found for w in said) / len(said) if said else 0.0


def word_count(text: str) -> int:
    """The number of whitespace-separated words of `text`."""
    return len(text.split())


def distinct_n(texts: Sequence[str], n: int) -> float | None:
    """Distinct n-grams over all n-grams of the (lower-cased, whitespace-split) texts, each text's
    n-grams counted within that text; None when the texts hold no n-gram."""
    grams: list[tuple[str, ...]] = []
    for t in texts:
        split = t.lower().split()
        grams.extend(tuple(split[i : i + n]) for i in range(len(split) - n + 1))
    return len(set(grams)) / len(grams) if grams else None


def length_bias(chosen: Sequence[str], rejected: Sequence[str]) -> tuple[float | None, float | None, float | None]:
    """(mean words of the chosen responses, of the rejected, the share of pairs whose chosen
    response has strictly more words), in whitespace words; None for each without pairs."""
    if len(chosen) != len(rejected):
        raise ValueError(f"one rejected response per chosen: {len(chosen)}, {len(rejected)}")
    if not chosen:
        return None, None, None
    cw, rw = [word_count(t) for t in chosen], [word_count(t) for t in rejected]
    n = len(cw)
    return sum(cw) / n, sum(rw) / n, sum(c > r for c, r in zip(cw, rw, strict=True)) / n
