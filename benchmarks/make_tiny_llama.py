"""Write a tiny randomly initialised Llama checkpoint (with the all-MiniLM-L6-v2 tokenizer) to a
folder, to exercise `rmboost train --rm hf:PATH` on a CPU. Its scores are meaningless by design:
it checks the pipeline, not the accuracy.

    .venv/bin/python benchmarks/make_tiny_llama.py DIR [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ["HF_HUB_OFFLINE"] = "1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from rmboost.testing.tiny_llama import write_tiny_llama

    write_tiny_llama(args.output, seed=args.seed)
    print(f"wrote a tiny random Llama to {args.output}; train it with --rm hf:{args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
