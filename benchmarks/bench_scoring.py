"""Throughput of `rmboost score` and `rmboost rerank` per reward-model kind: rows per second on
QA-Feedback test pairs (long passages, cut to each kind's max_length), through the real CLI.

    .venv/bin/python benchmarks/bench_scoring.py [--kinds embed-linear,maxsim,minilm,hf-tiny]
        [--rows 128] [--responses 4] [--train-pairs 32] [--batch-size 64]

Each kind is trained first (one epoch on `--train-pairs` pairs, no validation split; the model's
accuracy does not matter here) and saved; `hf-tiny` is a tiny random Llama (`testing/tiny_llama.py`)
trained as `hf:PATH`. Then `rmboost score` scores `--rows` pair rows (two responses each) and
`rmboost rerank` ranks `--rows` rows of `--responses` responses, each in a fresh process. Three
rates are printed for each, from the command's summary line and the process's wall time: scoring
(reading, scoring in batches, writing and recording resume points, after the model is loaded), the
command's (model load included) and end to end (interpreter start-up and imports included). Other
work on a shared machine slows every number, so the load average is printed with each row. There
is no target: the figures are for docs/PERFORMANCE.md and for choosing a kind. The run uses a cache
folder of its own, so no text comes embedded from an earlier run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workloads import QA_FEEDBACK, REPO, load, machine

from rmboost.data.qa_feedback import load_questions, pairs
from rmboost.rm.train import train_reward_model

RATE = re.compile(r"^scored (\d+) rows \(\w+\) with reward model \w+ in ([\d.]+)s \(([\d.]+)s loading it", re.MULTILINE)


def train(kind: str, n: int, root: Path) -> Path:
    """A saved model of `kind`, trained one epoch on `n` QA-Feedback pairs."""
    name = kind
    if kind == "hf-tiny":
        from rmboost.testing.tiny_llama import write_tiny_llama

        name = f"hf:{write_tiny_llama(root / 'tiny-llama', seed=0)}"
    data = pairs(load_questions(QA_FEEDBACK, "train"))[:n]
    out = root / f"rm-{kind}"
    with contextlib.redirect_stdout(sys.stderr):  # TRL prints its training logs: keep the table clean
        train_reward_model(data, name, seed=0, epochs=1, validation_fraction=0).save(out)
    return out


def inputs(root: Path, rows: int, responses: int) -> tuple[Path, Path]:
    """A pair file and a rerank file of `rows` rows each, from the QA-Feedback test pairs (cycled)."""
    test = pairs(load_questions(QA_FEEDBACK, "test"))
    pick = [test[i % len(test)] for i in range(rows)]
    pair_file, rank_file = root / "pairs.jsonl", root / "responses.jsonl"
    with pair_file.open("w", encoding="utf-8") as f:
        for i, p in enumerate(pick):
            f.write(json.dumps({"id": f"p{i}", "prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected}) + "\n")
    with rank_file.open("w", encoding="utf-8") as f:
        for i, p in enumerate(pick):
            # Responses of other questions, made unique to this row: a kind that remembers the texts it
            # embedded (embed-linear) must not get a cheaper rerank than a real one would be.
            others = [f"{x} (sample {i}.{k})" for k in (1, 2) for x in (test[(i + k) % len(test)].chosen,
                                                                         test[(i + k) % len(test)].rejected)]
            pool = [p.chosen, p.rejected, *others]
            f.write(json.dumps({"id": f"r{i}", "prompt": p.prompt, "responses": pool[:responses]}) + "\n")
    return pair_file, rank_file


def run(command: str, rm: Path, src: Path, out: Path, batch_size: int) -> dict[str, float]:
    """One command in a fresh process: its own seconds (summary line) and the wall seconds."""
    cli = str(Path(sys.executable).with_name("rmboost"))
    argv = [cli, command, "--rm", str(rm), "--input", str(src), "--output", str(out), "--batch-size",
            str(batch_size), "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - start
    found = RATE.search(done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
    return {"rows": int(found.group(1)), "seconds": float(found.group(2)), "load": float(found.group(3)), "wall": wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", default="embed-linear,maxsim,minilm,hf-tiny")
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--responses", type=int, default=4, help="responses per rerank row")
    ap.add_argument("--train-pairs", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    print(f"# bench_scoring on {machine()}")
    print(f"# {args.rows} rows: score = pairs (2 responses a row), rerank = {args.responses} responses a row; "
          f"batch size {args.batch_size}")
    print("| kind | command | rows | responses | model load s | rows/s (scoring) | responses/s (scoring) | "
          "rows/s (command, load incl.) | rows/s (end to end, start-up incl.) | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="rmboost-bench-score-") as tmp:
        root = Path(tmp)
        # A cache of its own: texts embedded by an earlier run (`rm/embedding_store.py`) are not free here.
        os.environ["RMBOOST_CACHE_DIR"] = str(root / "cache")
        pair_file, rank_file = inputs(root, args.rows, args.responses)
        for kind in (k for k in args.kinds.split(",") if k):
            rm = train(kind, args.train_pairs, root)
            for command, src, per_row in (("score", pair_file, 2), ("rerank", rank_file, args.responses)):
                got = run(command, rm, src, root / f"{kind}-{command}.jsonl", args.batch_size)
                rate = got["rows"] / max(got["seconds"] - got["load"], 1e-9)
                print(f"| {kind} | {command} | {got['rows']} | {got['rows'] * per_row} | {got['load']:.1f} | "
                      f"{rate:.1f} | {rate * per_row:.1f} | {got['rows'] / got['seconds']:.1f} | "
                      f"{got['rows'] / got['wall']:.1f} | {load()} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
