"""Silent spans of an audio track, found by FFmpeg's own ``silencedetect`` filter.

The track is decoded once, frame by frame (memory stays flat), and pushed through
``silencedetect``; the filter marks where each silence starts and ends as frame metadata,
so no Python loop ever looks at a sample. Times are seconds from the track's first decoded
sample; ``Silence.on_timeline`` moves them onto the output timeline (t=0 is the video's start).
"""

from __future__ import annotations

from dataclasses import dataclass

from .ffmpeg_errors import damaged_input
from .measure import GraphFeeder
from .mediainfo import open_media

DEFAULT_THRESHOLD = -50.0  # dBFS: below this a recording is silent (room tone of a quiet room is about -60)
DEFAULT_MIN_SILENCE = 0.5  # seconds: shorter pauses are breaths and gaps between words


@dataclass(frozen=True)
class Silence:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "length": round(self.length, 3)}


class _Detector(GraphFeeder):
    """silencedetect over every frame added (the loudness meter's graph feeding, another filter)."""

    def __init__(self, threshold: float, min_silence: float):
        super().__init__()
        self.args = f"noise={threshold}dB:duration={min_silence}"
        self.samples = 0
        self.rate = 0
        self.spans: list[Silence] = []
        self._open_start: float | None = None

    def _filters(self, frame):
        return [("silencedetect", self.args)]

    def add(self, frame) -> None:
        self.rate = frame.sample_rate
        self.samples += frame.samples
        super().add(frame)

    def _take(self, frame) -> None:
        meta = frame.metadata
        if "lavfi.silence_start" in meta:
            self._open_start = max(0.0, float(meta["lavfi.silence_start"]))
        if "lavfi.silence_end" in meta and self._open_start is not None:
            self.spans.append(Silence(self._open_start, float(meta["lavfi.silence_end"])))
            self._open_start = None

    def finish(self) -> list[Silence]:
        self._finish()
        end = self.samples / self.rate if self.rate else 0.0
        if self._open_start is not None and end - self._open_start > 0:
            self.spans.append(Silence(self._open_start, end))  # silent to the very end
        return self.spans


def find_silences(info, track, *, threshold: float = DEFAULT_THRESHOLD,
                  min_silence: float = DEFAULT_MIN_SILENCE) -> tuple[list[Silence], float]:
    """(silent spans, decoded length in seconds) of ``track`` of the probed file ``info``."""
    import av

    detector = _Detector(threshold, min_silence)
    with open_media(info.path) as container:
        stream = container.streams[track.index]
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        try:
            for frame in container.decode(stream):
                detector.add(frame)
        except av.error.FFmpegError as exc:
            raise damaged_input(exc, info.path, "undecodable audio while looking for silence") from None
    spans = detector.finish()
    return spans, (detector.samples / detector.rate if detector.rate else 0.0)
