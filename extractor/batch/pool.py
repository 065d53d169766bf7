"""Running a batch: every job in parallel worker processes, outcomes reported as they finish.

See ``extractor.batch`` for the rules (resume, stopping, exit code). The reporter is given
by the caller (the CLI draws lines and a summary); this module prints nothing itself.
"""

from __future__ import annotations

import os
import queue as queue_module
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from extractor.errors import InternalError, Interrupted, VaxError, outcome_of
from extractor.guard import run_guarded

from .expand import BatchSettings, extension_verdict
from .worker import init_worker, outcome_for, run_job

STOP_TIMEOUT = 10.0  # seconds the workers get to clean up before they are killed


class Reporter(Protocol):
    """What the caller shows of a batch (the CLI's lines and summary, or nothing)."""

    done_ids: set[int]

    def progress(self, job_id: int, fraction: float) -> None: ...
    def skipped(self, path: str, reason: str) -> None: ...
    def failed(self, what: str, exc: VaxError, job_id: int | None = None) -> None: ...
    def done(self, outcome: dict) -> None: ...
    def note(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...
    def summary(self) -> None: ...
    def exit_code(self) -> int: ...


def run_batch(make_specs, settings: BatchSettings, *, reporter: Callable[[int], Reporter], debug: bool) -> int:
    """Run every job, in parallel worker processes; the exit code is described in ``extractor.batch``.
    ``reporter(total)`` makes the object that hears about each file."""
    total = len(make_specs) + len(settings.skipped) + len(settings.problems)
    reporter = reporter(total)
    if total == 0:
        reporter.error("nothing to do: no files found")
        return 0
    resume = True  # batch mode resumes; --overwrite (in the spec) still replaces
    jobs: list[tuple[int, str]] = []
    skipped = list(settings.skipped)
    for job_id, make_spec in enumerate(make_specs, start=1):
        holder: dict = {}
        errors: list[VaxError] = []
        code = run_guarded(lambda holder=holder, make_spec=make_spec: holder.setdefault("spec", make_spec()),
                           debug=debug, report=errors.append)
        if code:  # the options are shared by every job: bad usage stops the batch before it starts
            if code == Interrupted.exit_code:
                return _interrupted(reporter)
            reporter.error(errors[0].one_line())
            return code
        spec = holder["spec"]
        reason = extension_verdict(spec.input)
        if reason:
            skipped.append((spec.input, reason))
        else:
            jobs.append((job_id, spec.to_json()))
    clash = _shared_output_file(jobs)
    if clash:
        reporter.error(clash.one_line())
        return clash.exit_code

    for path, reason in skipped:
        reporter.skipped(path, reason)
    for what, exc in settings.problems:
        reporter.failed(what, exc)
    if not jobs:
        reporter.summary()
        return reporter.exit_code()
    _start_run(jobs)
    workers, why = _workers_within_limits(settings.workers(len(jobs)))
    if why:
        reporter.note(why)
    try:
        if workers == 1:
            stopped = _run_here(jobs, resume, debug, reporter)
        else:
            stopped = _run_pool(jobs, workers, resume, debug, reporter)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP turned into Interrupted by the CLI
        return _interrupted(reporter, exc)
    if stopped:
        return _interrupted(reporter)
    reporter.summary()
    return reporter.exit_code()


# Open files: the pool costs this process about 2 per worker plus a dozen; a forked worker
# starts with all of them and a job opens up to about 16 more (input, temporary output, its
# lock, PyAV's own). Measured on Linux with the fork start method.
FDS_PER_WORKER, FDS_POOL, FDS_PER_JOB = 2, 12, 16


def _workers_within_limits(wanted: int) -> tuple[int, str | None]:
    """As many workers as asked for, or as many as the open-file limit allows (a low
    ``ulimit -n`` runs with fewer workers instead of failing with "Too many open files")."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return wanted, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        open_now = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_now = 16
    need = open_now + FDS_POOL + FDS_PER_JOB + FDS_PER_WORKER * wanted
    if soft == resource.RLIM_INFINITY or soft >= need:
        return wanted, None
    if hard == resource.RLIM_INFINITY or hard > soft:  # raise our own soft limit first, as far as allowed
        soft = need if hard == resource.RLIM_INFINITY else min(hard, need)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        except (ValueError, OSError):
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft >= need:
            return wanted, None
    fit = max(1, (soft - open_now - FDS_POOL - FDS_PER_JOB) // FDS_PER_WORKER)
    if fit >= wanted:
        return wanted, None
    return fit, f"running {fit} job(s) at a time instead of {wanted}: the open-file limit (ulimit -n) is {soft}"


_RUN: tuple = (None, frozenset())  # (run id, real paths of its inputs), handed to every worker


def _start_run(jobs) -> None:
    import json

    from . import record
    from .worker import set_run

    global _RUN
    _RUN = (record.new_run_id(), frozenset(os.path.realpath(json.loads(spec)["input"]) for _, spec in jobs))
    set_run(*_RUN)  # for --jobs 1, where the jobs run in this process


def _shared_output_file(jobs) -> VaxError | None:
    """Several inputs cannot all be written to one named file."""
    import json

    from extractor.errors import UsageError

    if len(jobs) < 2:
        return None
    output = json.loads(jobs[0][1]).get("output")
    if not output or "{" in output or output.endswith(("/", os.sep)) or os.path.isdir(output):
        return None
    return UsageError(f"{len(jobs)} inputs cannot all be written to {output}",
                      hint="give a folder ending in / or a template like 'out/{stem}.{ext}'")


def _interrupted(reporter: Reporter, exc: BaseException | None = None) -> int:
    from extractor.publish import remove_live_temps

    remove_live_temps()
    reporter.error((exc if isinstance(exc, Interrupted) else Interrupted()).one_line())
    return Interrupted.exit_code


def _run_here(jobs, resume: bool, debug: bool, reporter: Reporter) -> bool:
    """--jobs 1: one after another in this process (no pool to start). True if interrupted."""
    for job_id, spec_json in jobs:
        outcome = run_job(job_id, spec_json, resume, debug,
                          progress=lambda _plan, fraction, job_id=job_id: reporter.progress(job_id, fraction))
        if outcome["status"] == "interrupted":
            if outcome["results"]:  # a multi-track job stopped after publishing some tracks
                reporter.done(outcome)
            return True
        reporter.done(outcome)
    return False


class _Round:
    """One pool of worker processes, until every job ran or a worker died."""

    def __init__(self, jobs, workers: int, resume: bool, debug: bool, reporter: Reporter, notes: dict,
                 ready: dict):
        self.jobs, self.resume, self.debug, self.reporter, self.notes = jobs, resume, debug, reporter, notes
        context = _context()
        self.progress_queue = context.Queue()
        lifeline, self.keep_alive = context.Pipe(duplex=False)  # only this process keeps keep_alive open
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                            initargs=(self.progress_queue, lifeline, self.keep_alive,
                                                      *_RUN))
        self.pending: dict = {}
        self.started: dict[int, int] = {}  # job id -> pid of the worker that took it
        self.processes: dict = {}  # pid -> Process, kept to read how a dead worker ended
        self.ready = ready  # outcomes waiting for an earlier job's line (kept across rounds)

    def run(self, in_order: list[int]) -> list[int]:
        """Run the jobs; the ids of the jobs to run again (a worker died), else []."""
        try:
            self.pending = {self.executor.submit(run_job, job_id, spec_json, self.resume, self.debug): job_id
                            for job_id, spec_json in self.jobs}
            waiting = set(self.pending)
            while waiting:
                finished, waiting = wait(waiting, timeout=0.1, return_when=FIRST_COMPLETED)
                self.processes.update(getattr(self.executor, "_processes", None) or {})
                self._drain_progress()
                broken = [f for f in finished if not f.cancelled() and isinstance(f.exception(), BrokenProcessPool)]
                for future in finished:
                    if future not in broken:
                        self._finished(future.result())
                if broken:
                    return self._after_a_death(in_order)
                _flush_ready(self.ready, in_order, self.reporter)
        except BaseException:
            _stop(self.executor)
            self.keep_alive.close()
            _report_finished(self.pending, self.reporter)
            raise
        self.executor.shutdown(wait=True)
        self.keep_alive.close()
        return []

    def _drain_progress(self) -> None:
        while True:
            try:
                message = self.progress_queue.get_nowait()
            except queue_module.Empty:
                return
            if len(message) == 3:
                self.started[message[0]] = message[2]
            else:
                self.reporter.progress(*message)

    def _finished(self, outcome: dict) -> None:
        if outcome["status"] == "interrupted":
            raise KeyboardInterrupt
        note = self.notes.get(outcome["id"])
        if note:
            outcome = {**outcome, "notes": [note]}
        self.ready[outcome["id"]] = outcome

    def _after_a_death(self, in_order: list[int]) -> list[int]:
        """A worker died (SIGKILL, out of memory, a crash in native code): the pool is unusable.
        Shut it down; every job without an outcome runs again in a new pool; the ones whose own
        worker died are marked (a second death fails them)."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.keep_alive.close()
        self._drain_progress()  # the outcomes that did arrive were taken in ``run``
        _flush_ready(self.ready, in_order, self.reporter)
        return [job_id for job_id in in_order if job_id not in self.ready]

    def killed(self, job_id: int) -> str | None:
        """How the worker of ``job_id`` ended, if it died of something other than being told to stop."""
        process = self.processes.get(self.started.get(job_id))
        if process is None:
            return None
        process.join(1.0)
        code = process.exitcode
        if code is None or code in (0, -signal.SIGTERM, Interrupted.exit_code):
            return None
        return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


def _run_pool(jobs, workers: int, resume: bool, debug: bool, reporter: Reporter) -> bool:
    """Rounds of worker pools: a worker that dies costs only its own job one retry."""
    by_id = dict(jobs)
    in_order = [job_id for job_id, _ in jobs]
    retried: set[int] = set()
    notes: dict[int, str] = {}
    ready: dict[int, dict] = {}
    todo = list(jobs)
    while todo:
        round_ = _Round(todo, workers, resume, debug, reporter, notes, ready)
        again = round_.run(in_order)
        if not again:
            return False
        culprits = {job_id: round_.killed(job_id) for job_id in again if round_.killed(job_id)}
        if not culprits:  # no cause seen: count the death against every job that was running
            culprits = {job_id: "it died" for job_id in again if job_id in round_.started} or {again[0]: "it died"}
        for job_id, how in culprits.items():
            if job_id in retried:
                error = InternalError(f"the worker process working on it died twice ({how})",
                                      hint="out of memory, or a crash in native code?")
                ready[job_id] = {**outcome_for(job_id, _input_of(jobs, job_id)), "status": "failed",
                                 "error": outcome_of(error), "notes": [notes[job_id]]}
                again.remove(job_id)
            else:
                retried.add(job_id)
                notes[job_id] = f"retried in a new worker process: the first one died ({how})"
        _flush_ready(ready, in_order, reporter)
        todo = [(job_id, by_id[job_id]) for job_id in again]
    return False


def _flush_ready(ready: dict, in_order: list[int], reporter: Reporter) -> None:
    """Lines come out in input order, as soon as they can."""
    while in_order and in_order[0] in ready:
        reporter.done(ready.pop(in_order.pop(0)))


def _report_finished(futures, reporter: Reporter) -> None:
    """After a stop: list the outputs that were published but not yet reported, so every file
    left behind has its line."""
    for future in futures:
        if not future.done() or future.cancelled() or future.exception() is not None:
            continue
        outcome = future.result()
        if outcome["id"] not in reporter.done_ids and outcome["results"]:
            reporter.done(outcome)


def _input_of(jobs, job_id: int) -> str:
    import json

    for each_id, spec_json in jobs:
        if each_id == job_id:
            return json.loads(spec_json)["input"]
    return f"job {job_id}"


def _context():
    """``fork`` from a single-threaded parent on Linux, else ``forkserver`` there; ``spawn`` elsewhere.

    A forked worker starts at once with everything this process has imported; forking is
    only unsafe when another thread might hold a lock at that moment, so it is used only
    when there is no other thread (the CLI). Called from a threaded program (a web server),
    the workers come from a fork server instead: one clean process that imports PyAV
    once (about 0.2 s more per batch). macOS and Windows get ``spawn`` (macOS lists
    ``fork`` and ``forkserver`` but its system libraries are not fork-safe; Windows has only
    ``spawn``). ``VAX_START_METHOD`` forces one, so Linux can run what those platforms run (a
    method this platform lacks is ignored: the knob is for tests, never a reason to fail a batch).
    """
    import multiprocessing
    import sys
    import threading

    methods = multiprocessing.get_all_start_methods()
    forced = os.environ.get("VAX_START_METHOD", "").strip().lower()
    forced = forced if forced in methods else ""
    linux = sys.platform == "linux"
    if forced == "fork" or (not forced and linux and "fork" in methods and threading.active_count() == 1):
        # Imported here once, so every worker starts with them: PyAV's import alone is about
        # 0.07 s of CPU, which each worker would otherwise spend on its first job.
        import av  # noqa: F401

        import backends.local  # noqa: F401
        from extractor import api  # noqa: F401

        return multiprocessing.get_context("fork")
    if forced == "forkserver" or (not forced and linux and "forkserver" in methods):
        context = multiprocessing.get_context("forkserver")
        # Imported once in the server, so every worker starts with PyAV loaded.
        context.set_forkserver_preload(["extractor.api", "backends.local", "backends.local.sinks", "av", "numpy"])
        return context
    return multiprocessing.get_context("spawn")


def _stop(executor) -> None:
    """Cancel what has not started; ask the busy workers to stop and clean up; wait for them."""
    import multiprocessing

    workers = [p for p in multiprocessing.active_children() if p.is_alive()]
    executor.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        try:
            os.kill(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():  # stuck: its temporary file may stay (named .NAME.vax-part-*)
            process.kill()
            process.join(1.0)
    # The workers are gone; let the pool hand over the outcomes still in its result pipe, so
    # every output they published gets reported.
    executor.shutdown(wait=True)
