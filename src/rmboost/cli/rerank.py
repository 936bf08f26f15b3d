"""`rmboost rerank --rm DIR --input FILE --output FILE [--pairs] [--min-margin M]`: the best and the
worst of each row's `responses` by a saved reward model (best-of-N; West-of-N's rule, the earliest
response winning a tie). Each row gets `rewards`, `best`, `worst`, their indices and `margin`; with
`--pairs` each row becomes a TRL preference pair instead (chosen = best, rejected = worst), ready for
`rmboost train` or TRL. Resumes and refuses another model's output as `rmboost score` does.

The options it shares with `score` (the model, the files, the batch size, `--on-error`) and the run
are `cli/score.py`'s; this module adds `--pairs` and its own help for `--input` and `--min-margin`.
The ranking is `rm/rerank.py`'s."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rmboost.cli.score import ScoreConfig, write_scores
from rmboost.options import add_dataclass_args, from_args, option

if TYPE_CHECKING:
    from rmboost.rm.score_file import ScoreSummary


@dataclass
class RerankConfig(ScoreConfig):
    input: str = option("", "prompt rows with `responses` (a list of responses), `context` and `task` if they have "
                        "them (`rmboost data ... --as prompts --with-responses all`); JSONL, JSON list or Parquet",
                        required=True)
    min_margin: float | None = option(None, "keep the rows whose best - worst reward is at least this")
    pairs: bool = option(False, "write TRL pairs (prompt as the model saw it, passages included; chosen = best, "
                         "rejected = worst) instead of ranked rows; a row whose rewards are all equal makes no pair")

    def write(self, progress: bool) -> ScoreSummary:
        from rmboost.rm.rerank import rerank_file

        return rerank_file(self.rm, self.input, self.output, pairs=self.pairs, min_margin=self.min_margin,
                           batch_size=self.batch_size, on_error=self.on_error, progress=progress)


def _run(args: argparse.Namespace) -> int:
    return write_scores(from_args(RerankConfig, args), args)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rerank", help="best and worst of N responses per prompt by a reward model")
    add_dataclass_args(parser, RerankConfig)
    parser.set_defaults(func=_run)
