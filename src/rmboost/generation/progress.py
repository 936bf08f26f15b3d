"""Progress while a run goes on: a one-line bar on a terminal, plain log lines otherwise.
Counts come from the engine; this module only formats and throttles them."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int | None = None, stream: TextIO | None = None, every: float = 15.0,
                 enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = total
        self.every = every if not self.tty else 0.2  # log lines: one per `every` seconds
        self.enabled = enabled
        self.start = time.monotonic()
        self._last = 0.0
        self.pairs = self.failures = self.tokens = 0

    def update(self, pairs: int, failures: int, tokens: int, force: bool = False) -> None:
        self.pairs, self.failures, self.tokens = pairs, failures, tokens
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.every):
            return
        self._last = now
        line = self.line(now)
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.start, 1e-9)
        done = self.pairs + self.failures
        rate = done / elapsed
        parts = [f"{self.pairs} pairs", f"{self.failures} failures", f"{rate:.2f} prompts/s",
                 f"{self.tokens / elapsed:.0f} tok/s"]
        if self.total:
            frac = min(done / self.total, 1.0)
            bar = "#" * int(frac * 20)
            eta = (self.total - done) / rate if rate > 0 else float("inf")
            eta_text = f"ETA {eta:.0f}s" if eta != float("inf") else "ETA ?"
            parts.insert(0, f"[{bar:<20}] {done}/{self.total}")
            parts.append(eta_text)
        return " | ".join(parts)

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
