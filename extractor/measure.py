"""Loudness measured on decoded frames: EBU R128 through FFmpeg's ``ebur128`` filter.

Used by verification (the loudness of a written file, in the decode it already does) and by
the engine's normalisation (pass 1 measures exactly what will be written). FFmpeg's filter
does the measuring (integrated loudness, loudness range, true peak by oversampling) and hands
the figures back as frame metadata, so nothing depends on capturing FFmpeg's log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .frames import DOWNMIX_NORMALISED, SilenceWriter, slice_frame

SILENT_AT = -70.0  # LUFS: BS.1770's absolute gate; below it there is nothing to measure


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    lra: float  # loudness range, LU
    true_peak: float | None  # dBTP; None for digital silence

    @property
    def measurable(self) -> bool:
        return self.integrated > SILENT_AT and self.true_peak is not None


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


class GraphFeeder(SilenceWriter):
    """A sink that pushes the kept samples through a filter graph built on the first frame.

    Frames get their own running timestamps: decoder timestamps are in the stream's time
    base, and the graph counts in samples.
    """

    def __init__(self, layout: str | None = None):
        self._graph = None
        self._pts = 0
        self._layout = layout

    def _channels(self) -> list[tuple[str, str]]:
        """Convert to the output's layout first, with the same downmix the sinks do (it cannot clip)."""
        return [DOWNMIX_NORMALISED, ("aformat", f"channel_layouts={self._layout}")] if self._layout else []

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


class LoudnessMeter(GraphFeeder):
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


