"""Standard output that can never stop vax: closed, full or blocked, the work goes on.

Results are reports; the outputs on disk are what matters. So a write to stdout that fails
(a closed pipe, ``| head -c 10``, ``> /dev/full``) is remembered, not raised: the jobs
finish, later writes are dropped, and ``main`` ends with one error line (exit 9 when
nothing else failed). Once vax is stopping (a signal arrived), a write waits at most
``STOP_GRACE`` for a pipe nobody reads and is then dropped, so a blocked stdout never
holds up the stop; at exit such a stdout is pointed at /dev/null so that Python's own
final flush cannot block either.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys

STOP_GRACE = 0.2  # seconds a write may wait for a full pipe once vax is stopping


class GuardedStdout:
    def __init__(self, stream):
        self._stream = stream
        self.failure: OSError | None = None
        self.stopping = False

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def _writable(self) -> bool:
        if not self.stopping:
            return True
        try:
            _, ready, _ = select.select([], [self._stream.fileno()], [], STOP_GRACE)
        except (OSError, ValueError):
            return True
        return bool(ready)

    def write(self, text: str) -> int:
        if self.failure is None and self._writable():
            try:
                return self._stream.write(text)
            except OSError as exc:
                self.failure = exc
        return len(text)

    def flush(self) -> None:
        if self.failure is None and self._writable():
            try:
                self._stream.flush()
            except OSError as exc:
                self.failure = exc

    def finish(self) -> None:
        """Flush what is left; make sure the interpreter's last flush cannot fail or block."""
        self.flush()
        if self.failure is not None or (self.stopping and not self._writable()):
            _silence(self._stream)

    def error_line(self) -> str | None:
        if self.failure is None:
            return None
        reason = self.failure.strerror or str(self.failure)
        return f"cannot write to standard output ({reason}); the outputs written are kept"


def _silence(stream) -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        stream.flush()


def install() -> GuardedStdout:
    guarded = sys.stdout if isinstance(sys.stdout, GuardedStdout) else GuardedStdout(sys.stdout)
    sys.stdout = guarded
    return guarded


def current() -> GuardedStdout | None:
    return sys.stdout if isinstance(sys.stdout, GuardedStdout) else None
