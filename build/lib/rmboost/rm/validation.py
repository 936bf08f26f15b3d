"""The validation split a reward model's training selects its checkpoint on: carved from the
training pairs by question, so every pair of a question falls on one side.

A pair's question is its `question_id` extra when it has one (QA-Feedback pairs do), otherwise a
hash of its prompt. A question goes to validation when a hash of its key falls below `fraction`,
so the split does not depend on the order of the pairs, and the same question is on the same side
in every run. Only pairs given for training are split: test pairs never reach this module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from rmboost.records import Pair


def question_key(pair: Pair) -> str:
    """What groups a pair with the other pairs of the same question."""
    qid = pair.extra.get("question_id")
    if qid is not None and str(qid):
        return f"id:{qid}"
    blob = json.dumps(pair.prompt, sort_keys=True, ensure_ascii=False)
    return "prompt:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def in_validation(key: str, fraction: float) -> bool:
    """Whether the question with `key` belongs to a validation split of about `fraction`."""
    draw = int(hashlib.sha256(("validation:" + key).encode("utf-8")).hexdigest()[:12], 16) / 16**12
    return draw < fraction


def split_by_question(pairs: Sequence[Pair], fraction: float) -> tuple[list[Pair], list[Pair]]:
    """(training part, validation part) of `pairs`, by question; each keeps the input order. With
    fewer than two questions, or a fraction that would leave one side empty, nothing is held out."""
    keys = [question_key(p) for p in pairs]
    if fraction <= 0 or len(set(keys)) < 2:
        return list(pairs), []
    held = [in_validation(k, fraction) for k in keys]
    train = [p for p, h in zip(pairs, held, strict=True) if not h]
    validation = [p for p, h in zip(pairs, held, strict=True) if h]
    if not train or not validation:
        return list(pairs), []
    return train, validation
