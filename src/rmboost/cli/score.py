"""`rmboost score --rm DIR --input FILE --output FILE [--min-margin M]`: rewards from a saved reward
model for every row of a file. (prompt, response) rows get `reward`; pair rows (`prompt`, `chosen`,
`rejected`, as `rmboost generate` writes them) get `reward_chosen`, `reward_rejected` and `margin`,
and `--min-margin` keeps the pairs whose margin reaches it. A prompt row's `context` (passages, a
post) is part of what the model sees, as in training (`prompts/model_input.py`). Every row names
the model's fingerprint; a rerun resumes, and an output scored by another model is refused.

`ScoreConfig` and `write_scores` are also `rmboost rerank`'s (`cli/rerank.py`), which takes the same
options and one more. Scoring, resuming and refusing are `rm/score_file.py`'s, not this module's."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rmboost.io.rows import OnError
from rmboost.options import add_dataclass_args, from_args, on_error_option, option

if TYPE_CHECKING:
    from rmboost.rm.score_file import ScoreSummary


@dataclass
class ScoreConfig:
    rm: str = option("", "a reward model folder saved by `rmboost train` (any kind)", required=True)
    input: str = option("", "rows to score (JSONL, JSON list or Parquet): prompt and response (a row with `context` "
                        "or `task`, as `rmboost data ... --as prompts` writes, is laid out as generate shows it to the "
                        "policy), or a pair file (prompt, chosen, rejected)", required=True)
    output: str = option("", "file to write (.jsonl, or .parquet); a rerun resumes it", required=True)
    min_margin: float | None = option(None, "pairs only: keep the pairs whose reward_chosen - reward_rejected is at "
                                      "least this (e.g. 0 drops the pairs the model orders the other way)")
    batch_size: int = option(64, "responses per call of the reward model")
    on_error: OnError = on_error_option()

    def write(self, progress: bool) -> ScoreSummary:
        from rmboost.rm.score_file import score_file

        return score_file(self.rm, self.input, self.output, min_margin=self.min_margin, batch_size=self.batch_size,
                          on_error=self.on_error, progress=progress)


def write_scores(cfg: ScoreConfig, args: argparse.Namespace) -> int:
    """What `score` and `rerank` do once their options are read: write the rows, then say on stderr
    what was written, kept and left out."""
    summary = cfg.write(progress=not args.quiet)
    print(summary.text(), file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    return write_scores(from_args(ScoreConfig, args), args)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("score", help="score responses or pairs with a trained reward model")
    add_dataclass_args(parser, ScoreConfig)
    parser.set_defaults(func=_run)
