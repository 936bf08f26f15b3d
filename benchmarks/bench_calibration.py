"""What the calibration adds to an experiment's wall time (issue 23: a calibration with 10 extra
training sets adds at most 25% to `configs/full-controls.yaml`).

    .venv/bin/python benchmarks/bench_calibration.py [--questions N] [--test-pairs N] [--kinds a,b]
        [--order plain-first|calibrated-first] [--json OUT]

Runs the controls profile twice in this process's machine, one after the other, each in a fresh
output folder and with a fresh (cold) encoding cache, so both pay for encoding their texts: once
as it is (Real, oracle-rewrite, its flipped copy and Real + each), once with a calibration of 10
extra training sets (8 flipped fractions and 2 cuts) and the untrained scores. Prints both wall
times and their ratio, with the load average, because other jobs on a shared machine slow every
number. Defaults: all 243 training questions and every test pair, the full profile's kinds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QA_FEEDBACK = REPO.parent / "shared" / "data" / "qa_feedback" / "dev_feedback.json"
CALIBRATION = "{flip_fractions: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1], sizes: [0.25, 0.5, 1]}"


def config(folder: Path, questions: int | None, test_pairs: int | None, kinds: str, calibrated: bool) -> Path:
    path = folder / ("calibrated.yaml" if calibrated else "plain.yaml")
    path.write_text(f"""
name: bench {'calibrated' if calibrated else 'plain'}
data: {QA_FEEDBACK}
train_prompts: {questions if questions else 'null'}
test_pairs: {test_pairs if test_pairs else 'null'}
methods: []
reward_models: [{kinds}]
bootstrap: 1000
controls: true
stats: false
calibration: {CALIBRATION if calibrated else 'false'}
""")
    return path


def run(folder: Path, cfg: Path) -> float:
    env = {**os.environ, "RMBOOST_CACHE_DIR": str(folder / f"cache-{cfg.stem}")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rmboost.cli", "--quiet", "experiment", "--config", str(cfg),
                    "--output", str(folder / cfg.stem)], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=None, help="training questions (default: all 243)")
    ap.add_argument("--test-pairs", type=int, default=None, help="test pairs (default: all)")
    ap.add_argument("--kinds", default="features, features-sim, embed-linear")
    ap.add_argument("--order", choices=["plain-first", "calibrated-first"], default="plain-first")
    ap.add_argument("--json", default=None)
    ap.add_argument("--smoke", action="store_true", help="a tiny run that judges no target (CI)")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}; load {os.getloadavg()[0]:.2f}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        order = [False, True] if args.order == "plain-first" else [True, False]
        walls = {}
        for calibrated in order:
            cfg = config(folder, args.questions, args.test_pairs, args.kinds, calibrated)
            walls["calibrated" if calibrated else "plain"] = run(folder, cfg)
            print(f"{cfg.stem:<11} {walls[cfg.stem]:8.1f} s   load {os.getloadavg()[0]:.2f}", flush=True)
        sets = json.loads((folder / "calibrated" / "results.json").read_text())["calibration"]["rows"]
    ratio = walls["calibrated"] / walls["plain"]
    print(f"calibrated / plain = {ratio:.2f} ({len(sets)} calibrated (kind, yardstick) rows)")
    if args.json:
        Path(args.json).write_text(json.dumps({"walls": walls, "ratio": ratio}, indent=2))
    print("targets: not judged (smoke run; `make bench` judges them)" if args.smoke else
          "target calibrated / plain <= 1.25: " + ("met" if ratio <= 1.25 else "MISSED"))


if __name__ == "__main__":
    main()
