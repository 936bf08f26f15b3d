"""`rmboost report`: one self-contained HTML report of a pairs file or an experiment folder."""

from __future__ import annotations

import argparse

from rmboost.errors import UsageError
from rmboost.report import DEFAULT_MAX_BYTES, write_report


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
    out = write_report(args.path, args.output, max_bytes=int(args.max_mb * 1e6) or None)
    print(out)
    return 0
