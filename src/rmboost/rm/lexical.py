"""BM25 scores of text units against a query, over the words of `rmboost.measure.words` (a word
is a lower-cased `\\w+` match; pure Python, no tokenizer).

Used by `evidence.py` (which prompt sentences best match a response); `text_features.py` takes its
`words` from here too. The words themselves and the `overlap` share are `measure.words`', shared
with `data/`. Stemming, stop words and synonyms are left out on purpose.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from rmboost.measure.words import words


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
