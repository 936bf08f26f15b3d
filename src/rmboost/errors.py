"""Errors that reach the user as one clear line, not a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or configuration: the message names what to fix."""


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
