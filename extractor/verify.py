"""Check a finished output against its plan before it is published.

Reopen it and compare codec, sample rate, channels and duration with what the plan promised.
The file is proven from the engine's evidence of what it wrote (``proof``: every packet or
byte checked, both ends decoded) or, with ``--verify full``, for a plan that measures
loudness, or from an engine that keeps no evidence, decoded to the end. Any mismatch raises
VerificationFailed and the caller deletes the file, so a user never receives an output
nobody checked.

The duration expected is the declared one, unless the engine read more audio than the input
declares (files joined by stream copy, MP3 bitrate estimates, Ogg's last page): then it is
what was read, and the declared figure is reported as information.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import DamagedInput, VerificationFailed
from .frames import frame_peak, gather, numpy_module, plane_arrays
from .mediainfo import QUICK_OPEN
from .policy import canonical_codec
from .proof import prove, usable


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
    peak_dbfs: float | None  # None for a stream copy: its peak is the source's; see _decode_all
    size: int
    loudness_lufs: float | None = None  # integrated loudness (EBU R128), measured when the plan normalises
    declared_duration: float | None = None  # what the input declares, when what was read differs from it
    method: str = "decode"  # "evidence": proven from what the engine wrote; "decode": decoded to the end

    def to_dict(self) -> dict:
        return asdict(self)


def verify_output(plan, path: Path, report=None) -> Verification:
    """``report``: the engine's RunReport (its evidence and what it read), when there is one."""
    import av

    # WAV and FLAC headers say everything: skip FFmpeg's stream analysis (3-min WAV: 25 ms -> 0.5 ms).
    options = QUICK_OPEN if plan.format.name in ("wav", "flac") else {}
    try:
        container = av.open(str(path), metadata_errors="replace", options=options)
    except av.error.FFmpegError as exc:
        raise VerificationFailed(f"{plan.output.name}: the written file does not open ({exc})") from None
    try:
        if not container.streams.audio:
            raise VerificationFailed(f"{plan.output.name}: the written file has no audio stream")
        found = _measure(container, plan, path, _evidence(plan, report))
    finally:
        container.close()
    expected, declared = _expected_duration(plan, report, found)
    plan = dataclasses.replace(plan, expected_duration=expected)
    problems = found.problems + _mismatches(plan, found)
    duration = found.samples / found.rate if found.rate else 0.0
    difference = None if plan.expected_duration is None else duration - plan.expected_duration
    if problems:
        raise VerificationFailed(f"{plan.output.name}: " + "; ".join(problems))
    return Verification(
        codec=found.codec, sample_rate=found.rate, channels=found.channels, duration=round(duration, 6),
        start_offset=round(found.start, 6) if found.start > 0 and plan.format.holds_start_offset else 0.0,
        expected_duration=None if plan.expected_duration is None else round(plan.expected_duration, 6),
        difference=None if difference is None else round(difference, 6), tolerance=plan.tolerance,
        samples=found.samples, peak_dbfs=found.peak, size=path.stat().st_size,
        loudness_lufs=found.loudness(),
        declared_duration=None if declared is None else round(declared, 6), method=found.method,
    )


@dataclass
class _Found:
    codec: str
    rate: int
    channels: int
    samples: int
    start: float
    peak: float | None
    problems: list
    method: str
    meter: object | None = None  # a full decode's loudness meter
    measured_loudness: float | None = None  # measured during the encode (the evidence's)

    def loudness(self) -> float | None:
        if self.meter is not None:
            return round(self.meter.result().integrated, 2)
        return None if self.measured_loudness is None else round(self.measured_loudness, 2)


def _measure(container, plan, path: Path, evidence) -> _Found:
    """The file's figures: proven from the evidence, or (without any) by decoding it all."""
    if evidence is not None:
        proven, problems = prove(container, plan, evidence, path)
        peak = None if not evidence.peak or evidence.peak <= 0 else round(20 * math.log10(evidence.peak), 2)
        return _Found(proven.codec, proven.sample_rate, proven.channels, proven.samples, proven.start, peak,
                      problems, "evidence", measured_loudness=evidence.loudness)
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    meter = _loudness_meter(plan)
    samples, peak = _decode_all(container, stream, plan, meter)
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    return _Found(canonical_codec(ctx.name), ctx.sample_rate, ctx.channels, samples, start, peak, [], "decode",
                  meter)


def _mismatches(plan, found: _Found) -> list[str]:
    problems = []
    if found.codec != canonical_codec(plan.codec):
        problems.append(f"codec is {found.codec}, planned {plan.codec}")
    if found.rate != plan.sample_rate:
        problems.append(f"sample rate is {found.rate} Hz, planned {plan.sample_rate} Hz")
    if found.channels != plan.channels:
        problems.append(f"{found.channels} channels, planned {plan.channels}")
    duration = found.samples / found.rate if found.rate else 0.0
    if plan.expected_duration is not None:
        difference = duration - plan.expected_duration
        if abs(difference) > plan.tolerance:
            problems.append(
                f"duration is {duration:.3f}s, expected {plan.expected_duration:.3f}s "
                f"(off by {difference:+.3f}s, tolerance {plan.tolerance:.3f}s)")
    if found.samples == 0:
        problems.append("it decodes to no audio")
    return problems


def _evidence(plan, report):
    """The engine's evidence, when it can prove this file; None means decoding it all."""
    evidence = getattr(report, "evidence", None)
    if plan.spec.verify == "full":
        return None
    if plan.spec.loudness is not None and getattr(evidence, "loudness", None) is None:
        return None  # the loudness reached must be measured: by decoding, if not during the encode
    return evidence if usable(plan, evidence) else None


def _expected_duration(plan, report, found) -> tuple[float | None, float | None]:
    """(the duration to check against, the declared one when that is not it).

    A whole track read to its end may hold more than its header declares (files joined by
    stream copy, Ogg's last page): then the output is checked against what was read, and the
    declared figure is information. What was read is the engine's count of samples written,
    or, for a copy by an engine that counted its packets, the file's own decodable length (its
    packets are the source's, and their timestamps may be what is wrong)."""
    declared = plan.expected_duration
    complete = getattr(report, "source_complete", True)
    # Only an engine that read the source itself and kept count (the local one) says what was
    # read; the cloud renders its own copy, and a mock says nothing.
    counted = getattr(report, "evidence", None) is not None
    if declared is None or not counted or not complete or plan.spec.trims:
        return declared, None
    read = report.written_duration
    if plan.is_copy and found.rate:
        read = max(read or 0.0, found.samples / found.rate)
    if read is None or read <= declared + plan.tolerance:
        return declared, None
    return read, declared


def _loudness_meter(plan):
    """A meter fed during the one decode we already do, when the plan asked for a loudness."""
    if plan.spec.loudness is None:
        return None
    from .measure import LoudnessMeter

    return LoudnessMeter()


def _decode_all(container, stream, plan, meter=None) -> tuple[int, float | None]:
    import av

    # A copy's peak is the source's own, and measuring it is the only reason a copy would import
    # numpy (~45 ms, a tenth of a whole `vax extract` copy): copies report no peak.
    np = None if plan.is_copy else numpy_module()
    samples = 0
    peak = 0.0
    pending: list = []  # the peak is taken per block: per-frame numpy calls cost more than decoding
    scratch: dict = {}
    try:
        for frame in container.decode(stream):
            _check_channels(frame, stream.codec_context.channels)  # before touching its data: see there
            samples += frame.samples
            if np is not None:
                pending.extend(plane_arrays(frame))
                if len(pending) >= PEAK_BLOCK:
                    peak = max(peak, frame_peak(gather(pending, scratch)))
                    pending.clear()
            if meter is not None:
                meter.add(frame)
        if pending:
            peak = max(peak, frame_peak(gather(pending, scratch)))
    except (av.error.FFmpegError, ChannelsChanged) as exc:
        damage = _source_damage(plan) if plan.is_copy else None
        if damage is not None:  # the copy faithfully kept the input's own damage
            raise DamagedInput(f"{plan.source.path}: undecodable audio at {max(0.0, damage):.2f}s",
                               hint="--salvage keeps what is readable") from None
        raise VerificationFailed(
            f"{plan.output.name}: the written file does not decode to the end "
            f"(stopped after {samples} samples: {getattr(exc, 'strerror', None) or exc})") from None
    if peak <= 0:
        return samples, None
    return samples, round(20 * math.log10(peak), 2)


def _source_damage(plan) -> float | None:
    """Seconds into the source track where decoding fails, or None if it decodes cleanly."""
    import av

    last = 0.0
    try:
        with av.open(plan.source.path, metadata_errors="replace") as container:
            stream = container.streams[plan.track.index]
            for packet in container.demux(stream):
                if packet.pts is not None:
                    last = float(packet.pts * packet.time_base)
                for frame in packet.decode():
                    _check_channels(frame, plan.track.channels)
    except (av.error.FFmpegError, ValueError, ChannelsChanged):
        return last
    return None


class ChannelsChanged(ValueError):
    """A decoded frame with another channel count than its stream: damaged data read as a new layout."""


def _check_channels(frame, expected: int) -> None:
    """Raise on a frame whose channel count is not ``expected``. Damaged AAC can decode to dozens
    of channels, and PyAV (18.1) then lists more planes than exist: reading them crashes the process."""
    found = frame.layout.nb_channels
    if expected and found != expected:
        raise ChannelsChanged(f"a frame has {found} channels instead of {expected}")


PEAK_BLOCK = 256  # plane arrays gathered before one peak reduction
