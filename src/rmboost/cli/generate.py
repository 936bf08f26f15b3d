"""`rmboost generate --input FILE --output FILE [--method ...]`: make preference pairs from a prompt
file. The options are `generation/config.py`'s `GenerateConfig`; the run (local or Ray, resume, cache,
summary) is `api.generate`'s. This module parses the options, fills the task from the prompt rows when
none is given, and prints the summary, the report command and the output path."""

from __future__ import annotations

import argparse

from rmboost.generation.config import GenerateConfig
from rmboost.options import add_dataclass_args, from_args


def _run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from rmboost.api import generate
    from rmboost.generation.run import rows_task
    from rmboost.io.output import check_output
    from rmboost.report import report_command

    config = from_args(GenerateConfig, args)
    if args.task is None and Path(config.input).is_file():
        named = rows_task(config.input)
        config.task = named[0] if named is not None else config.task
    if config.engine == "ray":  # a folder of shards; the local run checks its file itself
        check_output(config.output, folder=True)
    config.progress = config.progress and not getattr(args, "quiet", False)
    summary = generate(config)
    print(summary.text(), file=sys.stderr)
    print(f"report: {report_command(summary.output)}", file=sys.stderr)
    print(summary.output)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="make preference pairs (RMBoost, RLAIF, West-of-N, RLCD) from prompts",
        description="Make preference pairs from a prompt file. Rerun the same command to resume: finished "
        "prompts are skipped and answered LLM calls come from the cache.",
    )
    add_dataclass_args(parser, GenerateConfig)
    for action in parser._actions:
        if action.dest == "task":  # unset: the rows' own task, else qa
            action.default = None
            action.help = ("task whose aspects and prompt layout to use (default: the `task` the prompt rows name, "
                           "as `rmboost data ... --as prompts` writes it, else qa)")
    parser.set_defaults(func=_run)
