"""Training and scoring throughput (pairs per second) of each reward-model kind on this machine,
on real QA-Feedback pairs (long passages, so inputs are cut to each kind's max_length).

    .venv/bin/python benchmarks/bench_reward_models.py [--kinds maxsim,minilm,embed-linear,smollm2]
        [--train-pairs 64] [--score-pairs 128] [--hf PATH] [--json OUT]

Each kind runs at its default settings (evidence selection on, the default max_length, frozen
layers for maxsim), except that it trains one epoch with no validation split. Training throughput
counts that epoch over `--train-pairs` pairs, including tokenising, evidence selection, embedding or
caching the frozen layers and loading the base model (so small runs understate the steady-state
rate); scoring counts both responses of each of `--score-pairs` held-out pairs, excluding the
model load. All kinds are printed side by side, with each one's rates relative to the first kind.
The load average is printed with each row, because other jobs on a shared machine slow every
number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rmboost.data.qa_feedback import load_questions, pairs  # noqa: E402
from rmboost.rm.base import RewardModel  # noqa: E402
from rmboost.rm.train import train_reward_model  # noqa: E402

QA_FEEDBACK = REPO.parent / "shared" / "data" / "qa_feedback" / "dev_feedback.json"


def bench(kind: str, train_n: int, score_n: int) -> dict:
    train = pairs(load_questions(QA_FEEDBACK, "train"))[:train_n]
    test = pairs(load_questions(QA_FEEDBACK, "test"))[:score_n]
    start = time.perf_counter()
    model = train_reward_model(train, kind, seed=0, epochs=1, validation_fraction=0)
    train_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        loaded = RewardModel.load(tmp)
        start = time.perf_counter()
        loaded.score_pairs(test)
        score_s = time.perf_counter() - start
    return {
        "kind": kind,
        "train_pairs": len(train),
        "train_seconds": round(train_s, 1),
        "train_pairs_per_s": round(len(train) / train_s, 2),
        "score_pairs": len(test),
        "score_seconds": round(score_s, 1),
        "score_pairs_per_s": round(len(test) / score_s, 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "cores": len(os.sched_getaffinity(0)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", default="maxsim,minilm,embed-linear,smollm2")
    ap.add_argument("--train-pairs", type=int, default=64)
    ap.add_argument("--score-pairs", type=int, default=128)
    ap.add_argument("--hf", default=None, help="also benchmark hf:PATH with this local checkpoint")
    ap.add_argument("--json", default=None, help="append one JSON line per kind to this file")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k] + ([f"hf:{args.hf}"] if args.hf else [])
    rows = []
    for kind in kinds:
        rows.append(bench(kind, args.train_pairs, args.score_pairs))
        print(f"done {kind}", file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as f:
                f.write(json.dumps(rows[-1]) + "\n")
    first = rows[0]
    print(f"{'kind':<14} {'train pairs/s':>14} {'x first':>8} {'score pairs/s':>14} {'x first':>8} {'load avg':>9}")
    for row in rows:
        train_x = row["train_pairs_per_s"] / first["train_pairs_per_s"]
        score_x = row["score_pairs_per_s"] / first["score_pairs_per_s"]
        print(f"{row['kind']:<14} {row['train_pairs_per_s']:>14} {train_x:>8.2f} "
              f"{row['score_pairs_per_s']:>14} {score_x:>8.2f} {row['load_avg_1min']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
