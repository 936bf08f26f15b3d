"""The embedded model's Q8_0 and F16 copies (`backends/gguf_weights.py`) are the shipped model: the
same tokenizer, and greedy answers as close to the F16 reference as the shipped Q4_1 file's own.

Yardstick, measured on fixed prompts with bare llama-cpp-python (not rmboost's decoder): F16 made
from the shipped file holds the shipped numbers (the Q4_1 values in 16-bit floats) and is the
reference; its greedy continuation of each prompt is fed to every file (teacher forcing), which
gives per token (a) the log-probability each file puts on the reference's token and (b) whether
its own greedy choice is the reference's. The shipped Q4_1 file, as llama.cpp computes with it
(activations rounded to 8 bits), already departs from the reference by this yardstick; that
departure, measured in the same run, is the tolerance. Measured here (12 prompts, 32 tokens,
AVX2 build): mean |d log p| 0.037 (Q4_1) and 0.049 (Q8_0) nats per token; first 8 tokens equal
to F16's on 8 (Q4_1) and 9 (Q8_0) of 12 prompts. The copy passes when its mean |d log p| is at
most twice the shipped file's and it agrees on the first 8 tokens of at least one prompt fewer
than the shipped file does; another model (or a broken copy) is off by nats, not hundredths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rmboost.backends.gguf_weights import FORMATS, copy_path, weights_copy
from rmboost.backends.llamacpp import packaged_gguf
from rmboost.errors import UsageError

PROMPTS = [
    "What is the capital of France?", "Name three colours of the rainbow.", "What do bees make?",
    "How many legs does a spider have?", "Why is the sky blue?", "Write one sentence about the sea.",
    "What is two plus two?", "Who wrote Romeo and Juliet?", "Give a synonym for happy.",
    "What is water made of?", "Summarise: The cat sat on the mat all day and did not move.",
    "Is a tomato a fruit or a vegetable?",
]
TEXTS = [
    "Hello, world!", "  leading spaces and\ttabs\nand new lines  ", "Zürich, São Paulo, Łódź, 東京, مرحبا 🙂",
    "def f(x):\n    return x ** 2  # squares", "3.14159 + 2,718 = 5.85959; 1e-9 < 0x1F",
    "<|im_start|>user\nQuestion?<|im_end|>\n<|im_start|>assistant\n", "TL;DR: don't panic.",
]
TOKENS = 32  # greedy tokens per prompt
LEADING = 8  # "the first tokens agree" means the first 8


def chat(question: str) -> str:
    """SmolLM2's chat layout, written out so the oracle does not use rmboost's formatter."""
    return ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")


def test_copies_are_made_once_beside_the_source_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMBOOST_MODEL_DIR", str(tmp_path))
    source = packaged_gguf()
    assert weights_copy(source, "shipped") == source
    made = weights_copy(source, "q8_0", n_threads=1)
    assert made == copy_path(source, "q8_0") and made.parent.parent == tmp_path and made.is_file()
    stamp = made.stat().st_mtime_ns
    assert weights_copy(source, "q8_0") == made and made.stat().st_mtime_ns == stamp  # not made again
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # no temporary file left behind
    with pytest.raises(UsageError, match="weights=q5"):
        weights_copy(source, "q5")


@pytest.mark.slow
def test_every_copy_has_the_shipped_tokenizer() -> None:
    from llama_cpp import Llama

    vocabs = {f: Llama(model_path=str(weights_copy(packaged_gguf(), f)), vocab_only=True, verbose=False)
              for f in FORMATS}
    try:
        shipped = vocabs["shipped"]
        for fmt, vocab in vocabs.items():
            assert vocab.n_vocab() == shipped.n_vocab(), fmt
            assert (vocab.token_bos(), vocab.token_eos()) == (shipped.token_bos(), shipped.token_eos()), fmt
            assert vocab.metadata["tokenizer.chat_template"] == shipped.metadata["tokenizer.chat_template"], fmt
            for text in TEXTS:
                ids = vocab.tokenize(text.encode(), add_bos=True, special=True)
                assert ids == shipped.tokenize(text.encode(), add_bos=True, special=True), (fmt, text)
                assert vocab.detokenize(ids[1:]) == shipped.detokenize(ids[1:]), (fmt, text)
    finally:
        for vocab in vocabs.values():
            vocab.close()


def log_softmax(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float64) - rows.max(axis=1, keepdims=True)
    return rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))


def reference_continuations(llama: object, eos: int) -> list[tuple[list[int], list[int]]]:
    """(prompt tokens, the F16 file's greedy continuation) per prompt, one token at a time."""
    out = []
    for question in PROMPTS:
        prompt = llama.tokenize(chat(question).encode(), add_bos=False, special=True)  # type: ignore[attr-defined]
        llama.reset()  # type: ignore[attr-defined]
        llama.eval(prompt)  # type: ignore[attr-defined]
        continuation: list[int] = []
        while len(continuation) < TOKENS:
            token = int(np.argmax(llama.scores[llama.n_tokens - 1]))  # type: ignore[attr-defined]
            if token == eos:
                break
            continuation.append(token)
            llama.eval([token])  # type: ignore[attr-defined]
        out.append((prompt, continuation))
    return out


def distance(llama: object, cases: list[tuple[list[int], list[int]]], eos: int,
             ref_logp: list[np.ndarray]) -> tuple[float, int]:
    """(mean |d log p| per reference token, prompts whose first LEADING greedy tokens are the reference's)."""
    gaps, agreeing = [], 0
    for (prompt, continuation), ref in zip(cases, ref_logp, strict=True):
        llama.reset()  # type: ignore[attr-defined]
        llama.eval(prompt + continuation)  # type: ignore[attr-defined]
        logp = log_softmax(llama.scores[len(prompt) - 1: len(prompt) + len(continuation)])  # type: ignore[attr-defined]
        steps = np.arange(len(continuation))
        gaps.extend(np.abs(logp[steps, continuation] - ref[steps, continuation]).tolist())
        wanted = [*continuation, eos][:LEADING]
        agreeing += logp.argmax(axis=1)[: len(wanted)].tolist() == wanted
    return float(np.mean(gaps)), agreeing


@pytest.mark.slow
def test_the_q8_0_copy_answers_within_the_shipped_files_distance_of_f16() -> None:
    from llama_cpp import Llama

    def load(fmt: str) -> Llama:
        # One thread: ggml splits a matrix product by rows, so no number depends on the thread count,
        # and one thread does not spin against other work on a shared machine.
        return Llama(model_path=str(weights_copy(packaged_gguf(), fmt)), n_ctx=512, n_threads=1, n_threads_batch=1,
                     logits_all=True, verbose=False)

    reference = load("f16")
    eos = reference.token_eos()
    cases = reference_continuations(reference, eos)
    assert sum(len(c) for _, c in cases) > 5 * len(PROMPTS)  # the yardstick has tokens to compare
    ref_logp = []
    for prompt, continuation in cases:
        reference.reset()
        reference.eval(prompt + continuation)
        ref_logp.append(log_softmax(reference.scores[len(prompt) - 1: len(prompt) + len(continuation)]))
    reference.close()
    found = {}
    for fmt in ("shipped", "q8_0"):
        llama = load(fmt)
        found[fmt] = distance(llama, cases, eos, ref_logp)
        llama.close()
    (shipped_gap, shipped_agree), (copy_gap, copy_agree) = found["shipped"], found["q8_0"]
    assert 0 < shipped_gap < 0.2, found  # the shipped file is near its own F16 numbers, but not equal
    assert copy_gap <= 2 * shipped_gap, found
    assert copy_agree >= shipped_agree - 1, found


def test_the_backend_runs_the_q8_0_copy_unless_told_otherwise() -> None:
    from rmboost.backends.llamacpp import LlamaCppBackend

    shipped = packaged_gguf()
    default = LlamaCppBackend()
    assert (default.model_path, default.model) == (copy_path(shipped, "q8_0"), f"{shipped.name}@q8_0")
    as_shipped = LlamaCppBackend(weights="shipped")
    assert (as_shipped.model_path, as_shipped.model) == (shipped, shipped.name)
    named = LlamaCppBackend(model=str(shipped))  # a file you name runs as it is
    assert (named.model_path, named.model) == (shipped, shipped.name)
    with pytest.raises(UsageError, match="shipped, q8_0, f16"):
        LlamaCppBackend(weights="q4_0")
