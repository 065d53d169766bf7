"""Transcode: decode -> trim exactly -> resample -> encode, in one pass, or two with loudness."""

from __future__ import annotations

from pathlib import Path

from backends.base import ProgressFn, RunReport

from .decode import decode_into
from .writers import open_sink


def transcode_track(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    """Decode, place every sample on the output timeline, trim exactly, resample, encode."""
    if plan.spec.loudness is not None:
        from .loudness import transcode_normalised  # two passes: measure, then apply

        return transcode_normalised(plan, destination, progress)
    from . import segments

    if segments.suitable(plan):  # a long input with cores free: encoded in parallel segments
        report = segments.run(plan, destination, progress)
        if report is not None:
            return report
    return decode_into(plan, open_sink(plan, destination), progress)
