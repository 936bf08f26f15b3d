"""Continuous batching for the embedded model: many generations decoded together, one llama.cpp
batch per step, each in its own KV-cache sequence that keeps its prompt prefix for the next call.

One worker thread owns the llama.cpp context (llama.cpp is not thread-safe). Callers `submit()`
prompt tokens from any thread and get a `concurrent.futures.Future`. Each step the worker puts
into one `llama_batch` the next token of every sequence that is generating, then fills the rest
with prompt tokens of newly admitted requests, calls `llama_decode` once and samples one token per
sequence from its own logits row. Which free sequence ("slot") a request gets, and how much of its
prompt comes from a cache, is `llamacpp_prefix.next_admission`'s decision: the slot's own cache
(RMBoost's y2 lands on the slot its y1 just left), a copy of another slot's cache (RLAIF's second
judge order takes the instructions, question and passages its first order evaluated), or a wait
while a busy slot evaluates the prefix the request shares. Only the tokens after the prefix are
evaluated.

Sampling is per request (its own llama.cpp sampler chain seeded with the request's seed). Greedy
decoding (temperature 0) gives the single-stream tokens except where float rounding of a batched
matmul flips a near-tie; seeded sampling is reproducible for a given batch composition only, since
which requests share a step (and so whether a prefix was evaluated alone or beside others) changes
the logits in the last bits. Left out: chat templates (the backend formats prompts). A request may
carry a tag layout or a list of allowed answers, which its sampler chain enforces with a llama.cpp
grammar (`llamacpp_jobs.grammar_of`).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import itertools
import threading
from collections import deque
from pathlib import Path

import numpy as np

from rmboost.backends.llamacpp_jobs import Job, Result, Sampling, Slot, make_sampler, top_logprobs
from rmboost.backends.llamacpp_prefix import next_admission
from rmboost.backends.llamacpp_runtime import import_llama_cpp


class BatchDecoder:
    """Owns one model and one context with `n_seq` sequences of `n_ctx` tokens each."""

    def __init__(
        self,
        model_path: Path,
        n_ctx: int,
        n_seq: int,
        n_threads: int,
        n_batch: int,
        prefix_reuse: bool = True,
        share_prefix: bool = True,
    ) -> None:
        llama_cpp = import_llama_cpp()
        from llama_cpp import _internals
        from llama_cpp._logger import set_verbose

        set_verbose(False)  # llama.cpp logs every graph tensor at load otherwise
        self._ll = llama_cpp
        self.model = _internals.LlamaModel(
            path_model=str(model_path), params=llama_cpp.llama_model_default_params(), verbose=False
        )
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * n_seq
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = n_seq
        params.kv_unified = False  # one KV stream per sequence: attention only over its own tokens
        params.n_threads = params.n_threads_batch = n_threads
        params.no_perf = True
        # As `llama_cpp.Llama` does: flash attention off, so both give the same greedy tokens.
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = _internals.LlamaContext(model=self.model, params=params, verbose=False)
        self.n_ctx = int(llama_cpp.llama_n_ctx_seq(self.ctx.ctx))
        self.n_batch = n_batch
        self.prefix_reuse = prefix_reuse
        self.share_prefix = share_prefix
        self.n_vocab = self.model.n_vocab()
        self._vocab = self.model.vocab
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._slots = [Slot(seq_id=i) for i in range(n_seq)]
        self._waiting: deque[Job] = deque()
        self._cv = threading.Condition()
        self._closed = False
        self._clock = itertools.count(1)
        self._piece = ctypes.create_string_buffer(256)
        self.steps = 0
        self.prompt_tokens = 0  # every prompt token submitted ...
        self.reused_tokens = 0  # ... and those whose KV came from a slot's cache ...
        self.copied_tokens = 0  # ... of which copied from another slot's cache,
        self.copies = 0  # in this many copies
        self.thread = threading.Thread(target=self._run, name="llamacpp-batch", daemon=True)
        self.thread.start()

    def tokenize(self, text: str) -> list[int]:
        """Thread-safe: tokenizing reads only the vocabulary."""
        return list(self.model.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def submit(self, tokens: list[int], sampling: Sampling) -> concurrent.futures.Future[Result]:
        if not tokens:
            raise ValueError("empty prompt")
        if len(tokens) >= self.n_ctx:
            raise ValueError(f"the prompt takes {len(tokens)} tokens; the context holds {self.n_ctx}")
        future: concurrent.futures.Future[Result] = concurrent.futures.Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("decoder is closed")
            self._waiting.append(
                Job(tokens=tokens, sampling=sampling, future=future, order=next(self._clock))
            )
            self._cv.notify()
        return future

    def forget(self) -> None:
        """Drop every sequence's cached tokens (benchmarks compare runs from a cold cache)."""
        with self._cv:
            if self._waiting or any(s.job for s in self._slots):
                raise RuntimeError("forget() needs an idle decoder")
            self._ll.llama_memory_clear(self.ctx.memory, True)
            for slot in self._slots:
                slot.tokens = []

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self.thread.join()
        self._ll.llama_batch_free(self._batch)
        self.ctx.close()
        self.model.close()

    # --- worker thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._closed and not self._waiting and not any(s.job for s in self._slots):
                    self._cv.wait()
                if self._closed:
                    for job in [*self._waiting, *(s.job for s in self._slots if s.job)]:
                        if not job.future.done():
                            job.future.set_exception(RuntimeError("the model was closed"))
                    return
                self._admit()
            try:
                self._step()
            except Exception as e:  # a failed decode fails the requests in it, not the thread
                for slot in self._slots:
                    if slot.job is not None:
                        self._finish(slot, error=e)
                        self._ll.llama_memory_seq_rm(self.ctx.memory, slot.seq_id, -1, -1)
                        slot.tokens = []

    def _admit(self) -> None:
        """Give free slots to waiting jobs, the most reused prompt tokens first (`llamacpp_prefix`)."""
        while (plan := next_admission(self._waiting, self._slots, self.prefix_reuse, self.share_prefix)) is not None:
            job = self._waiting[plan.job]
            del self._waiting[plan.job]
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller gave up while it waited (early stop, Ctrl-C)
            slot, source = self._slots[plan.slot], self._slots[plan.source]
            if source is not slot:
                # Across KV streams llama.cpp copies a whole sequence, at the start of the next decode
                # (before this step's tokens are placed); the cells past the prefix are dropped below.
                self._ll.llama_memory_seq_cp(self.ctx.memory, source.seq_id, slot.seq_id, -1, -1)
                slot.tokens = list(source.tokens)
                self.copies += 1
                self.copied_tokens += plan.keep
                job.copied = plan.keep
            self._ll.llama_memory_seq_rm(self.ctx.memory, slot.seq_id, plan.keep, -1)
            slot.tokens = slot.tokens[: plan.keep]
            job.pending = job.tokens[plan.keep :]
            job.reused = plan.keep
            self.prompt_tokens += len(job.tokens)
            self.reused_tokens += plan.keep
            job.sampler = make_sampler(self._ll, job.sampling, self._vocab)
            slot.job = job

    def _step(self) -> None:
        batch, n = self._batch, 0
        outputs: list[tuple[Slot, int]] = []
        added: list[tuple[Slot, list[int]]] = []

        def add(slot: Slot, tokens: list[int], want_logits: bool) -> None:
            nonlocal n
            pos = len(slot.tokens)
            for k, tok in enumerate(tokens):
                batch.token[n] = tok
                batch.pos[n] = pos + k
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = slot.seq_id
                batch.logits[n] = 0
                n += 1
            if want_logits:
                batch.logits[n - 1] = 1
                outputs.append((slot, n - 1))
            added.append((slot, tokens))

        busy = [s for s in self._slots if s.job is not None]
        for slot in busy:  # generating sequences first: one token each keeps them all moving
            job = slot.job
            assert job is not None
            if not job.pending and job.next_token is not None:
                add(slot, [job.next_token], True)
        for slot in sorted((s for s in busy if s.job and s.job.pending), key=lambda s: s.job.order):  # type: ignore[union-attr]
            job = slot.job
            assert job is not None
            room = self.n_batch - n
            if room <= 0:
                break
            chunk, job.pending = job.pending[:room], job.pending[room:]
            add(slot, chunk, not job.pending)
        if n == 0:
            return
        batch.n_tokens = n
        rc = self._ll.llama_decode(self.ctx.ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        self.steps += 1
        for slot, tokens in added:
            slot.tokens.extend(tokens)
        for slot, index in outputs:
            self._sample(slot, index)

    def _sample(self, slot: Slot, index: int) -> None:
        job = slot.job
        assert job is not None
        ll = self._ll
        token = ll.llama_sampler_sample(job.sampler, self.ctx.ctx, index)
        if ll.llama_vocab_is_eog(self._vocab, token):
            self._finish(slot, "stop")
            return
        # One row per generated token, as OpenAI's API gives (none for the end of the answer). The
        # sampler works on a copy of the logits, so they are still the model's own after it.
        if job.sampling.logprobs:
            job.logprobs.append(self._top_logprobs(index, job.sampling.logprobs, token))
        job.generated.append(token)
        n = ll.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, False)
        job.text += self._piece.raw[: max(n, 0)]
        if job.sampling.stop:
            text = job.text.decode("utf-8", "ignore")
            cut = min((i for i in (text.find(s) for s in job.sampling.stop) if i >= 0), default=-1)
            if cut >= 0:
                job.text = text[:cut].encode("utf-8")
                self._finish(slot, "stop")
                return
        if len(job.generated) >= job.sampling.max_tokens or len(slot.tokens) + 1 >= self.n_ctx:
            self._finish(slot, "length")
            return
        job.next_token = token

    def _top_logprobs(self, index: int, k: int, sampled: int) -> dict[str, float]:
        ptr = self._ll.llama_get_logits_ith(self.ctx.ctx, index)
        return top_logprobs(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)), k, self.model.token_to_piece, sampled)

    def _finish(self, slot: Slot, reason: str = "stop", error: Exception | None = None) -> None:
        job = slot.job
        assert job is not None
        slot.job = None
        slot.last_used = next(self._clock)
        if job.sampler is not None:
            self._ll.llama_sampler_free(job.sampler)
        if error is not None:
            job.future.set_exception(error)
            return
        job.future.set_result(
            Result(
                text=job.text.decode("utf-8", "ignore"),
                finish_reason=reason,
                prompt_tokens=len(job.tokens),
                completion_tokens=len(job.generated),
                reused_tokens=job.reused,
                copied_tokens=job.copied,
                top_logprobs=job.logprobs or None,
            )
        )
