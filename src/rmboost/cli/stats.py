"""`rmboost stats`: diagnostics of one or more pair files, as a table, JSON and a PNG."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rmboost.experiment.diagnostics import compute_stats
from rmboost.experiment.plots import plot_stats
from rmboost.io.rows import require_rows
from rmboost.rm.base import saved_meta


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("stats", help="diagnostics of pair files (balance, length bias, diversity, ...)")
    parser.add_argument("pairs", nargs="+", help="pair files (JSONL or Parquet) made by rmboost or in TRL format")
    parser.add_argument("--reference-rm", default=None,
                        help="a reward model trained on real data: reports the share of pairs it orders the same way")
    parser.add_argument("--png", default=None, help="write the figure here (default: none)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-embeddings", dest="embeddings", action="store_false",
                        help="skip the embedding diversity (it loads all-MiniLM-L6-v2)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path in args.pairs:  # before any work: an empty file is a mistake, not a set without pairs
        require_rows(path, "pairs")
    if args.reference_rm is not None:  # its folder, before the pairs are read and scored
        saved_meta(Path(args.reference_rm))
    results = [compute_stats(p, args.reference_rm, embeddings=args.embeddings) for p in args.pairs]
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            print(f"== {r.file}\n{r.table()}\n")
    if args.png:
        print(f"figure: {plot_stats(results, args.png)}")
    return 0
