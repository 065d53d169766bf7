"""The small interface every execution engine offers, and the dicts of tasks that never returned one.

An engine runs plain functions on workers and hands back plain dicts as they finish; it
knows nothing of catalogues or media. Adding another (Ray) means one class with these four
methods and one line in ``engines.make_engine``; nothing else changes.

Lost workers: a task whose worker dies is run again on another worker; after
``WORKER_DEATHS`` deaths it is given up as failed with the reason (the file most likely
kills whatever decodes it), and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from extractor.errors import InternalError, outcome_of

WORKER_DEATHS = 3  # a task may take down this many workers before it is marked failed
STOP_GRACE = 10.0  # seconds the tasks in progress get to clean up after a stop

Task = tuple[str, tuple]  # (key, arguments of the function)


class StopFlag(Protocol):
    """Sent with every task; the task asks it, between packets, whether to stop."""

    def is_set(self) -> bool: ...  # may be a moment late: asked between packets
    def check(self) -> bool: ...  # exact: asked once as a task starts, so none starts after a stop


class Engine(Protocol):
    name: str
    workers: int

    def stop_flag(self) -> StopFlag: ...
    def run(self, fn: Callable[..., dict], tasks: Iterable[Task]) -> Iterator[tuple[str, dict]]: ...
    def stop(self, grace: float = STOP_GRACE) -> list[tuple[str, dict]]: ...
    def close(self) -> None: ...


class NeverStop:
    def is_set(self) -> bool:
        return False

    check = is_set


def failed(message: str) -> dict:
    """The dict of a task that never returned one (its worker died, or the engine lost it)."""
    return {"status": "failed", "results": [], "skipped": [], "error": outcome_of(InternalError(message))}


def killed_worker(deaths: int | None = None) -> dict:
    times = f"{deaths} times" if deaths else "repeatedly"
    return failed(f"the file killed its worker process {times} (a decoder crash?); given up")
