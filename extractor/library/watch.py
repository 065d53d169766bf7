"""`vax library watch`: extract files as they appear under the roots.

The file system's change events come from ``watchfiles``; after each batch of them, the
changed files are given time to stop growing (a copy or a camera upload in progress would
otherwise be caught half-written and fail to probe, or worse, probe as a short file), then
the ordinary scan and extract run: the re-scan only stats unchanged files, so each round
costs little more than the new files' own work.
"""

from __future__ import annotations

import os
import time

SETTLE = 2.0  # seconds a file's size and mtime must stay the same before it is taken


def watch(roots, run_once, *, settle: float = SETTLE, ignore: str | None = None, stop_event=None) -> None:
    """``run_once()`` now, then after every batch of changes that have settled. Ctrl-C ends it."""
    from watchfiles import Change
    from watchfiles import watch as changes_of

    ignored = os.path.abspath(ignore) + os.sep if ignore else None
    run_once()
    for changes in changes_of(*roots, debounce=200, stop_event=stop_event):
        paths = {p for kind, p in changes if kind != Change.deleted and not (ignored and p.startswith(ignored))}
        gone = any(kind == Change.deleted for kind, _ in changes)
        if paths or gone:
            wait_until_settled(paths, settle)
            run_once()


def wait_until_settled(paths, settle: float) -> None:
    """Return once none of ``paths`` changed size or mtime for ``settle`` seconds."""
    before = _states(paths)
    while True:
        time.sleep(settle)
        now = _states(paths)
        if now == before:
            return
        before = now


def _states(paths) -> dict:
    states = {}
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            continue
        states[path] = (stat.st_size, stat.st_mtime_ns)
    return states
