"""How a (prompt, response) pair is cut to a model's maximum length, on token ids.

The rule, for a budget of `max_tokens` tokens (special tokens already subtracted):
1. If prompt and response fit, nothing is cut.
2. The response keeps its first tokens, up to half the budget, or more when the prompt is short;
   a response is seldom long (QA-Feedback answers are ~90 tokens), so it is usually kept whole.
3. The prompt gets the rest. When it does not fit, its first `head` tokens (the task instruction)
   and as many of its LAST tokens as fit are kept, and the middle is dropped. Every prompt template
   in rmboost puts the question last, after the passages, so the question and the passages nearest
   to it survive; for a conversation the latest turns survive.
`head` is at most a quarter of the prompt's share, so the tail always gets most of the room.
What a "token" is belongs to the caller's tokenizer; this module only counts ids. Choosing which
sentences of a long prompt to keep (the evidence) is `evidence.py`'s job, done before this cut.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_HEAD = 32


def keep_head_and_tail(ids: Sequence[int], budget: int, head: int = DEFAULT_HEAD) -> list[int]:
    """`ids` cut to `budget` by keeping the first `head` ids (at most budget // 4) and the last ones."""
    if budget <= 0:
        return []
    if len(ids) <= budget:
        return list(ids)
    h = min(head, budget // 4)
    return list(ids[:h]) + list(ids[len(ids) - (budget - h) :])


def response_share(prompt_len: int, response_len: int, max_tokens: int) -> int:
    """How many response tokens rule 2 keeps when prompt and response share `max_tokens`."""
    if prompt_len + response_len <= max_tokens:
        return response_len
    return min(response_len, max(max_tokens // 2, max_tokens - prompt_len))


def fit_pair(
    prompt_ids: Sequence[int], response_ids: Sequence[int], max_tokens: int, head: int = DEFAULT_HEAD
) -> tuple[list[int], list[int]]:
    """Prompt and response ids cut by the rule above so that together they fit `max_tokens`."""
    if len(prompt_ids) + len(response_ids) <= max_tokens:
        return list(prompt_ids), list(response_ids)
    response_keep = response_share(len(prompt_ids), len(response_ids), max_tokens)
    prompt_budget = max_tokens - response_keep
    return keep_head_and_tail(prompt_ids, prompt_budget, head), list(response_ids[:response_keep])
