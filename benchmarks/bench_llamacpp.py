"""The embedded model: the `llamacpp` backend against bare llama-cpp-python on the same model,
prompts and threads, and what prefix reuse and batched decoding buy on QA-Feedback prompts.

Three measurements, each alternating its contenders within one run (the machine is shared):
1. single stream: generated tokens/s of the backend against `Llama.create_chat_completion`, one
   greedy request at a time on a short prompt (decode-bound);
2. pair cost: wall time of one RMBoost pair (y1 then y2, through the method) against one plain
   generation (y1 only), alone and amortised over many prompts at concurrency `n_seq`; with
   prefix reuse on, off, and through the old design (one `Llama`, calls serialised under a lock,
   so concurrent pairs interleave and lose the prefix);
3. aggregate tokens/s: the same requests at concurrency `n_seq` against one at a time.
Left out: other models, GPU offload, prompt-length sweeps.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

from workloads import machine, qa_records, verdict

from rmboost.backends.base import Backend, ChatRequest, Completion
from rmboost.backends.llamacpp import LlamaCppBackend
from rmboost.llm import LLM
from rmboost.methods import SamplingConfig
from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost
from rmboost.prompts.tasks import load_task
from rmboost.records import PairFailure, PromptRecord

SHORT_PROMPTS = [
    "Write a long story about a lighthouse keeper and a storm.",
    "Explain in detail how a bicycle works, part by part.",
    "Describe a walk through a busy market in the morning.",
    "Write a long letter to a friend about learning to cook.",
]


class SerialLlamaBackend(Backend):
    """rmboost's llamacpp backend before batching: one `Llama`, one call at a time under a lock."""

    name = "llamacpp-serial"

    def __init__(self, n_ctx: int, n_threads: int, model_path: Path) -> None:
        from llama_cpp import Llama

        # n_threads_batch too: its default is every core, which is not "the same threads".
        self.llama = Llama(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            verbose=False,
        )
        self.lock = threading.Lock()

    def _one(self, r: ChatRequest) -> Completion:
        with self.lock:
            out = self.llama.create_chat_completion(
                messages=r.message_dicts,
                max_tokens=r.max_tokens,
                temperature=r.temperature,
                top_p=r.top_p,
                seed=r.seed,
            )
        usage = out["usage"]
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",
            finish_reason=out["choices"][0]["finish_reason"] or "stop",
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
        )

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return [await asyncio.to_thread(self._one, r) for r in requests]


def records(n: int, context_chars: int | None) -> list[PromptRecord]:
    return [PromptRecord(prompt=r["prompt"], id=r["id"], context=r["context"][:context_chars]) for r in qa_records(n)]


async def timed(work: Awaitable[Any]) -> tuple[float, Any]:
    """Seconds to finish `work` (a coroutine does nothing until awaited, so creating it is free)."""
    start = time.perf_counter()
    out = await work
    return time.perf_counter() - start, out


async def run_prompts(
    method: RMBoost, backend: Backend, recs: list[PromptRecord], concurrency: int, pairs: bool
) -> tuple[float, int]:
    """Wall time for pairs (or plain y1 generations) of `recs`; returns (seconds, completion tokens)."""
    llm = LLM(backend, None, max_parallel=concurrency)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, rec: PromptRecord) -> None:
        item = WorkItem(record=rec, index=i, seed=0)
        async with gate:
            if pairs:
                try:
                    await method.make_pair(item, llm)
                except PairFailure:
                    pass  # a weak model's y2 can fail to parse; the calls were made all the same
            else:
                try:
                    await llm.chat(method.request(method.policy_messages(rec), "y1", item))
                except PairFailure:
                    pass

    seconds, _ = await timed(asyncio.gather(*(one(i, r) for i, r in enumerate(recs))))
    return seconds, llm.totals.completion_tokens


async def one_by_one(backend: Backend, requests: list[ChatRequest]) -> list[Completion]:
    return [(await backend.complete([r]))[0] for r in requests]


async def main_async(args: argparse.Namespace) -> bool:
    threads, n_seq = args.threads, args.n_seq
    fast = LlamaCppBackend(n_threads=threads, n_seq=n_seq, n_ctx=args.n_ctx)
    no_reuse = LlamaCppBackend(n_threads=threads, n_seq=n_seq, n_ctx=args.n_ctx, prefix_reuse=False)
    # The same file as the backends (their default weights, the Q8_0 copy), so only the engine differs.
    serial = SerialLlamaBackend(n_ctx=args.n_ctx, n_threads=threads, model_path=fast.model_path)
    sampling = SamplingConfig(temperature=0.7, top_p=0.95, max_tokens=args.max_tokens)
    method = RMBoost(load_task("qa"), sampling)
    ok = True

    sections = {int(x) for x in args.sections.split(",") if x.strip()}
    if 1 in sections:
        ok &= await single_stream(args, no_reuse, serial)
    if 2 in sections:
        ok &= await pair_cost(args, method, fast, no_reuse, serial)
    if 3 in sections:
        ok &= await aggregate(args, no_reuse)
    for b in (fast, no_reuse):
        await b.aclose()
    serial.llama.close()
    return ok


async def single_stream(args: argparse.Namespace, no_reuse: LlamaCppBackend, serial: SerialLlamaBackend) -> bool:
    threads, n_seq, ok = args.threads, args.n_seq, True
    # 1. single stream, greedy, decode-bound. Both sides are loaded and warmed up first, so no
    # timed call pays for loading the model. "n_seq=1" is the context a `--concurrency 1` run gets.
    one_seq = LlamaCppBackend(n_threads=threads, n_seq=1, n_ctx=args.n_ctx, prefix_reuse=False)
    warm = ChatRequest.of([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    for b in (no_reuse, one_seq):
        await b.complete([warm])
    serial.llama.create_chat_completion(messages=warm.message_dicts, max_tokens=4, temperature=0.0)
    spent: dict[str, list[float]] = {"bare": [0.0, 0.0], f"n_seq={n_seq}": [0.0, 0.0], "n_seq=1": [0.0, 0.0]}
    contenders: dict[str, Backend] = {f"n_seq={n_seq}": no_reuse, "n_seq=1": one_seq}
    for rep in range(args.repeats):
        for k, prompt in enumerate(SHORT_PROMPTS[: args.single_prompts]):
            messages = [{"role": "user", "content": prompt}]
            request = ChatRequest.of(messages, max_tokens=args.decode_tokens, temperature=0.0, seed=k)
            names = list(spent)
            shift = (rep * args.single_prompts + k) % len(names)
            for who in names[shift:] + names[:shift]:
                if who == "bare":
                    serial.llama.reset()  # no prefix reuse across runs, as the backends below
                    dt, out = await timed(
                        asyncio.to_thread(
                            serial.llama.create_chat_completion,
                            messages=messages,
                            max_tokens=args.decode_tokens,
                            temperature=0.0,
                        )
                    )
                    n_tok = out["usage"]["completion_tokens"]
                else:
                    dt, outs = await timed(contenders[who].complete([request]))
                    n_tok = outs[0].completion_tokens
                spent[who][0] += dt
                spent[who][1] += n_tok
    rate = {who: n / t for who, (t, n) in spent.items()}
    print(f"\n## 1. single stream ({threads} threads, greedy, {args.decode_tokens} tokens max, short prompts)")
    print("| contender | generated tokens/s | x bare |\n| --- | --- | --- |")
    print(f"| bare llama-cpp-python `Llama.create_chat_completion` | {rate['bare']:.1f} | 1.00 |")
    for who in contenders:
        print(f"| rmboost `llamacpp` backend, {who} | {rate[who]:.1f} | {rate[who] / rate['bare']:.2f} |")
    single_ratio = rate["n_seq=1"] / rate["bare"]
    print(f"backend/bare with the context a single-stream run gets (n_seq=1): {single_ratio:.2f} (target >= 0.95)")
    ok &= single_ratio >= 0.95
    await one_seq.aclose()
    return ok


async def pair_cost(
    args: argparse.Namespace, method: RMBoost, fast: LlamaCppBackend, no_reuse: LlamaCppBackend,
    serial: SerialLlamaBackend,
) -> bool:
    n_seq, ok = args.n_seq, True
    # 2. pair cost against a plain generation, alone and amortised. Every contender works on the
    # same prompts with the same seeds, from a cold KV cache.
    recs = records(max(args.pairs, args.alone_prompts), args.context_chars)
    backends: dict[str, Backend] = {
        "plain": fast,
        "pair": fast,
        "pair, no prefix reuse": no_reuse,
        "pair, serial Llama (before)": serial,
    }

    async def cold_run(name: str, batch: list[PromptRecord], concurrency: int) -> tuple[float, int]:
        fast.forget()
        no_reuse.forget()
        serial.llama.reset()
        return await run_prompts(method, backends[name], batch, concurrency, name != "plain")

    alone: dict[str, list[float]] = {"plain": [], "pair": [], "pair, no prefix reuse": []}
    for k, rec in enumerate(recs[: args.alone_prompts]):
        for name in list(alone)[k % 3 :] + list(alone)[: k % 3]:
            alone[name].append((await cold_run(name, [rec], 1))[0])
    amort: dict[str, list[float]] = {name: [] for name in backends}
    tokens: dict[str, list[int]] = {k: [] for k in amort}
    reuse_seen = [0, 0]
    for rep in range(args.repeats):
        names = list(amort)
        for name in names[rep % 4 :] + names[: rep % 4]:
            before = fast.reuse()
            seconds, n_tok = await cold_run(name, recs[: args.pairs], n_seq)
            if name == "pair":
                reuse_seen = [a - b for a, b in zip(fast.reuse(), before, strict=True)]
            amort[name].append(seconds / args.pairs)
            tokens[name].append(n_tok)
    print(f"\n## 2. RMBoost pair against one plain generation (QA-Feedback, T=0.7, max_tokens {args.max_tokens})")
    print(
        f"| run | {args.alone_prompts} prompts one at a time: s | x plain | {args.pairs} prompts at "
        f"concurrency {n_seq}: s per prompt | x plain | completion tokens per run |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    plain_alone, plain_amort = sum(alone["plain"]), statistics.median(amort["plain"])
    for name in amort:
        a = sum(alone[name]) if name in alone else None
        m = statistics.median(amort[name])
        a_txt = f"{a:.2f} | {a / plain_alone:.2f}" if a is not None else "- | -"
        print(f"| {name} | {a_txt} | {m:.2f} | {m / plain_amort:.2f} | {statistics.median(tokens[name]):.0f} |")
    print(
        f"prefix reuse in the last amortised pair run: {reuse_seen[1]:,} of {reuse_seen[0]:,} prompt tokens "
        f"({reuse_seen[1] / max(reuse_seen[0], 1):.0%}) came from a sequence's KV cache (y1 prompts can "
        "reuse nothing, so about half is the most there is)"
    )
    pair_alone = sum(alone["pair"]) / plain_alone
    pair_amort = statistics.median(amort["pair"]) / plain_amort
    print(f"pair/plain: alone {pair_alone:.2f}, amortised {pair_amort:.2f} (target <= 1.4)")
    ok &= pair_amort <= 1.4
    return ok


async def aggregate(args: argparse.Namespace, no_reuse: LlamaCppBackend) -> bool:
    n_seq = args.n_seq
    # 3. aggregate tokens/s: the same requests one at a time and n_seq at a time
    requests = [
        ChatRequest.of(
            [{"role": "user", "content": SHORT_PROMPTS[i % len(SHORT_PROMPTS)]}],
            max_tokens=args.decode_tokens,
            temperature=0.7,
            top_p=0.95,
            seed=i,
        )
        for i in range(args.aggregate_requests)
    ]
    rates: dict[str, list[float]] = {"one at a time": [], f"{n_seq} at a time": []}
    for rep in range(args.repeats):
        for name in list(rates)[rep % 2 :] + list(rates)[: rep % 2]:
            # no_reuse: the prompts repeat across repeats, and both sides must do the same work
            if name == "one at a time":
                dt, outs = await timed(one_by_one(no_reuse, requests))
            else:
                dt, outs = await timed(no_reuse.complete(requests))
            rates[name].append(sum(o.completion_tokens for o in outs) / dt)
    single, batched = (statistics.median(v) for v in rates.values())
    print(
        f"\n## 3. aggregate generated tokens/s, {args.aggregate_requests} requests of up to {args.decode_tokens} tokens"
    )
    print(f"| one at a time | {n_seq} at a time (batched) | ratio (target >= 2) |\n| --- | --- | --- |")
    print(f"| {single:.1f} | {batched:.1f} | {batched / single:.2f} |")
    return batched / single >= 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-seq", type=int, default=8, help="sequences decoded together")
    parser.add_argument("--n-ctx", type=int, default=4096, help="context per sequence")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--single-prompts", type=int, default=2)
    parser.add_argument("--decode-tokens", type=int, default=128)
    parser.add_argument("--pairs", type=int, default=16, help="prompts per amortised run")
    parser.add_argument("--alone-prompts", type=int, default=3, help="prompts run one at a time")
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--aggregate-requests", type=int, default=16)
    parser.add_argument("--context-chars", type=int, default=None, help="cut the passages (CI smoke only)")
    parser.add_argument("--sections", default="1,2,3", help="which sections to run, e.g. 1,3")
    parser.add_argument("--smoke", action="store_true", help="tiny CI run: print the figures, judge no target")
    args = parser.parse_args(argv)
    print(f"# bench_llamacpp on {machine()}; model {LlamaCppBackend().model}")
    ok = asyncio.run(main_async(args))
    print(verdict(ok, args.smoke))
    return 0


if __name__ == "__main__":
    sys.exit(main())
