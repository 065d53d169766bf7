"""The job's side of a contained run (``contained``): what it tells vax, and how it ends.

The child runs the job exactly as vax would in-process, then flushes what it printed and
leaves with ``os._exit``: the interpreter's teardown, atexit handlers and finalizers belong
to the parent, whose copy of every object the child also holds.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from extractor.errors import InternalError

from .stop import STOP_SIGNALS, report_interrupted


class Link:
    """The child's side of the pipe; with no pipe (an in-process job) every call does nothing."""

    def __init__(self, fd: int | None = None):
        self._fd = fd

    def tell(self, kind: str, value=None) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._fd, (json.dumps([kind, value]) + "\n").encode())

    def job(self, spec) -> None:
        self.tell("job", {"input": str(spec.input), "timeout": spec.timeout})

    def on_start(self, plan, position: int, count: int) -> None:
        """Told before each output's temporary file exists, so the supervisor knows where to look."""
        self.tell("folder", str(plan.output.parent))
        if plan.spec.waveform:
            self.tell("folder", str(Path(plan.spec.waveform).parent))

    def on_result(self, result) -> None:
        self.tell("published", str(result.output))

    def reporting(self, report: Callable) -> Callable:
        """``report``, after telling the supervisor that the child is ending and speaks for itself."""

        def tell_then_report(error) -> None:
            self.tell("ending", error.exit_code)
            report(error)
            self.tell("reported")  # a crash from now on must not make vax say it a second time

        return tell_then_report


def run_child(job: Callable[[Link], int], link: Link, mask, debug: bool):  # pragma: no cover - in the child
    code = InternalError.exit_code  # what is left if the job ends in a way nothing below foresaw
    try:
        _act_on_the_first_stop()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if debug:
            faulthandler.enable()  # the Python stack of a crash, on stderr, before the child dies
        code = job(link)
    except KeyboardInterrupt as exc:  # a stop outside the job's guard, as ``app._run_cli`` reports one
        code = report_interrupted(exc)
        link.tell("ending", code)
        link.tell("reported")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        _end_child(link, code)



def _act_on_the_first_stop() -> None:
    """A terminal's Ctrl-C reaches the child twice (from the terminal, passed on by vax): the
    second must not interrupt the cleanup the first started."""
    heard: list[int] = []
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if not callable(handler):
            continue

        def first_only(number, frame, handler=handler):
            if heard:
                return
            heard.append(number)
            handler(number, frame)

        signal.signal(signum, first_only)


def _end_child(link: Link, code: int):  # pragma: no cover - in the child
    """The job is over: say so, flush what it printed, and leave without the interpreter's teardown
    (the parent's objects are the parent's; atexit handlers and finalizers are not the child's)."""
    with contextlib.suppress(BaseException):
        for signum in STOP_SIGNALS:
            signal.signal(signum, _give_up_stdout)  # a stop now only means: do not wait for a full pipe
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
        link.tell("ending", code)
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        failure = getattr(sys.stdout, "failure", None)
        if failure is not None:
            link.tell("stdout", [failure.errno, failure.strerror or str(failure)])
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
    os._exit(code)


def _give_up_stdout(signum, frame) -> None:  # pragma: no cover - in the child
    if hasattr(sys.stdout, "stopping"):
        sys.stdout.stopping = True
