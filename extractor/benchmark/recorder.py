"""Phase timing around the one pipeline, without changing it.

The pipeline looks engines up in a mapping; ``RecordingBackends`` hands out the real engines
wrapped so that each run's ``RunReport`` is kept, and the pipeline's own hooks (``on_start``,
``on_result``) mark where vax's part ends and begins. The phases of one job are contiguous:

    prepare (probe, plan, destination checks) | the engine's own phases | verify (and publish)

An engine that does not time its steps (the local one) shows as one ``engine`` phase, timed
here around ``run``. The cloud backend times its own steps; the time between them and the
engine's call boundaries, if any, shows as ``unaccounted``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping


class PhaseLog:
    """Seconds per phase for one job, in the order they first ran, and what the engines reported."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.transferred: dict[str, int] = {}
        self.started = self._last = time.perf_counter()

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def mark(self, phase: str) -> float:
        """Close ``phase`` at now; the time of the mark."""
        now = time.perf_counter()
        self.add(phase, now - self._last)
        self._last = now
        return now

    def engine_ran(self, began: float, report) -> None:
        """The engine's call is over: its own phases when it timed them, else the call's length."""
        now = time.perf_counter()
        took = now - began
        own = dict(getattr(report, "phases", None) or {})
        if own:
            for phase, seconds in own.items():
                self.add(phase, seconds)
            rest = took - sum(own.values())
            if rest > 0:
                self.add("unaccounted", rest)
        else:
            self.add("engine", took)
        for what, count in (getattr(report, "transferred", None) or {}).items():
            self.transferred[what] = self.transferred.get(what, 0) + count
        self._last = now


class _Recording:
    """An engine, unchanged, except that ``run`` is timed into the current log."""

    def __init__(self, backend, owner: RecordingBackends):
        self._backend = backend
        self._owner = owner

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def run(self, plan, destination, progress=None):
        log = self._owner.log
        log.mark("prepare")
        began = time.perf_counter()
        report = self._backend.run(plan, destination, progress)
        log.engine_ran(began, report)
        return report


class RecordingBackends(Mapping):
    """The pipeline's engine registry, each engine wrapped by ``_Recording``."""

    def __init__(self, backends: Mapping):
        self._backends = backends
        self._wrapped: dict[str, _Recording] = {}
        self.log = PhaseLog()

    def new_job(self) -> PhaseLog:
        self.log = PhaseLog()
        return self.log

    def __getitem__(self, name: str) -> _Recording:
        if name not in self._wrapped:
            self._wrapped[name] = _Recording(self._backends[name], self)
        return self._wrapped[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._backends)

    def __len__(self) -> int:
        return len(self._backends)
