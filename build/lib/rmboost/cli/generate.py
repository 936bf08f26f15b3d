"""`rmboost generate`: make preference pairs from a prompt file."""

from __future__ import annotations

import argparse
import sys

from rmboost.api import generate
from rmboost.generation.config import GenerateConfig
from rmboost.options import add_dataclass_args, from_args
from rmboost.report import report_command


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "generate",
        help="make preference pairs (RMBoost, RLAIF, West-of-N, RLCD) from prompts",
        description="Make preference pairs from a prompt file. Rerun the same command to resume: finished "
        "prompts are skipped and answered LLM calls come from the cache.",
    )
    add_dataclass_args(parser, GenerateConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = from_args(GenerateConfig, args)
    config.progress = config.progress and not getattr(args, "quiet", False)
    summary = generate(config)
    print(summary.text(), file=sys.stderr)
    print(f"report: {report_command(summary.output)}", file=sys.stderr)
    print(summary.output)
    return 0
