"""FFmpeg's errors (``av.error.*``) in vax's words: the one translation every reader of media uses.

PyAV raises FFmpeg failures as ``av.error.FFmpegError`` subclasses that also subclass the
matching builtins. What they mean depends only on where they happen: opening an input
(``mediainfo.open_media``), reading or decoding it (damage, exit 11), writing an output (an
OSError: the engine reports it as "cannot write", exit 9), or reading an output back
(verification, exit 10). The messages and hints live here, so every reader says the same.
"""

from __future__ import annotations

from .errors import DamagedInput, VerificationFailed

SALVAGE_HINT = "--salvage keeps what is readable"


def reason(exc: BaseException) -> str:
    """FFmpeg's own short reason ("Invalid data found when processing input")."""
    return getattr(exc, "strerror", None) or str(exc).split(":")[0]


def is_write_failure(exc: BaseException) -> bool:
    """A failure while writing (disk full, read-only, too big): the output's problem, not the input's."""
    return isinstance(exc, OSError)


def damaged_input(exc: BaseException, path, what: str = "the file is damaged", *,
                  hint: str | None = SALVAGE_HINT) -> DamagedInput:
    return DamagedInput(f"{path}: {what} ({reason(exc)})", hint=hint)


def unreadable_output(exc: BaseException, name: str, after: str) -> VerificationFailed:
    return VerificationFailed(f"{name}: the written file does not decode to the end ({after}: {reason(exc)})")
