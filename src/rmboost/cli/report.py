"""`rmboost report PATH [--output FILE] [--max-mb MB]`: one self-contained HTML report of a pairs file
or an experiment folder. Reading the files and making the page is `report/`'s; this module parses the
options, refuses a negative size or a locked output before any work, and says on stderr what the
page says of rows it left out."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from rmboost.cli import add_option, argument
from rmboost.options import from_args, option
from rmboost.report import DEFAULT_MAX_BYTES


@dataclass
class ReportConfig:
    path: str = argument("a pairs file (its failures and summary files beside it) or an experiment output folder")
    output: str | None = option(None, "where to write the page (default: <folder>/report.html for an experiment, "
                                "<stem>.report.html beside a pairs file)")
    max_mb: float = option(DEFAULT_MAX_BYTES / 1e6, "keep the file under this many MB by sampling the rows, and say "
                           "so in the page (0: keep every row)")


def _run(args: argparse.Namespace) -> int:
    import logging
    import sys
    from pathlib import Path

    from rmboost.errors import UsageError
    from rmboost.io.output import check_output
    from rmboost.report import default_output, write_report

    cfg = from_args(ReportConfig, args)
    if cfg.max_mb < 0:
        raise UsageError("--max-mb must be 0 (no limit) or more")
    out = Path(cfg.output) if cfg.output is not None else default_output(cfg.path)
    check_output(out)
    # What the page says of rows it left out is said on stderr too (`report/collect.py` logs it).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rmboost report: %(message)s"))
    logger = logging.getLogger("rmboost.report")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        out = write_report(cfg.path, out, max_bytes=int(cfg.max_mb * 1e6) or None)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    print(out)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="one HTML file to read the pairs, their failures and an experiment's results in a browser",
        description="Write one self-contained HTML file (no server, nothing loaded from the network): a pair "
        "browser with filters, search and a word diff of each rewrite, the failures, and for an experiment "
        "folder its results, paired differences, diagnostics and charts.",
    )
    add_option(parser, ReportConfig, "path")
    add_option(parser, ReportConfig, "output")
    add_option(parser, ReportConfig, "max_mb", type=float)
    parser.set_defaults(func=_run)
