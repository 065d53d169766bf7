"""The local engine: worker processes on this machine, one task at a time each.

Its own small pool rather than ``concurrent.futures``: a process pool that loses a worker
breaks as a whole and cannot say which task killed it, whereas here each worker has its own
pipe, so a death is charged to exactly the task it was running, which is run again on a new
worker (``engines.WORKER_DEATHS``). Workers ignore SIGINT (the client decides what a Ctrl-C
stops) and leave when the client is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import wait

from .engine_base import WORKER_DEATHS, failed, killed_worker

_stop_event = None  # the worker's view of the client's stop flag


class LocalStop:
    """Pickled with each task; in a worker it reads the event the pool gave that worker."""

    def is_set(self) -> bool:
        return _stop_event is not None and _stop_event.is_set()

    check = is_set


def _serve(conn, stop_event, parent: int) -> None:
    global _stop_event
    _stop_event = stop_event
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        if not conn.poll(1.0):
            if os.getppid() != parent:  # the client is gone: nobody will read a result
                return
            continue
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        key, fn, args = message
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001  (a task never raises; if one does, say so rather than die)
            result = failed(f"the task raised {type(exc).__name__}: {exc}")
        conn.send((key, result))


class _Worker:
    def __init__(self, context, stop_event):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, stop_event, os.getpid()), daemon=True)
        self.process.start()
        child.close()
        self.task: tuple[str, tuple] | None = None


class LocalEngine:
    name = "local"

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._context = _context()
        self._stop = self._context.Event()
        self._pool: list[_Worker] = []
        self._fn = None

    def stop_flag(self) -> LocalStop:
        return LocalStop()

    def run(self, fn, tasks):
        """Yield (key, result) as tasks finish, in any order."""
        self._fn = fn
        waiting = deque(tasks)
        deaths: dict[str, int] = {}
        while waiting or any(w.task for w in self._pool):
            self._fill(waiting)
            busy = {w.conn: w for w in self._pool if w.task} | {w.process.sentinel: w for w in self._pool if w.task}
            for ready in wait(list(busy), timeout=1.0):
                worker = busy[ready]
                if worker.task is None:  # its result and its exit arrived together
                    continue
                outcome = self._collect(worker, waiting, deaths)
                if outcome is not None:
                    yield outcome

    def _fill(self, waiting: deque) -> None:
        self._pool = [w for w in self._pool if w.process.is_alive() or w.task]
        while len(self._pool) < self.workers and waiting and not self._stop.is_set():
            self._pool.append(_Worker(self._context, self._stop))
        for worker in self._pool:
            if worker.task is None and waiting and not self._stop.is_set():
                worker.task = waiting.popleft()
                worker.conn.send((worker.task[0], self._fn, worker.task[1]))

    def _collect(self, worker: _Worker, waiting: deque, deaths: dict[str, int]):
        key = worker.task[0]
        try:
            if worker.conn.poll():
                _, result = worker.conn.recv()
                worker.task = None
                return key, result
        except (EOFError, OSError):
            pass
        # The worker died with the task: charge the death to that task, run it again elsewhere.
        task, worker.task = worker.task, None
        worker.process.join(1.0)
        self._pool.remove(worker)
        deaths[key] = deaths.get(key, 0) + 1
        if deaths[key] >= WORKER_DEATHS:
            return key, killed_worker(deaths[key])
        if self._stop.is_set():
            return key, failed("its worker died while stopping")
        waiting.appendleft(task)
        return None

    def stop(self, grace: float = 10.0) -> list[tuple[str, dict]]:
        """Ask the tasks in progress to stop (they remove their temporary files); start no more."""
        self._stop.set()
        finished = []
        deadline = time.monotonic() + grace
        for worker in self._pool:
            if worker.task and worker.conn.poll(max(0.0, deadline - time.monotonic())):
                try:
                    finished.append(worker.conn.recv())
                except (EOFError, OSError):
                    pass
                worker.task = None
        return finished

    def close(self) -> None:
        for worker in self._pool:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self._pool:
            worker.process.join(2.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)
        self._pool = []


def _context():
    """``fork`` from a single-threaded client on Linux (workers start at once with PyAV loaded),
    else ``forkserver`` or ``spawn``: forking a threaded process can deadlock."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
        import backends.local  # noqa: F401  (imported once, so every worker starts with it)
        from extractor import api  # noqa: F401

        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
