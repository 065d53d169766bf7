"""Which writer a transcode's decoded audio goes to: libsndfile for WAV/FLAC, LAME for MP3,
else an FFmpeg encoder and muxer."""

from __future__ import annotations

from pathlib import Path

from .sinks import EncoderSink, SoundfileSink


def open_sink(plan, destination: Path):
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
