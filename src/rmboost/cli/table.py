"""`rmboost table FOLDER [FOLDER ...] [--yardstick NAME ...] [--all-kinds] [--output FILE]`: the
paper's table across experiment folders (each an `rmboost experiment` output folder or its
results.json), as markdown on stdout or in a file. Reading the folders and making the table is
`experiment/paper_table.py`'s; this module parses the options, refuses an unwritable output before
any work, and writes the whole table or nothing."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from rmboost.cli import add_option, argument
from rmboost.options import from_args, option


@dataclass
class TableConfig:
    folders: list[str] = argument("experiment output folders (or their results.json), one column group each")
    yardstick: list[str] = option([], "show only this yardstick (repeat for more; default: every yardstick a "
                                  "folder has)")
    all_kinds: bool = option(False, "also show the (reward-model kind, yardstick) pairs the calibration finds "
                             "not readable, as columns marked (not readable)")
    output: str | None = option(None, "write the markdown here (default: print it)")


def _run(args: argparse.Namespace) -> int:
    from rmboost.experiment.paper_table import load_folder, paper_table
    from rmboost.io.output import check_output, write_text

    cfg = from_args(TableConfig, args)
    if cfg.output is not None:
        check_output(cfg.output)
    folders = [load_folder(path) for path in cfg.folders]
    text = paper_table(folders, cfg.yardstick or None, all_kinds=cfg.all_kinds)
    if cfg.output is None:
        print(text, end="")
    else:
        write_text(cfg.output, text)
        print(cfg.output)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("table", help="the paper's table (accuracy, verdicts, label agreement) across "
                                   "experiment folders, as markdown")
    add_option(parser, TableConfig, "folders", nargs="+", metavar="FOLDER")
    add_option(parser, TableConfig, "yardstick", action="append", metavar="NAME")
    add_option(parser, TableConfig, "all_kinds", action="store_true")
    add_option(parser, TableConfig, "output", metavar="FILE")
    parser.set_defaults(func=_run)
