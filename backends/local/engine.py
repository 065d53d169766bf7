"""The local engine behind the Backend interface: a stream copy or a transcode of the plan.

Both paths are plain loops over packets, read top to bottom (``copy.py``, ``decode.py``).
Only the chosen audio stream is read: every other stream is discarded, so the MP4/MOV
demuxer can skip the video's bytes instead of reading them (see the field notes).
"""

from __future__ import annotations

import errno
from pathlib import Path

from backends.base import ProgressFn, RunReport
from extractor.errors import OutputError

from .copy import copy_track
from .mp4_copy import copy_by_index
from .tags import finish_output

_OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES)


class LocalBackend:
    name = "local"

    def unsupported_reason(self, plan) -> str | None:
        if not plan.track.decodable:
            return f"the bundled FFmpeg has no decoder for {plan.track.codec}"
        return None

    def upload_offer(self, plan) -> str | None:
        return None  # nothing leaves this machine

    def run(self, plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
        if plan.is_copy:
            run = _copy
        else:  # imported here: a stream copy needs none of the decoders, encoders and sinks
            from .transcode import transcode_track as run
        try:
            report = run(plan, destination, progress)
            _finish(plan, destination, report)
            return report
        except OSError as exc:
            if exc.errno is not None and _is_output_error(exc, destination):
                raise OutputError(f"cannot write {plan.output}: {exc.strerror}") from None
            raise

    def can_run_together(self, plans) -> bool:
        from .multitrack import can_run_together

        return can_run_together(plans)

    def run_together(self, plans, destinations: list[Path], progress=None) -> list[RunReport]:
        """Several tracks of one input in one read of it (see multitrack.py)."""
        from .multitrack import run_together

        try:
            reports = run_together(plans, destinations, progress)
            for plan, destination, report in zip(plans, destinations, reports):
                _finish(plan, destination, report)
            return reports
        except OSError as exc:
            if exc.errno is not None and any(_is_output_error(exc, d) for d in destinations):
                raise OutputError(f"cannot write {plans[0].output.parent}: {exc.strerror}") from None
            raise


def _copy(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    """An MP4's track by its index when the file allows (no packet loop), else packet by packet."""
    report = copy_by_index(plan, destination)
    if report is None:
        return copy_track(plan, destination, progress)
    if progress is not None:
        progress(1.0)
    return report


def _finish(plan, destination: Path, report: RunReport) -> None:
    """Tags, cover art, chapters: written on the temp file, so verification sees the final bytes.
    The tag library rewrites files our own writers made (FLAC, WAV, MP3), so their byte evidence
    no longer describes the file: verification then decodes it whole instead."""
    before = _state(destination)
    report.metadata = finish_output(plan, destination)
    evidence = report.evidence
    if evidence is not None and evidence.file_size is not None and _state(destination) != before:
        report.evidence = None


def _state(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _is_output_error(exc: OSError, destination: Path) -> bool:
    return exc.errno in _OUTPUT_ERRNOS or getattr(exc, "filename", None) == str(destination)
