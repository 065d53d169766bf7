"""Run extraction jobs in worker processes: progress as events, cancel that leaves nothing behind.

Each job runs in its own ``python -m extractor.web.worker`` process, which the runner can
stop at any point (in the middle of a decode, a loudness pass or the verification) -- a
flag checked from the progress callback could not. Cancelling sends SIGTERM (the worker's
own cleanup removes its temporary file), then SIGKILL if it does not stop, and then the
runner deletes the job's whole output folder, so a cancelled job leaves no file at all.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from .session import FINISHED, INTERRUPTED, Session
from .speech import page_text

log = logging.getLogger("vax.serve")
STOP_GRACE = 3.0  # seconds a worker gets to clean up after SIGTERM before SIGKILL
MAX_PARALLEL = max(1, min(2, os.cpu_count() or 1))


class JobRunner:
    def __init__(self, session: Session, *, parallel: int = MAX_PARALLEL):
        self.session = session
        self._slots = threading.Semaphore(parallel)
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._cancelled: set[str] = set()
        self._threads: dict[str, threading.Thread] = {}
        self._stopped_by = "cancelled"

    def start(self, job_id: str, spec_dict: dict) -> None:
        thread = threading.Thread(target=self._run, args=(job_id, spec_dict), name=f"vax-job-{job_id}",
                                  daemon=True)
        with self._lock:
            self._threads[job_id] = thread
        thread.start()

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        with self._lock:
            thread = self._threads.get(job_id)
        if thread:
            thread.join(timeout)

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job; False when it had already finished."""
        job = self.session.job(job_id)
        if job is None or job["status"] in FINISHED:
            return False
        with self._lock:
            self._cancelled.add(job_id)
            process = self._processes.get(job_id)
        if process is not None:  # a queued job's thread sees the flag and never starts a worker
            _stop(process)
            self.wait(job_id, STOP_GRACE * 2)
        self._finish_cancelled(job_id)
        return True

    def cancel_all(self) -> None:
        for job in self.session.snapshot()["jobs"]:
            if job["status"] not in FINISHED:
                self.cancel(job["id"])

    def interrupt_all(self) -> None:
        """The server is stopping: stop every job, and say it was interrupted, not cancelled."""
        self._stopped_by = "interrupted"
        self.cancel_all()

    def _finish_cancelled(self, job_id: str) -> None:
        self.session.discard_job_outputs(job_id)
        if self._stopped_by == "interrupted":
            self.session.update_job(job_id, status="interrupted", message=INTERRUPTED, results=[])
        else:
            self.session.update_job(job_id, status="cancelled", message="cancelled; no file was kept", results=[])

    def _run(self, job_id: str, spec_dict: dict) -> None:
        with self._slots:
            with self._lock:
                if job_id in self._cancelled:
                    return
                self.session.update_job(job_id, status="running")
                process = subprocess.Popen(
                    [sys.executable, "-m", "extractor.web.worker"], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=_import_root(),
                )
                self._processes[job_id] = process
            try:
                self._follow(job_id, process, spec_dict)
            finally:
                with self._lock:
                    self._processes.pop(job_id, None)

    def _follow(self, job_id: str, process: subprocess.Popen, spec_dict: dict) -> None:
        try:
            process.stdin.write(json.dumps({"spec": spec_dict}))
            process.stdin.close()
        except BrokenPipeError:
            pass
        outcome = None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "progress" and job_id not in self._cancelled:
                self.session.update_job(job_id, progress=round(float(event["fraction"]), 4),
                                        current=event.get("output"))
            elif event.get("event") in ("done", "error"):
                outcome = event
        stderr = process.stderr.read()
        process.wait()
        if job_id in self._cancelled:
            self._finish_cancelled(job_id)
        elif outcome and outcome["event"] == "done":
            self.session.update_job(job_id, status="done", progress=1.0, results=outcome["results"],
                                    message="")
        elif outcome:
            self.session.discard_job_outputs(job_id)
            self.session.update_job(job_id, status="failed", error=outcome.get("label"),
                                    message=failure_text(outcome, self.session.path_names()))
        else:
            self.session.discard_job_outputs(job_id)
            last = (stderr.strip().splitlines() or ["no message"])[-1]
            log.error("job %s: the worker stopped unexpectedly (exit %s): %s", job_id, process.returncode, last)
            self.session.update_job(job_id, status="failed", error="internal error", message=SOMETHING_WRONG)


SOMETHING_WRONG = "something went wrong on the server, so no file was kept (the server's log has the details)"


def failure_text(outcome: dict, names: dict[str, str]) -> str:
    """A worker's error as the page says it: internal errors are not the user's to read."""
    if str(outcome.get("label", "")).startswith("internal error"):
        log.error("job failed: %s", outcome.get("message"))
        return SOMETHING_WRONG
    return page_text(outcome.get("message", ""), names)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _import_root() -> str:
    # The folder that holds the `extractor` package, so the worker imports this very copy.
    return str(Path(__file__).resolve().parents[2])
