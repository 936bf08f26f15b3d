"""The `rmboost` command line. Each command is one module of this folder, named as the command, in
one style (`tests/test_cli_style.py` keeps it): a config dataclass whose fields carry the options'
help text, `register(subparsers: argparse._SubParsersAction) -> None` that adds the command's parser
and sets its handler, and a handler `_run(args: argparse.Namespace) -> int` that builds the config
with `options.from_args` and calls the library, so everything here is also doable from Python.

This module adds what every command shares: `--version`, `--quiet`, the exit codes (the
`rmboost.errors` table), so that a `UserError` ends as one line on stderr with its own code, and
anything else is a traceback with code 1: a bug to report; and `argument` and `add_option`, for
positional arguments and the few options `options.add_dataclass_args` does not spell. What a
command does is the library's, not this folder's."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
from typing import Any

from rmboost.options import field_how

# Subcommand modules, in the order `rmboost --help` lists them.
COMMANDS = ["generate", "data", "train", "eval", "score", "rerank", "stats", "agree", "export", "experiment", "report",
            "table"]

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


def argument(help: str) -> Any:
    """A config field that is a positional argument: `add_option` adds it, `add_dataclass_args` leaves it out."""
    return dataclasses.field(metadata={"cli": False, "positional": True, "help": help})


def add_option(parser: argparse.ArgumentParser, config: type, name: str, *flags: str, **how: Any) -> None:
    """The argument of `config`'s field `name`, its help text, choices and default taken from the
    field, for what `options.add_dataclass_args` spells otherwise: a positional argument (`argument`),
    a bare flag (`action="store_true"`), a `metavar`, a help text that does not show its default,
    another flag than `--name`. `how` is the rest of argparse's arguments (`action`, `type`, `nargs`)."""
    (f,) = [f for f in dataclasses.fields(config) if f.name == name]
    how = {**field_how(f), **how}
    if f.metadata.get("positional"):
        parser.add_argument(name, help=f.metadata["help"], **how)
    else:
        parser.add_argument(*(flags or ("--" + name.replace("_", "-"),)), dest=name, help=f.metadata["help"], **how)


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
