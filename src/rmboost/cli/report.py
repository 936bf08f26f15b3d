"""`rmboost report`: one self-contained HTML report of a pairs file or an experiment folder."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rmboost.errors import UsageError
from rmboost.io.output import check_output
from rmboost.report import DEFAULT_MAX_BYTES, default_output, write_report


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "report",
        help="one HTML file to read the pairs, their failures and an experiment's results in a browser",
        description="Write one self-contained HTML file (no server, nothing loaded from the network): a pair "
        "browser with filters, search and a word diff of each rewrite, the failures, and for an experiment "
        "folder its results, paired differences, diagnostics and charts.",
    )
    parser.add_argument("path", help="a pairs file (its failures and summary files beside it) or an experiment "
                        "output folder")
    parser.add_argument("--output", default=None, help="where to write the page (default: <folder>/report.html "
                        "for an experiment, <stem>.report.html beside a pairs file)")
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_BYTES / 1e6,
                        help="keep the file under this many MB by sampling the rows, and say so in the page "
                        "(0: keep every row)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.max_mb < 0:
        raise UsageError("--max-mb must be 0 (no limit) or more")
    out = Path(args.output) if args.output is not None else default_output(args.path)
    check_output(out)
    # What the page says of rows it left out is said on stderr too (`report/collect.py` logs it).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rmboost report: %(message)s"))
    logger = logging.getLogger("rmboost.report")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        out = write_report(args.path, out, max_bytes=int(args.max_mb * 1e6) or None)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    print(out)
    return 0
