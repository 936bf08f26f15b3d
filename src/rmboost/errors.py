"""Errors that reach the user as one clear line, not a traceback, each with the exit code the CLI
ends with (documented in `rmboost --help` and the README):

  0 done   1 unexpected error (a traceback: a bug)   2 usage   3 bad input
  4 stopped early (the backend kept failing; rerun to resume)   5 output locked by another run
  130 interrupted

One kind of mistake, one code: a command-line option or an experiment config's field that is
unknown (an unknown method, reward-model kind, data format, yardstick or field), of the wrong type,
out of range or not applicable is usage (2), however deep the check that finds it; a file that is
missing, unreadable or malformed (the config file itself included) is bad input (3). `about` puts
what a mistake is about (the config file and field) before its line and keeps its code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INPUT, EXIT_STOPPED, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130


class UserError(Exception):
    """Bad input or configuration: the message names what to fix."""

    exit_code = EXIT_INPUT


class UsageError(UserError):
    """An option (or an experiment config's field) that is unknown, of the wrong type, out of range
    or does not apply to the rest of the command."""

    exit_code = EXIT_USAGE


class InputError(UserError):
    """A bad input row: names the file, the line (1-based) and the field."""

    def __init__(self, source: str, line: int, field: str | None, message: str) -> None:
        where = f"{source}:{line}" if line else source
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}".replace(": ", ": ", 1))
        self.source = source
        self.line = line
        self.field = field
        self.message = message


class OutputLocked(UserError):
    """Another run holds the output's writer lock."""

    exit_code = EXIT_LOCKED


class EarlyStop(UserError):
    """The backend kept failing, so the run stopped; what it made is kept, and a rerun resumes.
    Raised once, by the public `generate()`, with the run's summary attached."""

    exit_code = EXIT_STOPPED

    def __init__(self, message: str, summary: Any = None) -> None:
        super().__init__(message)
        self.summary = summary


@contextmanager
def about(prefix: str) -> Iterator[None]:
    """A `UserError` raised inside reads `{prefix}: {its line}` (e.g. the config file and field it is
    about), with its exit code: a usage mistake stays a `UsageError`."""
    try:
        yield
    except UserError as e:
        error = (UsageError if isinstance(e, UsageError) else UserError)(f"{prefix}: {e}")
        error.exit_code = e.exit_code
        raise error from e
