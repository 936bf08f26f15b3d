"""The embedded backend on the real tiny model (SmolLM2-135M): batched decoding and prefix reuse must
not change what greedy decoding says, and the request options (seed, max_tokens, stop, logprobs,
context limit) must behave. Short answers keep the whole file to a few seconds on an idle machine."""

from __future__ import annotations

import asyncio

import pytest

from rmboost.backends.base import BackendError, ChatRequest
from rmboost.backends.llamacpp import LlamaCppBackend, packaged_gguf
from rmboost.backends.llamacpp_jobs import common_prefix

pytestmark = pytest.mark.slow

QUESTIONS = [
    "What is the capital of France?",
    "Name three colours of the rainbow.",
    "What do bees make?",
    "How many legs does a spider have?",
]


def greedy(content: str | list[dict[str, str]], max_tokens: int = 12, **kw: object) -> ChatRequest:
    messages = [{"role": "user", "content": content}] if isinstance(content, str) else content
    return ChatRequest.of(messages, max_tokens=max_tokens, temperature=0.0, **kw)


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    b = LlamaCppBackend(n_threads=2, n_seq=4, n_ctx=512)
    yield b
    asyncio.run(b.aclose())


@pytest.fixture(scope="module")
def no_reuse() -> LlamaCppBackend:
    b = LlamaCppBackend(n_threads=2, n_seq=4, n_ctx=512, prefix_reuse=False)
    yield b
    asyncio.run(b.aclose())


def complete(b: LlamaCppBackend, requests: list[ChatRequest]):
    return asyncio.run(b.complete(requests))


def test_common_prefix_matches_a_plain_loop() -> None:
    cases = [
        ([], []),
        ([1, 2, 3], [1, 2, 3]),
        ([1, 2, 3], [1, 2]),
        ([1, 2, 3], [1, 9, 3]),
        ([5], [6]),
        (list(range(1000)), [*range(700), -1, *range(701, 1000)]),
    ]
    for a, b in cases:
        expected = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        assert common_prefix(a, b) == expected


def test_greedy_batched_equals_one_at_a_time(no_reuse: LlamaCppBackend) -> None:
    requests = [greedy(q) for q in QUESTIONS]
    alone = [complete(no_reuse, [r])[0].text for r in requests]
    together = [c.text for c in complete(no_reuse, requests)]  # one llama.cpp batch per step
    assert together == alone
    assert all(t.strip() for t in alone)


def test_greedy_equals_bare_llama_cpp_python(no_reuse: LlamaCppBackend) -> None:
    from llama_cpp import Llama

    # The file the backend runs (the Q8_0 copy of the shipped model by default), not the shipped one.
    assert no_reuse.model_path != packaged_gguf() and no_reuse.model.endswith("@q8_0")
    llama = Llama(model_path=str(no_reuse.model_path), n_ctx=512, n_threads=2, verbose=False)
    try:
        bare = llama.create_chat_completion(
            messages=[{"role": "user", "content": QUESTIONS[0]}], max_tokens=12, temperature=0.0
        )
    finally:
        llama.close()
    assert complete(no_reuse, [greedy(QUESTIONS[0])])[0].text == bare["choices"][0]["message"]["content"]


def test_prefix_reuse_skips_the_shared_prompt_and_keeps_greedy_output(
    backend: LlamaCppBackend, no_reuse: LlamaCppBackend
) -> None:
    first = complete(backend, [greedy(QUESTIONS[2])])[0]
    follow_up = [
        {"role": "user", "content": QUESTIONS[2]},
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "Say that again in other words."},
    ]
    reused = complete(backend, [greedy(follow_up)])[0]
    fresh = complete(no_reuse, [greedy(follow_up)])[0]
    assert reused.extra["reused_prompt_tokens"] >= backend.count_tokens(
        [{"role": "user", "content": QUESTIONS[2]}]
    )
    assert fresh.extra["reused_prompt_tokens"] == 0
    assert reused.text == fresh.text
    assert reused.prompt_tokens == fresh.prompt_tokens


def test_seeded_sampling_is_reproducible_from_the_same_cache_state(
    backend: LlamaCppBackend, no_reuse: LlamaCppBackend
) -> None:
    """A seed repeats its sample when the prompt is computed the same way. Whether a prompt token's
    KV came from a cache or from this request's own batch changes the logits in the last bits (with
    the Q8_0 copy enough to flip a T=1 draw: docs/PERFORMANCE.md), so each pair compared here is
    computed alike: both from nothing, or both on top of the same cached prefix."""
    request = ChatRequest.of(
        [{"role": "user", "content": "Tell me a short story."}], max_tokens=12, temperature=1.0, seed=7
    )
    assert complete(no_reuse, [request])[0].text == complete(no_reuse, [request])[0].text
    complete(backend, [request])  # a slot now holds the prompt: the next two reuse all but its last token
    first, second = complete(backend, [request])[0], complete(backend, [request])[0]
    assert first.extra["reused_prompt_tokens"] == second.extra["reused_prompt_tokens"] == first.prompt_tokens - 1
    assert first.text == second.text


def test_max_tokens_truncates_with_finish_reason_length(backend: LlamaCppBackend) -> None:
    out = complete(backend, [greedy("Count from one to one hundred in words.", max_tokens=5)])[0]
    assert out.finish_reason == "length"
    assert out.completion_tokens == 5


def test_stop_string_cuts_the_answer(backend: LlamaCppBackend) -> None:
    full = complete(backend, [greedy(QUESTIONS[0])])[0].text
    word = full.split()[1]
    out = complete(backend, [greedy(QUESTIONS[0], stop=(word,))])[0]
    assert out.finish_reason == "stop"
    assert out.text == full[: full.index(word)]


def test_logprobs_one_entry_per_token(backend: LlamaCppBackend) -> None:
    out = complete(backend, [greedy(QUESTIONS[1], max_tokens=4, logprobs=3)])[0]
    assert out.top_logprobs is not None
    assert len(out.top_logprobs) >= out.completion_tokens
    for alternatives in out.top_logprobs:
        assert len(alternatives) <= 3
        assert all(v <= 0 for v in alternatives.values())


def test_prompt_longer_than_the_context_is_a_final_error(backend: LlamaCppBackend) -> None:
    with pytest.raises(BackendError) as err:
        complete(backend, [greedy("word " * 600)])
    assert not err.value.retryable


def test_concurrent_conversations_each_continue_on_their_own_sequence(backend: LlamaCppBackend) -> None:
    """RMBoost's shape: several y1 calls in flight, each followed by a y2 that continues it. Every
    y2 must find its y1's prefix, although other calls ran on the model in between."""

    async def conversation(question: str) -> tuple[int, int]:
        first = (await backend.complete([greedy(question, max_tokens=8)]))[0]
        follow_up = [
            {"role": "user", "content": question},
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": "Now say it differently."},
        ]
        second = (await backend.complete([greedy(follow_up, max_tokens=8)]))[0]
        return second.extra["reused_prompt_tokens"], first.prompt_tokens

    async def all_of_them() -> list[tuple[int, int]]:
        return list(await asyncio.gather(*(conversation(q) for q in QUESTIONS)))

    for reused, y1_prompt in asyncio.run(all_of_them()):
        assert reused >= y1_prompt


def test_a_cancelled_request_does_not_disturb_the_others() -> None:
    one_slot = LlamaCppBackend(n_threads=2, n_seq=1, n_ctx=512)

    async def scenario() -> list[str]:
        tasks = [asyncio.create_task(one_slot.complete([greedy(q, max_tokens=6)])) for q in QUESTIONS[:3]]
        await asyncio.sleep(0)  # all three submitted; with one sequence, two of them wait
        tasks[1].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        await one_slot.aclose()
        assert isinstance(done[1], asyncio.CancelledError)
        return [done[0][0].text, done[2][0].text]

    first, third = asyncio.run(scenario())
    assert first.strip() and third.strip()


@pytest.mark.parametrize("user_setting", [None, "ACTIVE"])
def test_openmp_threads_sleep_between_steps_unless_the_user_says_otherwise(user_setting: str | None) -> None:
    """libgomp reports the policy it read when loaded (`OMP_DISPLAY_ENV`); the process environment
    is left as it was, so an OpenMP library loaded later (torch) is not affected."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update({"OMP_DISPLAY_ENV": "true", **({"OMP_WAIT_POLICY": user_setting} if user_setting else {})})
    code = ("import os; from rmboost.backends.llamacpp_runtime import import_llama_cpp; import_llama_cpp(); "
            "print(os.environ.get('OMP_WAIT_POLICY'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"OMP_WAIT_POLICY = '{user_setting or 'PASSIVE'}'" in done.stderr
    assert done.stdout.strip() == str(user_setting)
