"""A progress display for long commands, on tqdm: on a terminal a bar with the total, the rate and
the ETA from the first update; when stderr is not a terminal (a log file, CI, a pipe) one plain line
every `every` seconds instead, plus one at the start and one at the end; nothing when disabled
(`--quiet`). Callers pass counts and named figures (pairs, loss, cost...); this module only shows
them, so generation (`generation/progress.py`) and reward-model training share it.

Left out: what is counted, and when a command is quiet (the caller decides `enabled`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm


def figures_text(figures: dict[str, Any]) -> str:
    """`pairs=12, loss=0.4132`: named figures on one line, floats to 4 significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())


class ProgressDisplay:
    """`update(n, **figures)` with the absolute count done so far; `close()` at the end (or use it
    as a context manager). `total` may be None when it is not known."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "it", *, enabled: bool = True,
                 every: float = 15.0, stream: TextIO | None = None) -> None:
        self.desc, self.total, self.unit = desc, total, unit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.every = every
        self.terminal = enabled and _isatty(self.stream)
        self.start = self._last = time.monotonic()
        self.n = self._last_n = 0
        self.figures: dict[str, Any] = {}
        self.bar: tqdm | None = None
        if self.terminal:
            # A terminal that reports no size (a bare pty, some CI) gets 100 x 24: tqdm hides a bar
            # on a screen of 0 rows.
            sized = _has_size(self.stream)
            self.bar = tqdm(total=total, desc=desc, unit=f" {unit}", file=self.stream, dynamic_ncols=sized,
                            ncols=None if sized else 100, nrows=None if sized else 24, mininterval=0.2, leave=True)
        elif enabled:
            self._line()

    def update(self, n: int, **figures: Any) -> None:
        self.figures.update(figures)
        delta, self.n = n - self.n, n
        if self.bar is not None:
            self.bar.set_postfix_str(figures_text(self.figures), refresh=False)
            self.bar.update(delta) if delta else self.bar.refresh()  # nothing done: the elapsed time moves
        elif self.enabled and time.monotonic() - self._last >= self.every:
            self._line()

    def text(self) -> str:
        """The current state as one line, as the log gets it."""
        postfix = figures_text(self.figures)
        total_part = f"/{self.total}" if self.total is not None else ""
        fmt = ("{desc}: {n_fmt}" + total_part + " {unit}s [{elapsed}<{remaining}, {rate_fmt}]"
               if self.total is not None else "{desc}: {n_fmt} {unit}s [{elapsed}, {rate_fmt}]")
        meter = tqdm.format_meter(self.n, self.total, time.monotonic() - self.start, prefix=self.desc,
                                  unit=self.unit, bar_format=fmt)
        return f"{meter} {postfix}".rstrip()

    def _line(self) -> None:
        self._last = time.monotonic()
        self._last_n = self.n
        self.stream.write(self.text() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(figures_text(self.figures), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.enabled and self.n != self._last_n:
            self._line()
        self.enabled = False

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TrainingProgress:
    """Reward-model training as `on_progress(step, total_steps, loss, val_accuracy)` reports it
    (`rm/training_loop.py`): steps of the total, the loss and the validation accuracy. Pass an
    instance as `on_progress`, and `close()` it when training ends."""

    def __init__(self, desc: str = "train", *, enabled: bool = True, every: float = 15.0,
                 stream: TextIO | None = None) -> None:
        self.desc, self.enabled, self.every, self.stream = desc, enabled, every, stream
        self.display: ProgressDisplay | None = None

    def __call__(self, step: int, total_steps: int, loss: float, val_accuracy: float | None) -> None:
        if self.display is None:  # the total is known at the first report
            self.display = ProgressDisplay(self.desc, total_steps, unit="step", enabled=self.enabled,
                                           every=self.every, stream=self.stream)
        figures: dict[str, Any] = {"loss": float(loss)}
        if val_accuracy is not None:
            figures["val_acc"] = float(val_accuracy)
        self.display.update(step, **figures)

    def close(self) -> None:
        if self.display is not None:
            self.display.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or stream-like object without a terminal
        return False


def _has_size(stream: TextIO) -> bool:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return size.columns > 0 and size.lines > 0
