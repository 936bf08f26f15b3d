"""The pieces of the embedded model's continuous batching that hold no llama.cpp state: a request's
sampling settings and result, a job and the KV-cache slot it runs in, the longest shared prefix of
two token lists, a request's sampler chain, and the top-k log-probabilities of one logits row.
`llamacpp_batch.BatchDecoder` owns the model and context and runs the steps."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_SEED = 0xFFFFFFFF  # llama.cpp's "pick a random seed"


@dataclass(frozen=True, slots=True)
class Sampling:
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 1.0
    top_k: int = 40
    min_p: float = 0.05
    seed: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: int | None = None
    tags: tuple[str, ...] = ()  # constrain the answer to these tags in order (a GBNF grammar)
    choices: tuple[str, ...] = ()  # constrain the answer to exactly one of these strings


@dataclass(slots=True)
class Result:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    reused_tokens: int  # prompt tokens whose KV came from a cache instead of being evaluated ...
    copied_tokens: int = 0  # ... of which from another slot's cache (`llamacpp_prefix`)
    top_logprobs: list[dict[str, float]] | None = None


@dataclass(slots=True)
class Job:
    tokens: list[int]
    sampling: Sampling
    future: concurrent.futures.Future[Result]
    order: int
    pending: list[int] = field(default_factory=list)  # prompt tokens not yet evaluated
    next_token: int | None = None
    generated: list[int] = field(default_factory=list)
    text: bytes = b""
    reused: int = 0
    copied: int = 0
    sampler: Any = None
    logprobs: list[dict[str, float]] = field(default_factory=list)


@dataclass(slots=True)
class Slot:
    seq_id: int
    tokens: list[int] = field(default_factory=list)  # what this sequence's KV cache holds
    job: Job | None = None
    last_used: int = 0


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix, by binary search over C-speed slice comparisons."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def tags_grammar(tags: tuple[str, ...]) -> str:
    """A GBNF grammar for an answer that is `tags` in order, each holding text without `<`, with
    whitespace between them: `<response>...</response>`."""
    body = ' ws '.join(f'"<{t}>" text "</{t}>"' for t in tags)
    return f'root ::= ws {body}\ntext ::= [^<]*\nws ::= [ \\t\\n]*\n'


def choices_grammar(choices: tuple[str, ...]) -> str:
    """A GBNF grammar for an answer that is exactly one of `choices`."""
    quoted = (c.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for c in choices)
    return "root ::= " + " | ".join(f'"{c}"' for c in quoted) + "\n"


def grammar_of(s: Sampling) -> str | None:
    """The grammar a request's answer must follow, or None."""
    if s.tags and s.choices:
        raise ValueError("a request constrains its answer to tags or to choices, not both")
    return tags_grammar(s.tags) if s.tags else choices_grammar(s.choices) if s.choices else None


def make_sampler(ll: Any, s: Sampling, vocab: Any = None) -> Any:
    """A llama.cpp sampler chain for one request: the grammar of its tags or choices first when
    asked, then greedy at temperature 0, else top-k, top-p, min-p and temperature, seeded with the
    request's seed."""
    chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
    grammar = grammar_of(s)
    if grammar is not None:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_grammar(vocab, grammar.encode(), b"root"))
    if s.temperature <= 0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_greedy())
        return chain
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_k(s.top_k))
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_p(s.top_p, 1))
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_min_p(s.min_p, 1))
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_temp(s.temperature))
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dist(DEFAULT_SEED if s.seed is None else s.seed))
    return chain


def top_logprobs(logits: Any, k: int, piece: Any, sampled: int | None = None) -> dict[str, float]:
    """{token text: log-probability} of the `k` likeliest tokens of one logits row, and of the
    `sampled` token when given (as OpenAI's API does), so that a token a grammar forced outside the
    top k can still be matched to the text; `piece(t)` gives a token's bytes. The probabilities
    are the model's own, before any grammar."""
    logp = np.asarray(logits, dtype=np.float64)
    logp = logp - logp.max()
    logp -= np.log(np.exp(logp).sum())
    top = [int(t) for t in np.argpartition(-logp, k)[:k]]
    if sampled is not None and sampled not in top:
        top.append(sampled)
    top.sort(key=lambda t: -logp[t])
    return {piece(t).decode("utf-8", "replace").rstrip("\x00"): float(logp[t]) for t in top}
