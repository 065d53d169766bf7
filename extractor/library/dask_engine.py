"""The Dask engine: a LocalCluster of one worker process per core, or a running cluster.

Dask does the scheduling, the retries of tasks whose worker was lost (the scheduler's
``distributed.scheduler.allowed-failures``; set here for the local cluster, by the
cluster's own configuration otherwise) and the transfer of results. Stopping uses a
``distributed.Event`` named for this run: tasks ask it between packets (through a cache,
at most every ``CHECK_EVERY`` seconds per worker process) and unwind through the
pipeline's cleanup when it is set.
"""

from __future__ import annotations

import logging
import secrets
import time

from extractor.errors import RemoteError

from .engine_base import STOP_GRACE, WORKER_DEATHS, failed, killed_worker

CHECK_EVERY = 0.5
CONNECT_TIMEOUT = "20s"
_seen: dict[str, tuple[float, bool, object]] = {}  # per worker process: event name -> (checked, value, event)


class DaskStop:
    def __init__(self, name: str):
        self.name = name

    def is_set(self) -> bool:
        checked, value, _ = _seen.get(self.name, (0.0, False, None))
        if time.monotonic() - checked < CHECK_EVERY:
            return value
        return self.check()

    def check(self) -> bool:
        """Ask the scheduler now. A task asks this as it starts: ``DaskEngine.stop`` cancels the
        tasks not yet processing once the event is set, so none of them can publish unseen."""
        _, _, event = _seen.get(self.name, (0.0, False, None))
        now = time.monotonic()
        try:
            if event is None:
                from distributed import Event

                event = Event(self.name)
            value = event.is_set()
        except (ValueError, OSError, RuntimeError):  # not on a worker (run in-process): nothing can stop it
            value = False
        _seen[self.name] = (now, value, event)
        return value


class DaskEngine:
    name = "dask"

    def __init__(self, *, workers: int, address: str | None):
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout=CONNECT_TIMEOUT)
            else:
                # Retries of lost workers are the scheduler's: it lives in this process here. One task
                # per worker thread at a time, so a worker that dies is charged for its own task only.
                with dask.config.set({"distributed.scheduler.allowed-failures": WORKER_DEATHS - 1,
                                      "distributed.scheduler.worker-saturation": 1.0}):
                    self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except OSError as exc:
            raise RemoteError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)
        self._event_name = f"vax-stop-{secrets.token_hex(6)}"
        self._futures: dict = {}

    def stop_flag(self) -> DaskStop:
        return DaskStop(self._event_name)

    def run(self, fn, tasks):
        from distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return
        run_id = secrets.token_hex(4)
        keys = [f"vax-{run_id}-{n}" for n in range(len(tasks))]
        columns = list(zip(*(args for _, args in tasks)))
        futures = self.client.map(fn, *columns, key=keys, pure=False)
        self._futures = {future.key: (key, future) for future, (key, _) in zip(futures, tasks)}
        for future in as_completed(futures):
            key, _ = self._futures[future.key]
            result = _result_of(future)  # fetched before the future is forgotten: a stop in between still finds it
            del self._futures[future.key]
            yield key, result

    def stop(self, grace: float = STOP_GRACE) -> list[tuple[str, dict]]:
        """Set the stop event, drop what has not started, wait for what has: a task that finished
        on the scheduler but whose result is not here yet must still be collected and recorded."""
        from distributed import Event, wait

        Event(self._event_name, client=self.client).set()
        states = self.client.run_on_scheduler(_states_of, keys=list(self._futures))
        keep = [f for name, (_, f) in self._futures.items() if states.get(name) in ("processing", "memory", "erred")]
        self.client.cancel([f for name, (_, f) in self._futures.items() if f not in keep])
        try:
            wait(keep, timeout=grace)
        except TimeoutError:
            pass
        finished = [(self._futures[f.key][0], _result_of(f)) for f in keep if f.done()]
        self.client.cancel([f for f in keep if not f.done()])
        self._futures = {}
        return finished

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _states_of(dask_scheduler, keys) -> dict:
    """Run on the scheduler: where each task is (queued, processing, memory, ...)."""
    tasks = dask_scheduler.tasks
    return {key: tasks[key].state for key in keys if key in tasks}


def _result_of(future) -> dict:
    from distributed import KilledWorker

    if future.status == "finished":
        return future.result()
    if future.status == "cancelled":
        return failed("cancelled")
    exc = future.exception()
    if isinstance(exc, KilledWorker):
        return killed_worker()
    return failed(f"the task raised {type(exc).__name__}: {exc}")
