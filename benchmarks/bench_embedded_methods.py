"""Embedded generation at the machine's limit (issue 31): the weight format, prefix sharing, and what
a pair of each method costs, the settings before against the settings now, side by side in one run.

1. raw rates: prompt and generated tokens/s of bare llama-cpp-python on the shipped Q4_1 file and on
   its Q8_0 and F16 copies (same prompt, threads and batch size), interleaved, medians;
2. a judged pair alone: RLAIF's two judge orders of one given pair asked at once from an empty KV
   cache, as the judge asks them; prompt tokens each order evaluates (second / first);
3. methods through the engine (`rmboost.api.agenerate`, no request cache): RLAIF judging given
   responses and RMBoost rewriting them, on QA-Feedback and TL;DR prompts exported by `rmboost data
   ... --as prompts --with-responses all`; "old" is `weights=shipped, share_prefix=false` (the format
   and the reuse there were before), "new" the defaults; per run the time budget of a pair
   (`generation/time_budget.py`, from the run's own files) and the backend's reused tokens; the
   engine's prompt tokens/s against section 1's raw shipped-Q4_1 figure. `--extra-methods` adds
   methods that sample their own responses, new settings only, for the planning estimate;
4. OpenMP's wait policy: section 1's raw rates of the default weights in two child processes, libgomp's
   default against `OMP_WAIT_POLICY=PASSIVE` (what `backends/llamacpp_runtime.py` imports llama.cpp
   with; every other section runs with it).
Left out: other models, GPU offload, thread sweeps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from workloads import REPO, load, machine, verdict

from rmboost.api import agenerate
from rmboost.backends.base import ChatRequest
from rmboost.backends.gguf_weights import FORMATS, weights_copy
from rmboost.backends.llamacpp import DEFAULT_WEIGHTS, LlamaCppBackend, packaged_gguf
from rmboost.backends.llamacpp_runtime import import_llama_cpp
from rmboost.generation.config import GenerateConfig
from rmboost.generation.time_budget import time_budget
from rmboost.io.prompts import read_prompts
from rmboost.methods import SamplingConfig
from rmboost.methods.base import WorkItem
from rmboost.methods.judge import ORDERS
from rmboost.methods.rlaif import RLAIF
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord

SHARED = REPO.parent / "shared" / "data"
# name -> (rmboost data subcommand, source file, task, max_tokens of the long runs' configs)
DATA = {"qa": ("qa-feedback", SHARED / "qa_feedback" / "dev_feedback.json", "qa", 256),
        "tldr": ("tldr", SHARED / "tldr" / "batch13.json", "summarization", 96)}
SETTINGS: dict[str, dict[str, Any]] = {"old": {"weights": "shipped", "share_prefix": False}, "new": {}}
# Pairs per prompt of the methods that sample their own responses, as configs/table-*.yaml run them.
OWN_K = {"qa": {"rmboost": 4, "rlcd": 3, "west-of-n": 1}, "tldr": {"rmboost": 2, "rlcd": 2, "west-of-n": 1}}


def export_prompts(name: str, n: int, given_pairs: int | None, context_chars: int | None, folder: Path) -> Path:
    """The first `n` prompts of a data set, with their given responses, as `rmboost data` writes them."""
    kind, source, _, _ = DATA[name]
    full = folder / f"{name}-all.jsonl"
    subprocess.run([sys.executable, "-m", "rmboost.cli", "--quiet", "data", kind, str(source), "--split", "all",
                    "--as", "prompts", "--with-responses", "all", "--output", str(full)], check=True,
                   capture_output=True)
    rows = [json.loads(line) for line in full.read_text(encoding="utf-8").splitlines()[:n]]
    for row in rows:  # smaller work for a smoke run: fewer judged pairs, shorter passages
        if given_pairs is not None and row.get("pairs"):
            row["pairs"] = row["pairs"][:given_pairs]
        if context_chars is not None and row.get("context"):
            row["context"] = row["context"][:context_chars]
    out = folder / f"{name}.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


def load_llama(fmt: str, threads: int) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=str(weights_copy(packaged_gguf(), fmt)), n_ctx=2048, n_threads=threads,
                 n_threads_batch=threads, n_batch=512, verbose=False)


def measure(llama: Any, text: str, prompt_tokens: int, generate: int) -> tuple[float, float, float]:
    """(prompt tokens/s, generated tokens/s, max |logit change| of the last prompt token evaluated
    alone on the cached prefix against the whole prompt in one batch) of one run from an empty cache."""
    import llama_cpp
    import numpy as np

    def last_logits() -> Any:  # the row of the last token evaluated (`Llama.scores` keeps none here)
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),))

    tokens = llama.tokenize(text.encode(), add_bos=True, special=True)[:prompt_tokens]
    llama.reset()
    start = time.perf_counter()
    llama.eval(tokens)
    prompt_s = time.perf_counter() - start
    whole = last_logits().copy()
    llama.n_tokens = len(tokens) - 1  # the last token again, alone, on the cached prefix
    llama.eval(tokens[-1:])
    drift = float(np.abs(last_logits() - whole).max())
    start = time.perf_counter()
    for _ in range(generate):
        llama.eval([int(np.argmax(last_logits()))])
    return len(tokens) / prompt_s, generate / (time.perf_counter() - start), drift


def raw_rates(args: argparse.Namespace, text: str) -> dict[str, tuple[float, float]]:
    """format -> (prompt tokens/s, generated tokens/s), bare llama-cpp-python, medians of interleaved runs."""
    import_llama_cpp()  # the OpenMP wait policy the backend runs with (section 4 compares the two)
    llamas = {f: load_llama(f, args.threads) for f in FORMATS}
    found: dict[str, list[tuple[float, float, float]]] = {f: [] for f in FORMATS}
    for rep in range(args.repeats):
        for fmt in FORMATS[rep % 3:] + FORMATS[: rep % 3]:
            found[fmt].append(measure(llamas[fmt], text, args.raw_prompt_tokens, args.raw_generate))
    for llama in llamas.values():
        llama.close()
    print(f"\n## 1. raw rates (bare llama-cpp-python, {args.threads} threads, n_batch 512, the first "
          f"{args.raw_prompt_tokens} tokens of a QA-Feedback prompt, {args.raw_generate} greedy tokens, median of "
          f"{args.repeats})")
    print("| weights | prompt tok/s | x shipped | generated tok/s | x shipped | max abs logit change, last prompt "
          "token alone on the cached prefix |\n| --- | --- | --- | --- | --- | --- |")
    rates = {f: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for f, v in found.items()}
    for fmt, (p, g) in rates.items():
        print(f"| {fmt} | {p:.0f} | {p / rates['shipped'][0]:.2f} | {g:.1f} | {g / rates['shipped'][1]:.2f} | "
              f"{found[fmt][0][2]:.3f} |")
    return rates


def wait_policies(args: argparse.Namespace, prompt_file: Path) -> None:
    """Raw rates of the default weights in child processes, OpenMP's default wait policy against
    PASSIVE (what the backend imports llama.cpp with), interleaved, medians."""
    found: dict[str, list[tuple[float, float]]] = {"libgomp default": [], "PASSIVE": []}
    for rep in range(args.repeats):
        for policy in list(found)[rep % 2:] + list(found)[: rep % 2]:
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            if policy == "PASSIVE":
                env["OMP_WAIT_POLICY"] = policy
            done = subprocess.run([sys.executable, __file__, "--raw-child", str(prompt_file), "--threads",
                                   str(args.threads), "--raw-prompt-tokens", str(args.raw_prompt_tokens),
                                   "--raw-generate", str(args.raw_generate)], env=env, check=True,
                                  capture_output=True, text=True)
            found[policy].append(tuple(json.loads(done.stdout.splitlines()[-1])))  # type: ignore[arg-type]
    print(f"\n## 4. OpenMP wait policy ({DEFAULT_WEIGHTS} weights, raw, {args.threads} threads, median of "
          f"{args.repeats}; {load()})")
    print("| policy | prompt tok/s | generated tok/s |\n| --- | --- | --- |")
    for policy, runs in found.items():
        prompt, generated = (statistics.median(r[k] for r in runs) for k in (0, 1))
        print(f"| {policy} | {prompt:.0f} | {generated:.1f} |")


def raw_child(args: argparse.Namespace) -> None:
    """One raw measurement of the default weights, in this process's OpenMP runtime, as JSON."""
    llama = load_llama(DEFAULT_WEIGHTS, args.threads)
    text = Path(args.raw_child).read_text(encoding="utf-8")
    measure(llama, text, 64, 4)  # warm up
    print(json.dumps(measure(llama, text, args.raw_prompt_tokens, args.raw_generate)[:2]))


def new_backend(args: argparse.Namespace, setting: str) -> LlamaCppBackend:
    return LlamaCppBackend(n_threads=args.threads, n_seq=args.concurrency, n_ctx=args.n_ctx, **SETTINGS[setting])


async def judged_pairs_alone(args: argparse.Namespace, files: dict[str, Path]) -> dict[str, float]:
    """data set -> median over given pairs of (prompt tokens the second order evaluates / the first's)."""
    print("\n## 2. one judged pair alone (both orders at once, empty KV cache): prompt tokens evaluated")
    print("| data | settings | pairs | first order | second order | second / first |")
    print("| --- " * 6 + "|")
    ratios: dict[str, float] = {}
    for name, path in files.items():
        method = RLAIF(load_task(DATA[name][2]), SamplingConfig(temperature=0.7, max_tokens=DATA[name][3]))
        records = [r for r in read_prompts(path) if isinstance(r, PromptRecord)]
        cases = [(r, i, j) for r in records for i, j in r.given_pairs()][: args.alone_pairs]
        for setting in SETTINGS:
            backend = new_backend(args, setting)
            firsts, seconds = [], []
            for record, i, j in cases:
                assert record.responses is not None
                backend.forget()
                item = WorkItem(record=record, index=0, seed=0)
                y1, y2 = record.responses[i], record.responses[j]
                shown = {"ab": (y1, y2), "ba": (y2, y1)}
                requests: list[ChatRequest] = [
                    method.request(method.judge.messages(method.conversation_text(record), *shown[o]), f"judge_{o}",
                                   item, **method.judge.params) for o in ORDERS]
                answers = await backend.complete(requests)
                first, second = sorted((a.prompt_tokens - a.extra["reused_prompt_tokens"] for a in answers),
                                       reverse=True)
                firsts.append(first)
                seconds.append(second)
            await backend.aclose()
            ratio = statistics.median(s / f for s, f in zip(seconds, firsts, strict=True))
            print(f"| {name} | {setting} | {len(cases)} | {statistics.mean(firsts):.0f} | "
                  f"{statistics.mean(seconds):.0f} | {ratio:.2f} |")
            if setting == "new":
                ratios[name] = ratio
    return ratios


async def method_run(args: argparse.Namespace, name: str, path: Path, method: str, setting: str,
                     folder: Path) -> dict[str, Any]:
    """One generation run; its time budget per pair, with the backend's reused prompt tokens."""
    _, _, task, max_tokens = DATA[name]
    max_tokens = args.max_tokens or max_tokens
    records = [r for r in read_prompts(path) if isinstance(r, PromptRecord)]
    options: dict[str, Any] = {"judge_decision": "first"} if method == "rlaif" else {}
    if method == "rmboost-given":  # each given response rewritten once (or --rewrites times in all)
        assert records[0].responses is not None
        options["pairs_per_prompt"] = args.rewrites or len(records[0].responses)
    elif method != "rlaif":
        options["pairs_per_prompt"] = OWN_K[name].get(method, 1)
    source = path if method in ("rlaif", "rmboost-given") else folder / f"{name}-plain.jsonl"
    if not source.exists():  # the methods that sample their own responses get the prompts alone
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        source.write_text("".join(json.dumps({k: v for k, v in r.items() if k not in ("responses", "pairs", "human")})
                                  + "\n" for r in rows), encoding="utf-8")
    out = folder / f"{name}-{method}-{setting}.jsonl"
    config = GenerateConfig(input=str(source), output=str(out), method=method.removesuffix("-given"), task=task,
                            max_tokens=max_tokens, concurrency=args.concurrency, cache=False, progress=False,
                            seed=0, **options)
    backend = new_backend(args, setting)
    backend.count_tokens([{"role": "user", "content": "warm up"}])  # load the model before the clock starts
    summary = await agenerate(config, backend)
    budget = time_budget(out)[config.method]
    if budget.reused_prompt_tokens is None:  # the rows record them; the backend's count otherwise
        budget.reused_prompt_tokens = backend.counters()["reused_tokens"]
    items, wall = budget.pairs + budget.failures, summary.wall_seconds
    return {"data": name, "method": method, "setting": setting, "wall": wall, "items": items, "pairs": budget.pairs,
            "per_pair": budget.per_pair(), "items_per_hour": 3600 * items / wall,
            "prompt_tps": budget.prompt_tokens / wall,
            "evaluated_tps": (budget.prompt_tokens - budget.reused_prompt_tokens) / wall}


def print_runs(runs: list[dict[str, Any]]) -> None:
    print("\n## 3. methods through the engine (no request cache; per pair made, failed items' cost included)")
    print("| data | method | settings | items | pairs | wall s | items/h | pairs/h | prompt tok/pair | evaluated "
          "tok/pair | generated tok/pair | calls/pair | refused/pair | prompt tok/s | evaluated tok/s |")
    print("| --- " * 15 + "|")
    for r in runs:
        def f(key: str, digits: int = 0, p: dict[str, Any] = r["per_pair"]) -> str:
            return "-" if p[key] is None else f"{p[key]:.{digits}f}"

        print(f"| {r['data']} | {r['method']} | {r['setting']} | {r['items']} | {r['pairs']} | {r['wall']:.1f} | "
              f"{r['items_per_hour']:.0f} | {f('pairs_per_hour')} | {f('prompt_tokens')} | "
              f"{f('evaluated_prompt_tokens')} | {f('completion_tokens')} | {f('calls', 2)} | {f('refused', 2)} | "
              f"{r['prompt_tps']:.0f} | {r['evaluated_tps']:.0f} |")


async def main_async(args: argparse.Namespace, folder: Path) -> bool:
    files = {name: export_prompts(name, n, args.given_pairs, args.context_chars, folder)
             for name, n in (("qa", args.qa_questions), ("tldr", args.tldr_prompts))}
    first = next(r for r in read_prompts(files["qa"]) if isinstance(r, PromptRecord))
    prompt_file = folder / "raw_prompt.txt"
    prompt_file.write_text(f"{first.context}\n\n{first.prompt}", encoding="utf-8")
    rates = raw_rates(args, prompt_file.read_text(encoding="utf-8"))
    alone = await judged_pairs_alone(args, files)
    runs = []
    for k, (name, method) in enumerate((d, m) for d in files for m in ("rlaif", "rmboost-given")):
        for setting in (("old", "new") if k % 2 == 0 else ("new", "old")):
            runs.append(await method_run(args, name, files[name], method, setting, folder))
    for name in files:
        for method in [m for m in args.extra_methods.split(",") if m]:
            runs.append(await method_run(args, name, files[name], method, "new", folder))
    print_runs(runs)
    wait_policies(args, prompt_file)
    return judge_targets(rates, alone, runs)


def judge_targets(rates: dict[str, tuple[float, float]], alone: dict[str, float], runs: list[dict[str, Any]]) -> bool:
    by = {(r["data"], r["method"], r["setting"]): r for r in runs}
    raw = rates["q8_0"][0] / rates["shipped"][0]
    engine = by[("qa", "rlaif", "new")]["prompt_tps"] / rates["shipped"][0]
    print(f"\nprompt tok/s, Q8_0 copy / shipped Q4_1 (raw): {raw:.2f} (target >= 1.6); F16 / shipped: "
          f"{rates['f16'][0] / rates['shipped'][0]:.2f}")
    print(f"engine prompt tok/s (RLAIF, QA-Feedback, new) / raw shipped Q4_1: {engine:.2f} (target >= 3)")
    print("second judge order / first, prompt tokens evaluated: " + ", ".join(f"{k} {v:.2f}" for k, v in alone.items())
          + " (target <= 0.40)")
    ok = raw >= 1.6 and engine >= 3 and all(v <= 0.4 for v in alone.values())
    for name in dict.fromkeys(r["data"] for r in runs):
        for method, key in (("rlaif", "items_per_hour"), ("rmboost-given", "items_per_hour")):
            ratio = by[(name, method, "new")][key] / by[(name, method, "old")][key]
            print(f"{name} {method}: {'judged pairs' if method == 'rlaif' else 'pairs'}/h new / old: {ratio:.2f} "
                  f"(target >= 2)")
            ok &= ratio >= 2 or name != "qa"
    for r in runs:
        if r["setting"] == "new" and r["per_pair"]["pairs_per_hour"]:
            print(f"estimate: {r['data']} {r['method']}: {100 / r['per_pair']['pairs_per_hour']:.2f} h per 100 pairs")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="as the long runs' configs (n_seq follows)")
    parser.add_argument("--n-ctx", type=int, default=4096, help="context per sequence")
    parser.add_argument("--repeats", type=int, default=3, help="raw-rate repeats")
    parser.add_argument("--raw-prompt-tokens", type=int, default=1000)
    parser.add_argument("--raw-generate", type=int, default=64)
    parser.add_argument("--qa-questions", type=int, default=2)
    parser.add_argument("--tldr-prompts", type=int, default=8)
    parser.add_argument("--given-pairs", type=int, default=None, help="judge only the first N given pairs per prompt")
    parser.add_argument("--rewrites", type=int, default=None, help="RMBoost rewrites per prompt (default: one "
                        "per given response)")
    parser.add_argument("--alone-pairs", type=int, default=3, help="given pairs judged alone per data set")
    parser.add_argument("--context-chars", type=int, default=None, help="cut the passages (smoke only)")
    parser.add_argument("--max-tokens", type=int, default=None, help="answer budget (default: the long runs' "
                        "configs, 256 for QA-Feedback and 96 for TL;DR)")
    parser.add_argument("--extra-methods", default="rmboost,rlcd,west-of-n",
                        help="methods that sample their own responses, run with the new settings only")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs' files in this folder")
    parser.add_argument("--smoke", action="store_true", help="tiny CI run: print the figures, judge no target")
    parser.add_argument("--raw-child", default=None, help=argparse.SUPPRESS)  # section 4's child process
    args = parser.parse_args(argv)
    if args.raw_child:
        raw_child(args)
        return 0
    print(f"# bench_embedded_methods on {machine()}; {packaged_gguf().name}, {args.threads} threads, "
          f"concurrency {args.concurrency}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ok = asyncio.run(main_async(args, folder))
    print(f"\n{time.perf_counter() - start:.0f} s in all; {machine().rsplit(', ', 1)[-1]} at the end")
    print(verdict(ok, args.smoke))
    return 0


if __name__ == "__main__":
    sys.exit(main())
