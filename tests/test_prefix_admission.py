"""Which free sequence a waiting request of the embedded model gets, and how much of its prompt it
takes from a cache (`llamacpp_prefix.next_admission`), on hand-made slot states whose right answer
is worked out by hand below. No model: the decisions are pure Python over token lists."""

from __future__ import annotations

import concurrent.futures

from rmboost.backends.llamacpp_jobs import Job, Sampling, Slot
from rmboost.backends.llamacpp_prefix import MIN_SHARE, Admission, next_admission

PASSAGES = list(range(1000, 1400))  # a 400-token shared prefix: instructions, question, passages


def job(tokens: list[int], order: int, evaluated: int | None = None) -> Job:
    j = Job(tokens=tokens, sampling=Sampling(), future=concurrent.futures.Future(), order=order)
    j.pending = tokens[evaluated:] if evaluated is not None else list(tokens)
    return j


def busy(seq_id: int, running: Job, evaluated: int, generated: tuple[int, ...] = ()) -> Slot:
    """A slot running `running`, which has evaluated its first `evaluated` prompt tokens."""
    running.pending = running.tokens[evaluated:]
    tokens = running.tokens[:evaluated] + (list(generated) if evaluated == len(running.tokens) else [])
    return Slot(seq_id=seq_id, tokens=tokens, job=running, last_used=0)


def test_a_free_slot_with_the_prefix_is_used_as_it_is() -> None:
    slots = [Slot(0, tokens=[*PASSAGES, 7, 7], last_used=5), Slot(1, last_used=1)]
    plan = next_admission([job([*PASSAGES, 8, 9], order=1)], slots)
    assert plan == Admission(job=0, slot=0, source=0, keep=len(PASSAGES))


def test_the_second_judge_order_copies_the_prefix_its_first_order_evaluated() -> None:
    first = job([*PASSAGES, 1, 2, 3], order=1)
    slots = [busy(0, first, evaluated=len(first.tokens), generated=[50, 51]), Slot(1)]
    plan = next_admission([job([*PASSAGES, 3, 2, 1], order=2)], slots)
    assert plan == Admission(job=0, slot=1, source=0, keep=len(PASSAGES))


def test_it_waits_while_the_prefix_is_still_being_evaluated_then_copies_it() -> None:
    first = job([*PASSAGES, 1, 2, 3], order=1)
    slots = [busy(0, first, evaluated=100), Slot(1), Slot(2)]
    second = job([*PASSAGES, 3, 2, 1], order=2)
    assert next_admission([second], slots) is None  # 300 more tokens are coming in slot 0
    slots[0] = busy(0, first, evaluated=len(PASSAGES) - 1)  # one shared token still to come: still worth it
    assert next_admission([second], slots) is None
    slots[0] = busy(0, first, evaluated=len(first.tokens))
    assert next_admission([second], slots) == Admission(job=0, slot=1, source=0, keep=len(PASSAGES))


def test_a_waiting_job_does_not_hold_up_an_unrelated_one() -> None:
    first = job([*PASSAGES, 1], order=1)
    slots = [busy(0, first, evaluated=10), Slot(1)]
    waiting = [job([*PASSAGES, 2], order=2), job([5, 6, 7], order=3)]
    assert next_admission(waiting, slots) == Admission(job=1, slot=1, source=1, keep=0)


def test_two_requests_asked_together_are_admitted_one_after_the_other() -> None:
    slots = [Slot(0, last_used=2), Slot(1, last_used=1)]
    waiting = [job([*PASSAGES, 1], order=1), job([*PASSAGES, 2], order=2)]
    plan = next_admission(waiting, slots)
    assert plan == Admission(job=0, slot=1, source=1, keep=0)  # the earlier job, the least recently used slot
    slots[1].job, slots[1].tokens = waiting.pop(0), []  # what the decoder does with the plan
    assert next_admission(waiting, slots) is None


def test_a_short_shared_prefix_is_neither_copied_nor_waited_for() -> None:
    first = job([*range(MIN_SHARE - 1), 1, 2], order=1)
    slots = [busy(0, first, evaluated=3), Slot(1, tokens=[])]
    assert next_admission([job([*range(MIN_SHARE - 1), 9], order=2)], slots) == Admission(0, 1, 1, 0)
    slots[0] = busy(0, first, evaluated=len(first.tokens))
    assert next_admission([job([*range(MIN_SHARE - 1), 9], order=2)], slots) == Admission(0, 1, 1, 0)


def test_at_least_one_prompt_token_is_evaluated() -> None:
    prompt = [*PASSAGES, 1]
    slots = [Slot(0, tokens=[*prompt, 60, 61])]
    assert next_admission([job(prompt, order=1)], slots) == Admission(0, 0, 0, len(prompt) - 1)
    first = job(prompt, order=1)
    slots = [busy(0, first, evaluated=len(prompt), generated=[60]), Slot(1)]
    assert next_admission([job(prompt, order=2)], slots) == Admission(0, 1, 0, len(prompt) - 1)


def test_the_least_recently_used_slot_takes_a_copy() -> None:
    first = job([*PASSAGES, 1], order=1)
    slots = [busy(0, first, evaluated=len(first.tokens)), Slot(1, last_used=9), Slot(2, last_used=3)]
    assert next_admission([job([*PASSAGES, 2], order=2)], slots) == Admission(0, 2, 0, len(PASSAGES))


def test_without_sharing_only_the_slots_own_cache_counts_and_nothing_waits() -> None:
    first = job([*PASSAGES, 1], order=1)
    slots = [busy(0, first, evaluated=10), Slot(1, tokens=PASSAGES[:50])]
    second = job([*PASSAGES, 2], order=2)
    assert next_admission([second], slots, share=False) == Admission(0, 1, 1, 50)
    assert next_admission([second], slots, reuse=False) == Admission(0, 1, 1, 0)


def test_no_free_slot_no_admission() -> None:
    first = job([1, 2, 3], order=1)
    assert next_admission([job([1, 2, 4], order=2)], [busy(0, first, evaluated=3)]) is None
    assert next_admission([], [Slot(0)]) is None
