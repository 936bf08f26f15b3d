"""The `rmboost` command line. Each subcommand is one module with `register(subparsers)`; a module
only parses arguments and calls the library, so everything here is also doable from Python."""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `rmboost --help` lists them.
COMMANDS = ["generate", "data", "train", "eval", "stats", "experiment"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rmboost",
        description="Synthetic preference data for reward models, and the reward models themselves.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"rmboost.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rmboost.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"rmboost: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rmboost: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
