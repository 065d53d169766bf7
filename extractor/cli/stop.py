"""How a signal stops vax: Ctrl-C, SIGTERM and SIGHUP (the terminal closed) alike.

Kept free of heavy imports (no click, no PyAV) so that ``extractor.cli.app`` can install
the handlers before anything else is imported: a signal in the first moments of start-up
then gets vax's own message and exit code, not click's "Aborted!" or a traceback.
"""

from __future__ import annotations

import signal
import sys

# At the top, never in the handler: an import inside a handler that lands in the middle of
# another import breaks importlib's bookkeeping (a KeyError later).
from extractor.errors import Interrupted, as_vax_error

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


_ready = False  # until the command is about to start its work, a stop is only noted
_pending: KeyboardInterrupt | None = None


def _on_terminate(signum, frame):  # pragma: no cover - exercised through subprocess tests
    """An ``Interrupted`` unwinds the running job, whose ``finally`` blocks remove its temporary
    file; inside a publish or a cleanup the stop waits for its end (``publish.critical``).

    Never in the middle of an import: an exception raised there leaves the import system in a
    state that fails later in odd ways (a KeyError from importlib). So before ``ready``
    (start-up: click, the commands) the stop is only noted and raised by ``ready``; after it,
    ``publish.interrupt`` holds a stop that lands inside an import or the thread machinery
    until it is over."""
    global _pending
    name = signal.Signals(signum).name
    text = "interrupted" if signum == signal.SIGINT else f"stopped by {name}"
    error = Interrupted(f"{text}; unfinished outputs were removed")
    if hasattr(sys.stdout, "stopping"):
        sys.stdout.stopping = True  # from now on a blocked stdout is given up, never waited for
    if not _ready:
        _pending = _pending or error
        return
    _deliver(error, frame)


def _deliver(error: KeyboardInterrupt, frame=None) -> None:
    interrupt = getattr(sys.modules.get("extractor.publish"), "interrupt", None)
    if interrupt is not None:
        interrupt(error, frame)  # at once, or once it is safe (see publish.interrupt)
        return
    raise error


def ready() -> None:
    """Start-up is over: from now on a stop is raised at once; one that came earlier, now."""
    global _ready, _pending
    _ready = True
    if _pending is not None:
        error, _pending = _pending, None
        raise error


def pending() -> KeyboardInterrupt | None:
    return _pending


def install_signal_handlers() -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_terminate)


def report_interrupted(exc: KeyboardInterrupt) -> int:
    """vax's own line for a stop outside a job; returns the exit code (130)."""
    error = as_vax_error(exc)
    sys.stderr.write(f"vax: error: {error.one_line()}\n")
    return error.exit_code


def ignore_stop_signals() -> None:
    """The run has decided how it ends: a late signal changes nothing, so it must not turn a
    finished run into a traceback or a death by signal while the interpreter shuts down."""
    if hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM"):
        signal.setitimer(signal.ITIMER_REAL, 0)  # no stop left to deliver after an import
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
