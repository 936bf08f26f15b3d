"""Word-level text statistics the reward-model package shares: the words of a text, the `overlap`
share (how much of a response is made of words found in its prompt) and BM25 scores of text units
against a query. Pure Python, no tokenizer: a word is a lower-cased `\\w+` match.

Used by `evaluate.py` (the `overlap` baseline) and `evidence.py` (which prompt sentences best match
a response). Stemming, stop words and synonyms are left out on purpose: the baseline must stay a
one-line rule anyone can recompute.
"""

from __future__ import annotations

import math
import re
from collections import Counter
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


def bm25_scores(units: Sequence[str], query: str, k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 score of each unit for `query`, with document frequencies counted over `units`
    themselves. Each distinct query word counts once, so a long response does not favour units that
    repeat its most frequent word."""
    bags = [Counter(words(u)) for u in units]
    if not bags:
        return []
    lengths = [sum(bag.values()) for bag in bags]
    mean_length = (sum(lengths) / len(lengths)) or 1.0
    n = len(bags)
    terms = set(words(query))
    df = {t: sum(1 for bag in bags if t in bag) for t in terms}
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items() if d}
    scores = []
    for bag, length in zip(bags, lengths, strict=True):
        norm = k1 * (1 - b + b * length / mean_length)
        scores.append(sum(w * bag[t] * (k1 + 1) / (bag[t] + norm) for t, w in idf.items() if t in bag))
    return scores
