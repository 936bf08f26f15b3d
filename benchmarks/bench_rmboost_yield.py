"""RMBoost's yield and cost on the embedded model, old settings against new, side by side in one run.

The prompts are the full profile's first N training questions (QA-Feedback, sorted by id, as
`rmboost experiment` takes them), made into pairs by SmolLM2-135M in-process. Each setting runs as
its own `rmboost generate` process with a fresh request cache, and its CPU time is that process's
own (user + system, from `wait4`), so the pairs per CPU-hour of two settings are comparable even on
a shared machine; wall time is printed too. Settings run in alternating halves of the prompts
(old, new, ..., then the second half in the reverse order) so that drift in the machine's speed
falls on all of them alike.

    .venv/bin/python -u benchmarks/bench_rmboost_yield.py [--prompts 50] [--settings before,now,paper]
        [--reference-rm DIR] [--pairs-per-prompt-run 243]

Settings: `before` is the full profile as it ran before (one try per stage, the answer running on
to max_tokens after its closing tag); `now` the defaults (3 tries per stage, the answer ending at
its closing tag, y2 held to twice y1's length); `constrained` adds the llama.cpp grammar to `now`;
`paper` is `--template paper`.
Targets (issue 16): yield >= 75% for `now`, pairs per CPU-hour >= 3x `before`'s. With
`--pairs-per-prompt-run N` it also makes `--pairs-per-prompt 5` pairs from the first N prompts
(target: >= 1,000 pairs from the 243 training prompts). Diagnostics per setting: length bias
(share of pairs whose chosen response is longer), distinct-2, and with `--reference-rm` the share
of pairs a reward model trained on the Real pairs orders the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml
from workloads import QA_FEEDBACK, REPO, machine, verdict

from rmboost.data.qa_feedback import load_questions, prompt_records
from rmboost.experiment.diagnostics import distinct_n
from rmboost.io.rows import read_rows, write_rows

RMBOOST = [sys.executable, "-c", "import sys; from rmboost.cli import main; sys.exit(main())"]
BASE = ["--method", "rmboost", "--backend", "llamacpp", "--task", "qa", "--max-tokens", "256",
        "--concurrency", "8", "--seed", "0", "--no-progress"]


def templates(work: Path) -> dict[str, Path]:
    """The rewrite templates the settings need besides the built-in ones: the default one as it
    was (no stop string) and with the grammar on."""
    default = yaml.safe_load((REPO / "src/rmboost/resources/templates/rmboost.yaml").read_text())
    out = {}
    before = {k: v for k, v in default.items() if k != "y2_budget"}
    for name, data in (("before", {**before, "stop": []}), ("constrained", {**default, "constrain": True})):
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data))
        out[name] = path
    return out


def setting_args(name: str, work: Path) -> list[str]:
    made = templates(work)
    return {
        "before": ["--attempts", "1", "--template", str(made["before"])],
        "now": [],
        "constrained": ["--template", str(made["constrained"])],
        "paper": ["--template", "paper"],
    }[name]


def run(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `rmboost generate` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([*RMBOOST, "generate", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"rmboost generate {' '.join(args)} failed:\n{err[-2000:]}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start


def diagnostics(pairs: list[dict], reference: str | None) -> dict[str, float | None]:
    chosen_longer = sum(len(p["chosen"].split()) > len(p["rejected"].split()) for p in pairs)
    texts = [p["chosen"] for p in pairs] + [p["rejected"] for p in pairs]
    agree = None
    if reference and pairs:
        from rmboost.records import Pair
        from rmboost.rm.base import RewardModel

        rm = RewardModel.load(reference)
        c, r = rm.score_pairs([Pair(id=p["id"], prompt=p["prompt"], chosen=p["chosen"], rejected=p["rejected"],
                                    method="rmboost") for p in pairs])
        agree = sum(a > b for a, b in zip(c, r, strict=True)) / len(pairs)
    return {"length_bias": chosen_longer / len(pairs) if pairs else None,
            "distinct_2": distinct_n(texts, 2) if pairs else None, "reference_agrees": agree}


def measure(names: list[str], prompt_file: Path, n: int, work: Path) -> dict[str, dict]:
    halves = [(0, n // 2), (n // 2, n)]
    rows = [row for _, row in read_rows(prompt_file)]
    totals = {name: {"cpu": 0.0, "wall": 0.0} for name in names}
    for h, (lo, hi) in enumerate(halves):
        part = work / f"half{h}.jsonl"
        write_rows(part, rows[lo:hi])
        for name in (names if h == 0 else names[::-1]):
            out = work / name / "pairs.jsonl"  # the second half resumes the same output
            cpu, wall = run(["--input", str(part), "--output", str(out), "--cache-dir", str(work / name / "cache"),
                             *BASE, *setting_args(name, work)])
            totals[name]["cpu"] += cpu
            totals[name]["wall"] += wall
            print(f"  {name}: prompts {lo}-{hi - 1}: {cpu:.0f} CPU s, {wall:.0f} s wall ({machine_load()})", flush=True)
    return totals


def machine_load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def report(name: str, work: Path, n: int, t: dict, reference: str | None) -> dict:
    pairs = [row for _, row in read_rows(work / name / "pairs.jsonl")]
    failures = [row for _, row in read_rows(work / name / "pairs.failures.jsonl")] \
        if (work / name / "pairs.failures.jsonl").exists() else []
    d = diagnostics(pairs, reference)
    reasons = Counter(f"{f['stage']}: {f['reason']}" for f in failures).most_common(3)
    return {"setting": name, "prompts": n, "pairs": len(pairs), "yield": len(pairs) / n, "cpu_s": t["cpu"],
            "wall_s": t["wall"], "pairs_per_cpu_hour": len(pairs) / t["cpu"] * 3600, **d,
            "top_failures": reasons}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--settings", default="before,now,paper")
    parser.add_argument("--reference-rm", default=None)
    parser.add_argument("--pairs-per-prompt-run", type=int, default=0, metavar="N")
    parser.add_argument("--keep", default=None, help="keep the outputs in this folder")
    parser.add_argument("--smoke", action="store_true", help="tiny CI run: print the figures, judge no target")
    args = parser.parse_args(argv)
    print(f"# bench_rmboost_yield on {machine()}", flush=True)
    names = [s for s in args.settings.split(",") if s]
    work = Path(args.keep or tempfile.mkdtemp(prefix="rmboost-yield-"))
    work.mkdir(parents=True, exist_ok=True)
    questions = sorted(load_questions(QA_FEEDBACK, "train"), key=lambda q: q.id)
    prompt_file = work / "prompts.jsonl"
    write_rows(prompt_file, prompt_records(questions[: args.prompts]))
    totals = measure(names, prompt_file, args.prompts, work)
    rows = [report(name, work, args.prompts, totals[name], args.reference_rm) for name in names]
    print("\n| setting | pairs / prompts | yield | CPU s | wall s | pairs / CPU-hour | chosen longer | distinct-2 "
          "| reference RM agrees |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = "n/a" if r["reference_agrees"] is None else f"{r['reference_agrees']:.1%}"
        bias = "n/a" if r["length_bias"] is None else f"{r['length_bias']:.1%}"
        d2 = "n/a" if r["distinct_2"] is None else f"{r['distinct_2']:.3f}"
        print(f"| {r['setting']} | {r['pairs']} / {r['prompts']} | {r['yield']:.1%} | {r['cpu_s']:.0f} | "
              f"{r['wall_s']:.0f} | {r['pairs_per_cpu_hour']:.0f} | {bias} | {d2} | {ref} |")
    for r in rows:
        print(f"{r['setting']} failures: " + "; ".join(f"{k} ({v})" for k, v in r["top_failures"]))
    by = {r["setting"]: r for r in rows}
    met = True
    if "now" in by:
        met &= by["now"]["yield"] >= 0.75
    if "now" in by and "before" in by:
        ratio = by["now"]["pairs_per_cpu_hour"] / max(by["before"]["pairs_per_cpu_hour"], 1e-9)
        print(f"pairs per CPU-hour, now / before: {ratio:.2f} (target >= 3)")
        met &= ratio >= 3
    if args.pairs_per_prompt_run:
        met &= pairs_per_prompt_run(work, questions[: args.pairs_per_prompt_run], args.pairs_per_prompt_run)
    (work / "results.json").write_text(json.dumps(rows, indent=2))
    print(f"outputs: {work}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(verdict(met, args.smoke))
    return 0


def pairs_per_prompt_run(work: Path, questions: list, n: int) -> bool:
    prompt_file = work / "k5-prompts.jsonl"
    write_rows(prompt_file, prompt_records(questions))
    out = work / "k5" / "pairs.jsonl"
    cpu, wall = run(["--input", str(prompt_file), "--output", str(out), "--cache-dir", str(work / "k5" / "cache"),
                     *BASE, "--pairs-per-prompt", "5"])
    made = sum(1 for _ in read_rows(out))
    print(f"--pairs-per-prompt 5 on {n} prompts: {made} pairs in {cpu:.0f} CPU s, {wall:.0f} s wall "
          f"({made / cpu * 3600:.0f} pairs per CPU-hour; target >= 1,000 pairs from 243 prompts)")
    return made >= 1000 or n < 243


if __name__ == "__main__":
    sys.exit(main())
