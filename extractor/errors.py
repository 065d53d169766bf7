"""One error hierarchy for vax.

Every error carries its exit code and prints as one line. Like PyAV's ``av.error``, each
class also subclasses the matching builtin, so callers of the Python API can catch either
``extractor.errors.InputNotFound`` or plain ``FileNotFoundError``.

Every interface (CLI, web worker, batch worker, library) turns exceptions into what the
user is told through one table, ``as_vax_error`` (and ``outcome_of`` for the JSON shape);
``extractor.guard.run_guarded`` applies it around a job. The README's exit-code table is
generated from these classes, so the two cannot drift apart.

``Interrupted`` is deliberately *not* a ``VaxError``: an ordinary ``except VaxError`` must
never swallow Ctrl-C, SIGTERM or SIGHUP. ``DamagedFrame`` is the engine's own signal for a
decoded frame that cannot belong to the track; it is not a ``ValueError``, so a real
``ValueError`` (a bug) is never mistaken for damaged input.
"""

from __future__ import annotations


class VaxError(Exception):
    """Base class: a problem we can explain to the user in one line."""

    exit_code = 1
    label = "error"

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.replace("\n", " ").strip()
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def __str__(self) -> str:
        return self.one_line()


class UsageError(VaxError, ValueError):
    exit_code = 2
    label = "bad usage"


class InputNotFound(VaxError, FileNotFoundError):
    exit_code = 3
    label = "input missing or unreadable"


class InputUnreadable(VaxError, PermissionError):
    exit_code = 3
    label = "input missing or unreadable"


class NotMedia(VaxError, ValueError):
    exit_code = 4
    label = "not a media file"


class NoAudio(VaxError, LookupError):
    exit_code = 5
    label = "no audio track"


class TrackNotFound(VaxError, LookupError):
    exit_code = 6
    label = "requested track not found"


class UnsupportedCodec(VaxError, NotImplementedError):
    exit_code = 7
    label = "codec or format not supported locally"


class OutputExists(VaxError, FileExistsError):
    exit_code = 8
    label = "output exists"


class OutputError(VaxError, OSError):
    exit_code = 9
    label = "cannot write output"


class VerificationFailed(VaxError, RuntimeError):
    exit_code = 10
    label = "output failed verification"


class DamagedInput(VaxError, ValueError):
    exit_code = 11
    label = "input is damaged or truncated"


class RemoteError(VaxError, ConnectionError):
    exit_code = 12
    label = "cloud backend error"


class CloudNotAllowed(VaxError, PermissionError):
    exit_code = 13
    label = "cloud fallback needed but not allowed"


class JobTimedOut(VaxError, TimeoutError):
    exit_code = 14
    label = "job took longer than --timeout"


def timed_out(what: str, seconds: float) -> JobTimedOut:
    """--timeout's one message, whichever process noticed: the job's own alarm or its supervisor."""
    return JobTimedOut(f"{what}: stopped after {seconds:g}s (--timeout); the unfinished output was removed",
                       hint="a damaged file can stall a decoder; --salvage may get past it")


class EngineCrashed(VaxError, RuntimeError):
    """The process running a job died by a signal it could not handle (a crash in native code:
    FFmpeg, libsndfile, LAME; or SIGKILL, e.g. from the out-of-memory killer). vax itself runs
    on in the supervising process, removes the job's temporary files and says so."""

    exit_code = 15
    label = "the engine crashed (native code)"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM, SIGHUP: the user (or the system) asked vax to stop."""

    exit_code = 130
    label = "interrupted"

    def __init__(self, message: str = "interrupted; unfinished outputs were removed", *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    one_line = VaxError.one_line
    __str__ = VaxError.__str__


class DamagedFrame(Exception):
    """A decoded frame that cannot belong to its track (another channel count, rate or layout).

    Raised and caught inside the engine only; it becomes ``DamagedInput`` (or a dropped
    packet under --salvage) there."""


class InternalError(VaxError, RuntimeError):
    exit_code = 70
    label = "internal error (a bug: please report it with --debug output)"


def as_vax_error(exc: BaseException) -> VaxError | Interrupted:
    """The one table from any exception to what the user is told."""
    if isinstance(exc, (VaxError, Interrupted)):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted()
    return InternalError(f"{type(exc).__name__}: {exc}", hint="run again with --debug for details")


def outcome_of(exc: BaseException) -> dict:
    """The JSON shape of an error, the same for the CLI's --json, batches, the web page and the library."""
    error = as_vax_error(exc)
    return {"error": error.label, "message": error.one_line(), "exit_code": error.exit_code}


def _all_error_classes() -> list[type[VaxError]]:
    seen: list[type[VaxError]] = []
    stack = [VaxError]
    while stack:
        cls = stack.pop(0)
        if cls is not VaxError and cls not in seen:
            seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def exit_code_table() -> list[tuple[int, str]]:
    """(code, meaning) rows, sorted, one per distinct code: for --help and the README."""
    rows = {0: "success", 1: "some jobs failed (batch) or unexpected error"}
    for cls in [*_all_error_classes(), Interrupted]:
        rows.setdefault(cls.exit_code, cls.label)
    return sorted(rows.items())
