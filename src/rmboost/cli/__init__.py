"""The `rmboost` command line. Each subcommand is one module with `register(subparsers)`; a module
only parses arguments and calls the library, so everything here is also doable from Python.

This module adds what every command shares: `--version`, `--quiet`, and the exit codes (the
`rmboost.errors` table), so that a `UserError` ends as one line on stderr with its own code, and
anything else is a traceback with code 1: a bug to report."""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `rmboost --help` lists them.
COMMANDS = ["generate", "data", "train", "eval", "score", "rerank", "stats", "agree", "export", "experiment", "report"]

EXIT_CODES = """exit codes:
  0    done
  1    unexpected error (a traceback: a bug, please report it)
  2    usage: an option is unknown, out of range, or does not apply to the rest of the command
  3    bad input: a file is missing, unreadable, empty or malformed (the message names it)
  4    stopped early: the backend kept failing; what was made is kept, rerun to resume
  5    output locked: another rmboost run is writing the same output
  130  interrupted (Ctrl-C); rerun the same command to resume
"""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("rmboost")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from rmboost import __version__

        return __version__


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """`--quiet` on `parser` and on every subcommand below it. SUPPRESS keeps a subcommand's
    default from overwriting a `--quiet` given before the subcommand name."""
    parser.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="no progress display (the run summary and errors are still printed)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_quiet(child)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rmboost",
        description="Synthetic preference data for reward models, and the reward models themselves.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rmboost {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"rmboost.cli.{name}").register(sub)
    add_quiet(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rmboost.errors import EXIT_INTERRUPTED, UserError

    args = build_parser().parse_args(argv)  # a usage error exits 2 here, as argparse does
    if not hasattr(args, "quiet"):
        args.quiet = False
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"rmboost: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("rmboost: interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
