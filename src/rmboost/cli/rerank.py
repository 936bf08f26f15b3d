"""`rmboost rerank --rm DIR --input FILE --output FILE [--pairs] [--min-margin M]`: the best and the
worst of each row's `responses` by a saved reward model (best-of-N; West-of-N's rule, the earliest
response winning a tie). Each row gets `rewards`, `best`, `worst`, their indices and `margin`; with
`--pairs` each row becomes a TRL preference pair instead (chosen = best, rejected = worst), ready for
`rmboost train` or TRL. Resumes and refuses another model's output as `rmboost score` does."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from rmboost.options import add_dataclass_args, from_args, on_error_option, option


@dataclass
class RerankConfig:
    rm: str = option("", "a reward model folder saved by `rmboost train` (any kind)", required=True)
    input: str = option("", "prompt rows with `responses` (a list of responses), `context` and `task` if they have "
                        "them (`rmboost data ... --as prompts --with-responses all`); JSONL, JSON list or Parquet",
                        required=True)
    output: str = option("", "file to write (.jsonl, or .parquet); a rerun resumes it", required=True)
    pairs: bool = option(False, "write TRL pairs (prompt as the model saw it, passages included; chosen = best, "
                         "rejected = worst) instead of ranked rows; a row whose rewards are all equal makes no pair")
    min_margin: float | None = option(None, "keep the rows whose best - worst reward is at least this")
    batch_size: int = option(64, "responses per call of the reward model")
    on_error: str = on_error_option()


def _run(args: argparse.Namespace) -> int:
    from rmboost.rm.rerank import rerank_file

    cfg = from_args(RerankConfig, args)
    summary = rerank_file(cfg.rm, cfg.input, cfg.output, pairs=cfg.pairs, min_margin=cfg.min_margin,
                          batch_size=cfg.batch_size, on_error=cfg.on_error, progress=not args.quiet)
    print(summary.text(), file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rerank", help="best and worst of N responses per prompt by a reward model")
    add_dataclass_args(parser, RerankConfig)
    parser.set_defaults(func=_run)
