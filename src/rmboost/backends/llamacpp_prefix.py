"""Where a waiting request of the embedded model starts: which free KV-cache sequence ("slot") it
runs in, and how much of its prompt it takes from a cache instead of evaluating it.

Requests often begin with tokens that another sequence holds or is evaluating right now: RMBoost's
y2 continues its y1; RLAIF's judge reads the same instructions, question and passages in both
orders, and asks for both at once; K pairs of one prompt share its policy prompt; RLAIF's and
West-of-N's samples of one prompt are asked for together. `next_admission` picks, over the waiting
jobs and the free slots, the admission that evaluates the fewest tokens:
- the free slot's own cache, as far as its tokens and the prompt agree (the only reuse there was
  before sharing);
- a copy of another slot's cache, free or busy, when that slot holds at least `MIN_SHARE` more of
  the prompt: llama.cpp copies the whole sequence (`llama_memory_seq_cp`), the decoder trims it;
- no admission yet for a job whose prefix (at least `MIN_SHARE` tokens) a busy slot is still
  evaluating: it would read those tokens a second time beside the first. The slot being waited for
  is earlier in the queue, so its prompt has the batch first anyway and the wait costs about
  nothing; the job is admitted, with a copy, once the whole shared prefix is evaluated.
Pure Python over token lists; `llamacpp_batch.BatchDecoder` applies the decision. Left out: which
cache is worth keeping (a copy lands in the least recently used slot, as a plain admission would).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rmboost.backends.llamacpp_jobs import Job, Slot, common_prefix

# A copy moves one sequence's whole KV buffer (n_ctx cells, ~23 KB a cell for SmolLM2-135M in f16:
# ~10-20 ms for 4,096 cells here), about what evaluating a few tokens costs; below 32 tokens of gain
# neither a copy nor a wait is worth it.
MIN_SHARE = 32


@dataclass(frozen=True, slots=True)
class Admission:
    job: int  # index of the job in the waiting queue
    slot: int  # index of the free slot it runs in
    source: int  # index of the slot whose cache it starts from (== slot: the slot's own)
    keep: int  # prompt tokens whose KV comes from `source`


def next_admission(waiting: Sequence[Job], slots: Sequence[Slot], reuse: bool = True,
                   share: bool = True) -> Admission | None:
    """The next job to admit and how, or None (no free slot, or every waiting job waits for a prefix).

    Most reused tokens first; then the earliest job; then no copy over a copy; then the least
    recently used slot. `reuse=False` reuses nothing; `share=False` only a slot's own cache."""
    free = [i for i, s in enumerate(slots) if s.job is None]
    best: tuple[tuple[int, int, bool, int], Admission] | None = None
    for j, job in enumerate(waiting if free else ()):
        limit = len(job.tokens) - 1  # at least one token is evaluated: it gives the logits
        held = [min(common_prefix(s.tokens, job.tokens), limit) if reuse else 0 for s in slots]
        richest = max(range(len(slots)), key=held.__getitem__)
        coming = coming_prefix(job, slots) if reuse and share else 0
        if coming >= MIN_SHARE and coming > held[richest]:
            continue
        for i in free:
            source = richest if share and held[richest] - held[i] >= MIN_SHARE else i
            key = (held[source], -job.order, source == i, -slots[i].last_used)
            if best is None or key > best[0]:
                best = (key, Admission(job=j, slot=i, source=source, keep=held[source]))
    return best[1] if best is not None else None


def coming_prefix(job: Job, slots: Sequence[Slot]) -> int:
    """The longest prefix of `job`'s prompt that a busy slot has still to evaluate (its own prompt
    shares it), capped so that the job evaluates one token itself; 0 when there is none."""
    coming = 0
    for s in slots:
        if s.job is not None and s.job.pending:
            coming = max(coming, common_prefix(s.job.tokens, job.tokens))
    return min(coming, len(job.tokens) - 1)
