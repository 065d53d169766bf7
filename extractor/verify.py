"""Check a finished output against its plan before it is published.

Reopen it, demux and decode to the end, and compare codec, sample rate, channels and
duration with what the plan promised. Any mismatch raises VerificationFailed and the
caller deletes the file, so a user never receives an output nobody checked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import VerificationFailed
from .policy import canonical_codec


@dataclass(frozen=True)
class Verification:
    codec: str
    sample_rate: int
    channels: int
    duration: float  # decoded duration, excluding any container start delay
    start_offset: float  # the container's start delay (a kept sync offset), seconds
    expected_duration: float | None
    difference: float | None  # duration - expected
    tolerance: float
    samples: int
    peak_dbfs: float | None
    size: int

    def to_dict(self) -> dict:
        return asdict(self)


def verify_output(plan, path: Path) -> Verification:
    import av

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VerificationFailed(f"{plan.output.name}: the written file does not open ({exc})") from None
    try:
        if not container.streams.audio:
            raise VerificationFailed(f"{plan.output.name}: the written file has no audio stream")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        codec = canonical_codec(ctx.name)
        samples, peak = _decode_all(container, stream, plan)
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        rate, channels = ctx.sample_rate, ctx.channels
    finally:
        container.close()

    problems = []
    if codec != canonical_codec(plan.codec):
        problems.append(f"codec is {codec}, planned {plan.codec}")
    if rate != plan.sample_rate:
        problems.append(f"sample rate is {rate} Hz, planned {plan.sample_rate} Hz")
    if channels != plan.channels:
        problems.append(f"{channels} channels, planned {plan.channels}")
    duration = samples / rate if rate else 0.0
    difference = None
    if plan.expected_duration is not None:
        difference = duration - plan.expected_duration
        if abs(difference) > plan.tolerance:
            problems.append(
                f"duration is {duration:.3f}s, expected {plan.expected_duration:.3f}s "
                f"(off by {difference:+.3f}s, tolerance {plan.tolerance:.3f}s)")
    if samples == 0:
        problems.append("it decodes to no audio")
    if problems:
        raise VerificationFailed(f"{plan.output.name}: " + "; ".join(problems))
    return Verification(
        codec=codec, sample_rate=rate, channels=channels, duration=round(duration, 6),
        start_offset=round(start, 6) if start > 0 and plan.format.holds_start_offset else 0.0,
        expected_duration=None if plan.expected_duration is None else round(plan.expected_duration, 6),
        difference=None if difference is None else round(difference, 6), tolerance=plan.tolerance,
        samples=samples, peak_dbfs=peak, size=path.stat().st_size,
    )


def _decode_all(container, stream, plan) -> tuple[int, float | None]:
    import av

    samples = 0
    peak = 0.0
    try:
        for frame in container.decode(stream):
            samples += frame.samples
            array = frame.to_ndarray()
            if array.size:
                peak = max(peak, _frame_peak(array))
    except av.error.FFmpegError as exc:
        raise VerificationFailed(
            f"{plan.output.name}: the written file does not decode to the end "
            f"(stopped after {samples} samples: {getattr(exc, 'strerror', None) or exc})") from None
    if peak <= 0:
        return samples, None
    return samples, round(20 * float(np.log10(peak)), 2)


def _frame_peak(array: np.ndarray) -> float:
    if array.dtype.kind == "f":
        return float(np.max(np.abs(array)))
    info = np.iinfo(array.dtype)
    if info.min == 0:  # unsigned 8-bit
        return float(np.max(np.abs(array.astype(np.int16) - 128))) / 128
    return float(np.max(np.abs(array.astype(np.int64)))) / -info.min
