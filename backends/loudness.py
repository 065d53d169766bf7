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
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .base import ProgressFn, RunReport
from .sinks import LAYOUTS, _SilenceMixin, open_sink, slice_frame

TRUE_PEAK_LIMIT = -1.5  # dBTP, the ceiling of the normalised output
SILENT_AT = -70.0  # LUFS: BS.1770's absolute gate; below it there is nothing to measure
# loudnorm leaves a file linear (one gain) only if its loudness range fits the target
# range; we want the gain, not compression, so the target range is at least the measured one.
LRA_TARGET_FLOOR = 11.0
LRA_TARGET_CEILING = 50.0  # loudnorm's own upper bound for the option
# loudnorm reads a measured range of 0 as "not measured" and then refuses linear mode;
# a steady tone really does measure 0, so pass a hair above it.
LRA_NOT_ZERO = 0.1
HEADROOM = -5.0  # LUFS: input measured louder than this is turned down before loudnorm (see below)


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    lra: float  # loudness range, LU
    true_peak: float | None  # dBTP; None for digital silence

    @property
    def measurable(self) -> bool:
        return self.integrated > SILENT_AT and self.true_peak is not None


def transcode_normalised(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    """Two passes over the planned range: measure it, then write it normalised to the target."""
    from .local import decode_into

    target = plan.spec.loudness
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
    normaliser = NormalisingSink(sink, target, measured, plan.sample_rate, layout)
    report = decode_into(plan, normaliser, _part(progress, 0.5))
    report.notes.append(describe(measured, target))
    return report


def describe(measured: Loudness, target: float) -> str:
    gain = target - measured.integrated
    source = (f"loudness: measured {measured.integrated:.1f} LUFS, true peak {measured.true_peak:+.1f} dBTP, "
              f"range {measured.lra:.1f} LU")
    if linear_possible(measured, target):
        return f"{source}; one gain of {gain:+.1f} dB to {target:g} LUFS"
    return (f"{source}; a plain gain of {gain:+.1f} dB would put the true peak at "
            f"{measured.true_peak + gain:+.1f} dBTP, so it was normalised dynamically to {target:g} LUFS "
            f"under a {TRUE_PEAK_LIMIT:g} dBTP limit")


def linear_possible(measured: Loudness, target: float) -> bool:
    """loudnorm's own test for linear mode, with the range target we give it."""
    return measured.true_peak + (target - measured.integrated) <= TRUE_PEAK_LIMIT


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


# -- the filter graphs ------------------------------------------------------------------

def _graph_for(frame, filters: list[tuple[str, str]]):
    """abuffer (shaped like ``frame``) -> filters -> abuffersink, configured."""
    import av

    graph = av.filter.Graph()
    nodes = [graph.add_abuffer(sample_rate=frame.sample_rate, format=frame.format.name,
                               layout=frame.layout.name, time_base=Fraction(1, frame.sample_rate))]
    nodes += [graph.add(name, args) for name, args in filters]
    nodes.append(graph.add("abuffersink"))
    graph.link_nodes(*nodes).configure()
    return graph


class _GraphFeeder(_SilenceMixin):
    """A sink that pushes the kept samples through a filter graph built on the first frame.

    Frames get their own running timestamps: decoder timestamps are in the stream's time
    base, and the graph counts in samples.
    """

    def __init__(self, layout: str | None = None):
        self._graph = None
        self._pts = 0
        self._layout = layout

    def _channels(self) -> list[tuple[str, str]]:
        """Convert to the output's layout first (swresample, the same downmix the sinks do)."""
        return [("aformat", f"channel_layouts={self._layout}")] if self._layout else []

    def _filters(self, frame) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _take(self, frame) -> None:
        raise NotImplementedError

    def add(self, frame) -> None:
        if self._graph is None:
            self._graph = _graph_for(frame, self._filters(frame))
        frame.pts = self._pts
        frame.time_base = Fraction(1, frame.sample_rate)
        self._pts += frame.samples
        self._graph.push(frame)
        self._drain()

    def write(self, frame, keep_from: int, keep_to: int) -> None:
        self.add(slice_frame(frame, keep_from, keep_to))

    def _drain(self) -> None:
        import av

        while True:
            try:
                out = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            self._take(out)

    def _finish(self) -> None:
        if self._graph is not None:
            self._graph.push(None)
            self._drain()
            self._graph = None

    def close(self) -> None:
        self._finish()

    def abort(self) -> None:
        self._graph = None


class LoudnessMeter(_GraphFeeder):
    """EBU R128 measurement of whatever is written into it (also usable as a plain frame sink)."""

    def __init__(self, layout: str | None = None):
        super().__init__(layout)
        self._latest: dict[str, str] = {}

    def _filters(self, frame):
        return [*self._channels(), ("ebur128", "metadata=1:peak=true")]

    def _take(self, frame) -> None:
        metadata = frame.metadata
        if "lavfi.r128.I" in metadata:  # set on every full 100 ms step; each holds the running totals
            self._latest = dict(metadata)

    def result(self) -> Loudness:
        self._finish()
        values = self._latest
        integrated = float(values.get("lavfi.r128.I", SILENT_AT))
        if math.isnan(integrated) or integrated < SILENT_AT:
            integrated = SILENT_AT
        lra = float(values.get("lavfi.r128.LRA", 0.0))
        peak = float(values.get("lavfi.r128.true_peak", 0.0))
        true_peak = 20 * math.log10(peak) if peak > 0 else None
        return Loudness(integrated=integrated, lra=lra, true_peak=true_peak)


class NormalisingSink(_GraphFeeder):
    """loudnorm's second pass in front of the real sink, back at ``rate`` for it."""

    def __init__(self, sink, target: float, measured: Loudness, rate: int, layout: str | None = None):
        super().__init__(layout)
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
            f"i={self.target}:tp={TRUE_PEAK_LIMIT}:lra={lra_target}"
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
