"""`rmboost stats PAIRS... [--reference-rm DIR] [--png FILE] [--json] [--no-embeddings]`: diagnostics of
one or more pair files (balance, length bias, diversity, a reference model's agreement), as a table,
JSON and a PNG. What is measured is `experiment/diagnostics.py`'s and the figure `experiment/plots.py`'s;
this module parses the options, refuses an empty file or a missing model before any work, and prints."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from rmboost.cli import add_option, argument
from rmboost.options import from_args, option


@dataclass
class StatsConfig:
    pairs: list[str] = argument("pair files (JSONL or Parquet) made by rmboost or in TRL format")
    reference_rm: str | None = option(None, "a reward model trained on real data: reports the share of pairs it "
                                      "orders the same way")
    png: str | None = option(None, "write the figure here (default: none)")
    json: bool = option(False, "print JSON instead of a table")
    embeddings: bool = option(True, "skip the embedding diversity (it loads all-MiniLM-L6-v2)")


def _run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from rmboost.experiment.diagnostics import compute_stats
    from rmboost.experiment.plots import plot_stats
    from rmboost.io.rows import require_rows
    from rmboost.rm.base import saved_meta

    cfg = from_args(StatsConfig, args)
    for path in cfg.pairs:  # before any work: an empty file is a mistake, not a set without pairs
        require_rows(path, "pairs")
    if cfg.reference_rm is not None:  # its folder, before the pairs are read and scored
        saved_meta(Path(cfg.reference_rm))
    results = [compute_stats(p, cfg.reference_rm, embeddings=cfg.embeddings) for p in cfg.pairs]
    if cfg.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            print(f"== {r.file}\n{r.table()}\n")
    if cfg.png:
        print(f"figure: {plot_stats(results, cfg.png)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stats", help="diagnostics of pair files (balance, length bias, diversity, ...)")
    add_option(parser, StatsConfig, "pairs", nargs="+")
    add_option(parser, StatsConfig, "reference_rm")
    add_option(parser, StatsConfig, "png")
    add_option(parser, StatsConfig, "json", action="store_true")
    add_option(parser, StatsConfig, "embeddings", "--no-embeddings", action="store_false")
    parser.set_defaults(func=_run)
