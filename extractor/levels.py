"""Loudness and level report: per audio track, integrated loudness, loudness range, true peak,
RMS and sample peak, and whether it is silent, in ONE decode of the file for all its tracks.

EBU R128 figures come from FFmpeg's ``ebur128`` filter (``measure.LoudnessMeter``); RMS and
sample peak are taken with numpy per block of frames, never over the whole file at once.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .ffmpeg_errors import damaged_input
from .frames import gather, numpy_module, plane_arrays
from .measure import SILENT_AT, LoudnessMeter
from .mediainfo import open_media, probe

BLOCK = 256  # plane arrays gathered before one numpy reduction


@dataclass
class TrackLevels:
    track: int
    codec: str
    channels: int
    duration: float
    integrated_lufs: float | None
    loudness_range_lu: float | None
    true_peak_dbtp: float | None
    rms_dbfs: float | None
    peak_dbfs: float | None
    silent: bool
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class _Levels:
    """Sum of squares and peak over everything added, per block of frames."""

    def __init__(self):
        self.squares = 0.0
        self.values = 0
        self.peak = 0.0
        self.samples = 0
        self.pending: list = []
        self.scratch: dict = {}

    def add(self, frame) -> None:
        self.samples += frame.samples
        self.pending.extend(plane_arrays(frame))
        if len(self.pending) >= BLOCK:
            self._reduce()

    def _reduce(self) -> None:
        if not self.pending:
            return
        np = numpy_module()
        block = gather(self.pending, self.scratch)
        self.pending.clear()
        values = block.astype(np.float64)
        if block.dtype.kind in "iu":
            info = np.iinfo(block.dtype)
            values = (values - (128 if info.min == 0 else 0)) / (128 if info.min == 0 else -info.min)
        self.squares += float(np.dot(values, values))
        self.values += values.size
        if values.size:
            self.peak = max(self.peak, float(np.abs(values).max()))

    def figures(self) -> tuple[float | None, float | None]:
        self._reduce()
        rms = math.sqrt(self.squares / self.values) if self.values else 0.0
        return (_db(rms), _db(self.peak))


def _db(value: float) -> float | None:
    return round(20 * math.log10(value), 2) if value > 0 else None


def measure_levels(path) -> list[TrackLevels]:
    """The report for every audio track of ``path``; tracks without a decoder get a note instead."""
    info = probe(path)
    tracks = {t.index: t for t in info.audio}
    meters = {index: (LoudnessMeter(), _Levels()) for index, t in tracks.items() if t.decodable}
    if meters:
        _decode_once(info, meters)
    report = []
    for index, track in tracks.items():
        if index not in meters:
            report.append(TrackLevels(track.number, track.codec, track.channels, track.duration or 0.0,
                                      None, None, None, None, None, False, note="no decoder in this build"))
            continue
        meter, levels = meters[index]
        loud = meter.result()
        rms, peak = levels.figures()
        silent = loud.integrated <= SILENT_AT or peak is None
        report.append(TrackLevels(
            track=track.number, codec=track.codec, channels=track.channels,
            duration=round(levels.samples / track.sample_rate, 3) if track.sample_rate else 0.0,
            integrated_lufs=None if silent else round(loud.integrated, 2),
            loudness_range_lu=None if silent else round(loud.lra, 2),
            true_peak_dbtp=None if loud.true_peak is None else round(loud.true_peak, 2),
            rms_dbfs=rms, peak_dbfs=peak, silent=silent))
    return report


def _decode_once(info, meters: dict) -> None:
    """One demux of the file; every audio track's packets go to its own decoder and meters."""
    import av

    with open_media(info.path) as container:
        streams = [s for s in container.streams if s.index in meters]
        for other in container.streams:
            if other.index not in meters:
                other.discard = av.stream.Discard.all
        try:
            for packet in container.demux(*streams):
                if packet.size == 0:
                    continue
                loudness, levels = meters[packet.stream.index]
                for frame in packet.decode():
                    loudness.add(frame)
                    levels.add(frame)
        except av.error.FFmpegError as exc:
            raise damaged_input(exc, info.path, "undecodable audio") from None
