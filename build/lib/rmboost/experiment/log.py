"""The experiment's progress lines: timestamped, on stderr, so stdout stays the command's result."""

from __future__ import annotations

import sys
import time


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
