"""Loudness normalisation (EBU R128) in the local engine: measure, then apply.

Pass 1 decodes the plan's range through the very loop a plain transcode uses
(``decode_into``), into a meter instead of an encoder, so what is measured is exactly
what will be written: the same trim, the same lead silence. FFmpeg's ``ebur128`` filter
does the measuring (integrated loudness, loudness range, true peak by oversampling) and
hands the figures back as frame metadata, so nothing depends on capturing FFmpeg's log.

Pass 2 decodes again through ``loudnorm`` told those figures. Then loudnorm applies one
constant gain ("linear" mode) whenever that gain keeps the true peak under the limit;
otherwise it falls back to its dynamic mode (a slow gain rider plus a true-peak limiter)
that runs at 192 kHz, so an ``aresample`` brings the audio back to the plan's rate.
Both modes give out exactly as many samples as they take in (checked by the tests).
"""

from __future__ import annotations

import math
from pathlib import Path

from backends.base import ProgressFn, RunReport
from extractor.frames import LAYOUTS
from extractor.measure import GraphFeeder, Loudness, LoudnessMeter

from .decode import decode_into
from .writers import open_sink

TRUE_PEAK_LIMIT = -1.5  # dBTP, the ceiling of the normalised output
# loudnorm leaves a file linear (one gain) only if its loudness range fits the target
# range; we want the gain, not compression, so the target range is at least the measured one.
LRA_TARGET_FLOOR = 11.0
LRA_TARGET_CEILING = 50.0  # loudnorm's own upper bound for the option
# loudnorm reads a measured range of 0 as "not measured" and then refuses linear mode;
# a steady tone really does measure 0, so pass a hair above it.
LRA_NOT_ZERO = 0.1
HEADROOM = -5.0  # LUFS: input measured louder than this is turned down before loudnorm (see below)


def transcode_normalised(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    """Two passes over the planned range: measure it, then write it normalised to the target."""
    target = plan.spec.loudness
    ceiling = plan.spec.true_peak if plan.spec.true_peak is not None else TRUE_PEAK_LIMIT
    layout = _output_layout(plan)
    meter = LoudnessMeter(layout)
    decode_into(plan, meter, _part(progress, 0.0))
    measured = meter.result()

    sink = open_sink(plan, destination)
    if not measured.measurable:
        report = decode_into(plan, sink, _part(progress, 0.5))
        report.notes.append("loudness left unchanged: the audio is silent or too short to measure "
                            "(EBU R128 needs 0.4 s above -70 LUFS)")
        return report
    normaliser = NormalisingSink(sink, target, measured, plan.sample_rate, layout, ceiling=ceiling)
    report = decode_into(plan, normaliser, _part(progress, 0.5))
    report.notes.append(describe(measured, target, ceiling))
    return report


def describe(measured: Loudness, target: float, ceiling: float = TRUE_PEAK_LIMIT) -> str:
    gain = target - measured.integrated
    source = (f"loudness: measured {measured.integrated:.1f} LUFS, true peak {measured.true_peak:+.1f} dBTP, "
              f"range {measured.lra:.1f} LU")
    if linear_possible(measured, target, ceiling):
        return f"{source}; one gain of {gain:+.1f} dB to {target:g} LUFS"
    return (f"{source}; a plain gain of {gain:+.1f} dB would put the true peak at "
            f"{measured.true_peak + gain:+.1f} dBTP, so it was normalised dynamically to {target:g} LUFS "
            f"under a {ceiling:g} dBTP limit")


def linear_possible(measured: Loudness, target: float, ceiling: float = TRUE_PEAK_LIMIT) -> bool:
    """loudnorm's own test for linear mode, with the range target we give it."""
    return measured.true_peak + (target - measured.integrated) <= ceiling


def _output_layout(plan) -> str | None:
    """The layout to measure and normalise in, when the output has other channels than the
    track (a 5.1 track downmixed to stereo MP3 is as loud as its downmix, not as the 5.1)."""
    if plan.channels == plan.track.channels:
        return None
    return LAYOUTS.get(plan.channels, "stereo")


def _part(progress: ProgressFn | None, offset: float) -> ProgressFn | None:
    """Each pass reports into its own half of the job's progress."""
    if progress is None:
        return None
    return lambda fraction: progress(offset + fraction / 2)


class NormalisingSink(GraphFeeder):
    """loudnorm's second pass in front of the real sink, back at ``rate`` for it."""

    def __init__(self, sink, target: float, measured: Loudness, rate: int, layout: str | None = None, *,
                 ceiling: float = TRUE_PEAK_LIMIT):
        super().__init__(layout)
        self.ceiling = ceiling
        self.sink = sink
        self.target = target
        self.measured = measured
        self.rate = rate

    def _filters(self, frame):
        m = self.measured
        # loudnorm takes a measured loudness of at most 0 LUFS; float audio (a 5.1 downmix, say)
        # can be louder, so such input is turned down first and described as it then is.
        pre_gain = min(0.0, HEADROOM - m.integrated)
        if pre_gain:
            m = Loudness(m.integrated + pre_gain, m.lra, m.true_peak + pre_gain)
        lra_target = min(LRA_TARGET_CEILING, max(LRA_TARGET_FLOOR, math.ceil(m.lra)))
        loudnorm = (
            f"i={self.target}:tp={self.ceiling}:lra={lra_target}"
            f":measured_i={m.integrated:.2f}:measured_lra={max(m.lra, LRA_NOT_ZERO):.2f}"
            f":measured_tp={m.true_peak:.2f}"
            # The relative gate sits 10 LU under the ungated loudness; loudnorm only needs it
            # to tell quiet passages from programme in dynamic mode.
            f":measured_thresh={m.integrated - 10:.2f}:linear=true:print_format=none")
        volume = [("volume", f"{pre_gain:.2f}dB")] if pre_gain else []
        return [*self._channels(), *volume, ("loudnorm", loudnorm), ("aresample", str(self.rate)),
                ("aformat", f"sample_fmts=flt:sample_rates={self.rate}")]

    def _take(self, frame) -> None:
        self.sink.write(frame, 0, frame.samples)

    def close(self) -> None:
        try:
            self._finish()
        except BaseException:
            self.sink.abort()
            raise
        self.sink.close()

    def abort(self) -> None:
        super().abort()
        self.sink.abort()
