"""Which writer a transcode's decoded audio goes to: libsndfile for WAV/FLAC, LAME for MP3,
else an FFmpeg encoder and muxer."""

from __future__ import annotations

from pathlib import Path

from extractor.frames import SilenceWriter

from .sinks import EncoderSink, SoundfileSink


def open_sink(plan, destination: Path):
    sink = _open_writer(plan, destination)
    if plan.spec.loudness is not None:
        return MeteredSink(sink, plan)
    return sink


def _open_writer(plan, destination: Path):
    # Float WAV goes through FFmpeg's pcm_f32le: this libsndfile sink converts to integers.
    if plan.format.name in SoundfileSink.FORMATS and not plan.codec.startswith("pcm_f"):
        return SoundfileSink(plan, destination)
    if plan.format.name == "mp3":
        from backends.local.mp3_lame import (  # 3.5x faster than the wheel's libmp3lame
            LameSink,
            lame_can_encode,
        )

        if lame_can_encode(plan):
            return LameSink(plan, destination)
    return EncoderSink(plan, destination)


class MeteredSink(SilenceWriter):
    """A sink that also measures the loudness of what it is given (EBU R128, FFmpeg's ebur128),
    so a normalised output's loudness is known from its encode, without decoding it again."""

    def __init__(self, sink, plan):
        from extractor.frames import LAYOUTS
        from extractor.measure import LoudnessMeter

        self.sink = sink
        # Measured in the output's layout, as a decode of the output would be.
        self.meter = LoudnessMeter(LAYOUTS.get(plan.channels) if plan.channels != plan.track.channels else None)

    def write(self, frame, start: int, stop: int) -> None:
        self.sink.write(frame, start, stop)  # first: the meter restamps the frame it is given
        self.meter.write(frame, start, stop)

    def close(self) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.meter.abort()
        self.sink.abort()

    def evidence(self):
        evidence = self.sink.evidence()
        if evidence is not None:
            evidence.loudness = self.meter.result().integrated
        return evidence
