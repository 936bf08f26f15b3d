"""`rmboost agree PAIRS --human FILE [--corrections FILE] [--json]`: how often a method's labels agree
with the humans' on the same responses, and how often its rewrites move as their label says
relative to a human correction (`data/agreement.py`); a table, or JSON. A measure asked for that
no pair of PAIRS is about is an error naming the first pair's line and field. The counting and the
matching of pairs to labels are `data/agreement.py`'s; this module checks that there is something to
compare and prints."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from rmboost.cli import add_option, argument
from rmboost.options import add_dataclass_args, from_args, option


@dataclass
class AgreeConfig:
    pairs: str = argument("a pair file (JSONL, JSON or Parquet) made over responses the humans labelled")
    human: str | None = option(None, "human labels of the same responses: `rmboost data qa-feedback --as pairs` "
                               "output, or the `--as prompts --with-responses all` file (which also holds the ties)")
    corrections: str | None = option(None, "human corrections (`rmboost data qa-feedback --as corrections`): "
                                     "does each rewrite move towards the correction when BETTER, away when WORSE")
    json: bool = option(False, "print JSON instead of a table")
    n_boot: int = option(2000, "bootstrap resamples (of questions) for the intervals")
    seed: int = option(0, "seed of the bootstrap")


def _run(args: argparse.Namespace) -> int:
    from rmboost.data.agreement import agreement_report
    from rmboost.errors import UsageError

    cfg = from_args(AgreeConfig, args)
    if cfg.human is None and cfg.corrections is None:
        raise UsageError("rmboost agree needs --human FILE, --corrections FILE or both: there is nothing to compare")
    if cfg.n_boot < 1:
        raise UsageError(f"--n-boot must be at least 1, got {cfg.n_boot}")
    report = agreement_report(cfg.pairs, cfg.human, cfg.corrections, cfg.n_boot, cfg.seed)
    report.require_matches()
    print(json.dumps(report.to_dict(), indent=2) if cfg.json else report.table())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("agree", help="label agreement of a pair file with human labels and corrections")
    add_option(parser, AgreeConfig, "pairs")
    add_dataclass_args(parser, AgreeConfig)
    parser.set_defaults(func=_run)
