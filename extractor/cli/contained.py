"""A single job in a forked child process, so that a crash in native code is one line, not vax's death.

FFmpeg, libsndfile and LAME run inside the job's process; a segmentation fault or an abort
there cannot be caught in Python. So the command line forks once its imports are done (the
child starts with everything loaded: a fork costs a few milliseconds) and supervises the
child, which runs the job exactly as vax would in-process: it prints its own results and
errors on the stdout and stderr it shares with vax, so what scripts read is unchanged.

The supervisor only steps in when the child cannot speak for itself:

- it dies by a signal it did not handle (SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, or SIGKILL
  from the out-of-memory killer): the supervisor removes that child's temporary files (only
  its own: the process id in their name, no lock held), never touches an existing
  destination, and reports ``EngineCrashed`` (exit 15);
- it outlives ``--timeout`` by ``GRACE`` (its own alarm could not stop it: it is stuck inside
  a C call): SIGKILL, the same cleanup, and the timeout's usual error (exit 14). The child's
  own alarm is the polite request to stop; by the end of the grace it has failed, and a
  SIGTERM would be no more heard (or, heard, would be reported as an interruption).

Ctrl-C, SIGTERM and SIGHUP sent to vax are passed on to the child, whose own handlers clean
up as before (``stop``, ``publish.interrupt``). A terminal's Ctrl-C or SIGHUP reaches the
child as well as vax (one process group), so the child acts on the first stop it hears.

The child tells the supervisor what it needs on a pipe, one JSON line each: the job's input
and timeout, the folders it writes into, each output published, and that it is ending.

Where there is no ``fork``, where other threads run (forking them can deadlock), or where
stdout or stderr is not a real file (click's test runner), the job runs in-process as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from extractor.errors import EngineCrashed, Interrupted, VaxError, timed_out

from .contained_child import Link, run_child
from .stop import STOP_SIGNALS, report_interrupted

GRACE = 1.5  # seconds past --timeout for the child's own alarm to stop it cleanly, before SIGKILL
POLL = 0.05  # seconds between looks at the child where there are no process descriptors

CRASHES = {name: text for name, text in (
    ("SIGSEGV", "segmentation fault"), ("SIGBUS", "bus error"), ("SIGABRT", "abort"),
    ("SIGFPE", "arithmetic error"), ("SIGILL", "illegal instruction"))}

# (error, the job's input or None): how the supervisor reports what the child could not.
Report = Callable[[VaxError | Interrupted, "str | None"], None]


def run_contained(job: Callable[[Link], int], *, report: Report, debug: bool = False) -> int:
    """``job(link)``'s exit code, run in a supervised child process where that is possible."""
    if not _can_fork():
        return job(Link())
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # else what is buffered would be written twice, once by each process
    supervisor = _Supervisor(report, debug)
    # From here a stop is the supervisor's (one before the fork is passed on once there is a
    # child), and none reaches a handler between the fork and the child's own handlers.
    previous = {signum: signal.signal(signum, supervisor.pass_on) for signum in STOP_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    held = _held_stop()
    if held is not None:  # a stop that landed in an import just before: it ends the run here
        _restore(previous, mask)
        raise held
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no memory or process left for a child: run as before
        os.close(reader)
        os.close(writer)
        _restore(previous, mask)
        for signum in supervisor.heard:
            signal.raise_signal(signum)
        return job(Link())
    if pid == 0:  # pragma: no cover - the child; measured through its exit code and outputs
        os.close(reader)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        run_child(job, Link(writer), mask, debug)
    os.close(writer)
    return supervisor.run(pid, reader, mask, previous)


def stop_heard() -> bool:
    """Whether a stop came while a job ran here: the caller starts no further job (the stop
    signals are ignored from then on, so a new child could not be stopped)."""
    return bool(_STOPS)


_STOPS: list[int] = []
def _held_stop() -> BaseException | None:
    publish = sys.modules.get("extractor.publish")
    return publish.take_deferred() if publish is not None else None


def _restore(previous: dict, mask) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _can_fork() -> bool:
    if not hasattr(os, "fork") or not hasattr(signal, "pthread_sigmask") or threading.active_count() > 1:
        return False
    try:
        return sys.stdout.fileno() >= 0 and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        return False


class _Supervisor:
    def __init__(self, report: Report, debug: bool):
        self.report, self.debug = report, debug
        self.pid: int | None = None
        self.pidfd: int | None = None
        self.reader = -1
        self.heard: list[int] = []  # the stops passed on (or, before the fork, to pass on)
        self.source: str | None = None
        self.timeout: float | None = None
        self.deadline: float | None = None
        self.folders: set[str] = set()
        self.published = 0
        self.ending: int | None = None
        self.reported = False  # the child has printed its own error line
        self.stdout_failure: list | None = None
        self.killed_for_time = False
        self.status: int | None = None
        self._pending = b""

    def run(self, pid: int, reader: int, mask, previous: dict) -> int:
        self.pid, self.reader, self.pidfd = pid, reader, _pidfd(pid)
        for signum in self.heard:
            self._send(signum)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        try:
            self._watch()
        finally:
            os.close(self.reader)
            if self.pidfd is not None:
                os.close(self.pidfd)
            # After a stop the run ends, and a second stop (a second Ctrl-C, SIGHUP to the whole
            # group) is the same stop: it must not print a second line from this process.
            _restore({signum: signal.SIG_IGN for signum in previous} if self.heard else previous, mask)
        return self._outcome()

    def pass_on(self, signum, frame) -> None:
        if signum not in self.heard:
            self.heard.append(signum)
            _STOPS.append(signum)
        if hasattr(sys.stdout, "stopping"):
            sys.stdout.stopping = True
        if self.pid is not None and self.status is None:
            self._send(signum)

    def _send(self, signum: int) -> None:
        with contextlib.suppress(OSError):
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signum)
            else:
                os.kill(self.pid, signum)

    def _watch(self) -> None:
        reading = True
        while self.status is None:
            left = self._time_left()
            if self.pidfd is None or not reading:
                left = POLL if left is None else min(left, POLL)
            watched = [fd for fd in (self.reader if reading else None, self.pidfd) if fd is not None]
            ready, _, _ = select.select(watched, [], [], left)
            if self.reader in ready:
                reading = self._read()
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = status
            elif self._overdue():
                self.killed_for_time = True
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)
        while select.select([self.reader], [], [], 0)[0] and self._read():
            pass  # what the child told just before it died

    def _read(self) -> bool:
        data = os.read(self.reader, 65536)
        if not data:
            return False
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            with contextlib.suppress(ValueError):
                self._heard(*json.loads(line))
        return True

    def _heard(self, kind: str, value) -> None:
        if kind == "job":
            self.source, self.timeout = value["input"], value["timeout"]
            if self.timeout:
                self.deadline = time.monotonic() + self.timeout + GRACE
        elif kind == "folder":
            self.folders.add(value)
        elif kind == "published":
            self.published += 1
        elif kind == "ending":
            self.ending = int(value)
        elif kind == "reported":
            self.reported = True
        elif kind == "stdout":
            self.stdout_failure = value

    def _time_left(self) -> float | None:
        if self.deadline is None or self.ending is not None or self.killed_for_time:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def _overdue(self) -> bool:
        left = self._time_left()
        return left is not None and left <= 0

    def _outcome(self) -> int:
        status = self.status
        if os.WIFEXITED(status):
            self._keep_stdout_failure()
            code = os.WEXITSTATUS(status)
            if code == 0 and self.heard:  # it finished as the stop came: vax stops here, as in-process
                return report_interrupted(_stop_error(self.heard[0]))
            return code
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else signal.SIGKILL
        removed = self._remove_temps()
        if self.reported:  # it had reported its own outcome when it died
            return self.ending
        error = self._error_for(signum)
        if self.debug:
            core = " (core dumped)" if os.WIFSIGNALED(status) and os.WCOREDUMP(status) else ""
            sys.stderr.write(f"vax: debug: the job's process {self.pid} died by {_name(signum)}{core}; "
                             f"{len(removed)} temporary file(s) removed\n")
        _clear_progress_line()
        self.report(error, self.source)
        return error.exit_code

    def _error_for(self, signum: int) -> VaxError | Interrupted:
        what = self.source or "the input"
        if self.killed_for_time:
            return timed_out(what, self.timeout)
        if signum in STOP_SIGNALS or self.heard:
            # Stopped, or crashed while stopping (the cleanup of an engine stopped mid-call; --debug
            # says so): either way what the user asked for is done, and nothing is left.
            return _stop_error(signum if signum in STOP_SIGNALS else self.heard[0])
        kept = "nothing was written" if not self.published else "the outputs finished before it are kept"
        if signum == signal.SIGKILL:
            return EngineCrashed(f"the job on {what} was killed (SIGKILL, perhaps by the out-of-memory killer); "
                                 f"{kept}")
        cause = CRASHES.get(_name(signum), _name(signum))
        return EngineCrashed(f"the engine crashed on {what} ({cause} in native code); {kept}",
                             hint=None if self.debug else "run again with --debug for where")

    def _remove_temps(self) -> list[Path]:
        from extractor.publish import remove_temps_of

        removed: list[Path] = []
        for folder in self.folders:
            removed += remove_temps_of(self.pid, Path(folder))
        return removed

    def _keep_stdout_failure(self) -> None:
        """The child could not write its results: vax ends with the same line it would have."""
        if self.stdout_failure is None:
            return
        from .stdout import current

        guarded = current()
        if guarded is not None and guarded.failure is None:
            guarded.failure = OSError(*self.stdout_failure)


def _stop_error(signum: int) -> Interrupted:
    text = "interrupted" if signum == signal.SIGINT else f"stopped by {_name(signum)}"
    return Interrupted(f"{text}; unfinished outputs were removed")


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when the child ends, and that a signal can be sent
    through without ever reaching another process that reused the id (Linux 5.3 and later)."""
    if not hasattr(os, "pidfd_open") or not hasattr(signal, "pidfd_send_signal"):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _clear_progress_line() -> None:
    """The child's progress bar may be on the terminal's last line; the error line starts clean."""
    with contextlib.suppress(OSError, ValueError):
        if sys.stderr.isatty():
            import shutil

            sys.stderr.write("\r" + " " * (shutil.get_terminal_size((80, 20)).columns - 1) + "\r")
