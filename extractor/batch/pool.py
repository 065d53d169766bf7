"""Running a batch: every job in parallel worker processes, outcomes reported as they finish.

See ``extractor.batch`` for the rules (resume, stopping, exit code). The reporter is given
by the caller (the CLI draws lines and a summary); this module prints nothing itself.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
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
    workers = settings.workers(len(jobs))
    try:
        if workers == 1:
            stopped = _run_here(jobs, resume, debug, reporter)
        else:
            stopped = _run_pool(jobs, workers, resume, debug, reporter)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM turned into Interrupted by the CLI
        return _interrupted(reporter)
    if stopped:
        return _interrupted(reporter)
    reporter.summary()
    return reporter.exit_code()


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


def _interrupted(reporter: Reporter) -> int:
    from extractor.publish import remove_live_temps

    remove_live_temps()
    reporter.error(Interrupted().one_line())
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


def _run_pool(jobs, workers: int, resume: bool, debug: bool, reporter: Reporter) -> bool:
    import queue as queue_module
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = _context()
    progress_queue = context.Queue()
    lifeline, keep_alive = context.Pipe(duplex=False)  # only this process keeps keep_alive open
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                   initargs=(progress_queue, lifeline, keep_alive))
    pending: dict = {}
    try:
        pending = {executor.submit(run_job, job_id, spec_json, resume, debug): job_id
                   for job_id, spec_json in jobs}
        waiting = set(pending)
        in_order = [job_id for job_id, _ in jobs]  # lines come out in input order, as soon as they can
        ready: dict[int, dict] = {}
        while waiting:
            finished, waiting = wait(waiting, timeout=0.1, return_when=FIRST_COMPLETED)
            while True:
                try:
                    job_id, fraction = progress_queue.get_nowait()
                except queue_module.Empty:
                    break
                reporter.progress(job_id, fraction)
            for future in finished:
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    error = InternalError("a worker process died unexpectedly (out of memory, or killed?)")
                    outcome = {**outcome_for(pending[future], _input_of(jobs, pending[future])), "status": "failed",
                               "error": outcome_of(error)}
                if outcome["status"] == "interrupted":
                    raise KeyboardInterrupt
                ready[outcome["id"]] = outcome
            while in_order and in_order[0] in ready:
                reporter.done(ready.pop(in_order.pop(0)))
    except BaseException:
        _stop(executor)
        keep_alive.close()
        _report_finished(pending, reporter)
        raise
    executor.shutdown(wait=True)
    keep_alive.close()
    return False


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
        import backends.local  # noqa: F401  (imported here once, so every worker starts with it)
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
