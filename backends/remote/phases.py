"""Where a cloud job's time goes, step by step (``RunReport.phases``).

Its own module, imported at the top of backend.py, so the clock can start before the client
and httpx are loaded: loading them is part of the first step, not unaccounted time.
"""

from __future__ import annotations

import time


class PhaseClock:
    """Seconds per phase of a cloud job. Phases are contiguous: each ``mark`` closes the phase that
    just ran, so together they cover the job from the clock's start to its last mark, with no gaps."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now
