"""A one-line progress bar on stderr, shown only on a terminal and only for jobs that take a while."""

from __future__ import annotations

import shutil
import sys
import time

SHOW_AFTER = 1.0  # seconds: short jobs finish before a bar would be worth drawing
REDRAW_EVERY = 0.1


class ProgressBar:
    def __init__(self, *, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._started: dict[str, float] = {}
        self._last_draw = 0.0
        self._drawn = False

    def update(self, label: str, fraction: float) -> None:
        if not self.enabled:
            return
        fraction = max(0.0, min(1.0, fraction))  # estimates can stray outside 0..1; never print -20%
        now = time.monotonic()
        started = self._started.setdefault(label, now)
        if now - started < SHOW_AFTER or (now - self._last_draw < REDRAW_EVERY and fraction < 1.0):
            return
        self._last_draw = now
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - len(label) - 20))
        filled = int(width * fraction)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {fraction * 100:5.1f}% {label}")
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            width = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
            self._drawn = False
