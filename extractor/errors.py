"""One error hierarchy for vax.

Every error carries its exit code and prints as one line. Like PyAV's ``av.error``, each
class also subclasses the matching builtin, so callers of the Python API can catch either
``extractor.errors.InputNotFound`` or plain ``FileNotFoundError``.

The CLI maps these to exit codes in exactly one place (``cli.run_guarded``); the table in
the README is generated from ``EXIT_CODES`` below, so the two cannot drift apart.
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


class Interrupted(VaxError, KeyboardInterrupt):
    exit_code = 130
    label = "interrupted"


class InternalError(VaxError, RuntimeError):
    exit_code = 70
    label = "internal error (a bug: please report it with --debug output)"


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
    for cls in _all_error_classes():
        rows.setdefault(cls.exit_code, cls.label)
    return sorted(rows.items())
