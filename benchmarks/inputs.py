"""Benchmark inputs, generated once with PyAV and cached outside the repository.

Encoding minutes of 1080p H.264 is slow, and the picture does not matter to an audio
extractor, so each video is a short clip encoded once (keyframe first) whose packets are
repeated with shifted timestamps. The audio is real, continuously encoded AAC/AC-3/Opus
of the whole length: it is what every peer reads, decodes and compares.

    python -m benchmarks.inputs            # builds what is missing, prints the paths
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("VAX_BENCH_CACHE", Path.home() / ".cache" / "vax-bench"))
VERSION = "v1"  # bump when the recipe changes, so stale caches are rebuilt
CLIP_SECONDS = 2
FPS = 30
AUDIO_RATE = 48000


@dataclass(frozen=True)
class AudioSpec:
    codec: str
    bitrate: int
    rate: int = AUDIO_RATE
    layout: str = "stereo"
    language: str = "und"


@dataclass(frozen=True)
class InputSpec:
    name: str
    container: str  # file extension
    minutes: float
    width: int
    height: int
    video_codec: str
    video_bitrate: int
    audio: tuple[AudioSpec, ...]
    seed: int = 0


AAC = AudioSpec("aac", 128_000)
SPECS = {
    spec.name: spec
    for spec in [
        InputSpec("mp4_3min", "mp4", 3, 1920, 1080, "libx264", 8_000_000, (AAC,)),
        InputSpec("mp4_1min", "mp4", 1, 1920, 1080, "libx264", 8_000_000, (AAC,)),
        InputSpec("mp4_10min", "mp4", 10, 1920, 1080, "libx264", 8_000_000, (AAC,)),
        InputSpec("mp4_30min", "mp4", 30, 1920, 1080, "libx264", 8_000_000, (AAC,)),
        InputSpec("mp4_500mb", "mp4", 3, 1920, 1080, "libx264", 34_000_000, (AAC,)),
        InputSpec(
            "mkv_3min",
            "mkv",
            3,
            1920,
            1080,
            "libx264",
            8_000_000,
            (AudioSpec("aac", 128_000, language="eng"), AudioSpec("ac3", 384_000, language="spa")),
        ),
        InputSpec("webm_3min", "webm", 3, 640, 360, "libvpx", 3_000_000, (AudioSpec("libopus", 128_000),)),
    ]
    + [
        InputSpec(f"batch_{i}", "mp4", 3, 1280, 720, "libx264", 2_500_000, (AAC,), seed=i + 1)
        for i in range(8)
    ]
    # An hour-long recording (a meeting, a lecture): AAC 128k with a small video.
    + [InputSpec("rec_1hour", "mp4", 60, 320, 180, "libx264", 150_000, (AAC,), seed=11)]
    # The 3-minute 720p MP4 of issue 20, and what 20 copies of it joined make: about 1.8 GB.
    + [InputSpec("mp4_3min_720p", "mp4", 3, 1280, 720, "libx264", 4_000_000, (AAC,), seed=20)]
}
# The audio track of an input, stream-copied by ffmpeg into an audio-only file.
AUDIO_OF = {"audio_1hour": "rec_1hour"}
# Inputs joined from copies of another one by ffmpeg's concat demuxer (`-f concat -c copy`), as
# users join recorded parts: the result declares less than its packets hold (issue 20).
JOINED = {
    "joined_1hour_720p": ("mp4_3min_720p", 20),
    # Audio-only, 3 and 10 hours (an audiobook, a day's recording): is time linear, memory flat?
    "audio_3hour": ("audio_1hour", 3),
    "audio_10hour": ("audio_1hour", 10),
}
DERIVED = [*AUDIO_OF, *JOINED]


def path_of(name: str) -> Path:
    if name in AUDIO_OF or name in JOINED:
        audio_only = name in AUDIO_OF or JOINED[name][0] in AUDIO_OF
        return CACHE / VERSION / f"{name}.{'m4a' if audio_only else 'mp4'}"
    spec = SPECS[name]
    return CACHE / VERSION / f"{spec.name}.{spec.container}"


def ensure(names=None, log=print) -> dict[str, Path]:
    """Build every missing input (atomically: a half-written file never looks cached)."""
    paths = {}
    for name in names or [*SPECS, *DERIVED]:
        target = path_of(name)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            log(f"generating {target.name} ...")
            temp = target.with_name(target.stem + ".partial" + target.suffix)
            if name in JOINED:
                part, count = JOINED[name]
                join(ensure([part], log)[part], count, temp)
            elif name in AUDIO_OF:
                source = AUDIO_OF[name]
                audio_track(ensure([source], log)[source], temp)
            else:
                build(SPECS[name], temp)
            temp.replace(target)
        paths[name] = target
    return paths


def join(part: Path, count: int, target: Path) -> None:
    """``count`` copies of ``part`` joined by ffmpeg's concat demuxer, stream copy."""
    listing = target.with_suffix(".txt")
    listing.write_text(f"file '{part}'\n" * count)
    try:
        _ffmpeg("-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", "-f", "mp4", target)
    finally:
        listing.unlink()


def audio_track(source: Path, target: Path) -> None:
    """The first audio track of ``source``, stream copy, nothing else."""
    _ffmpeg("-i", source, "-map", "0:a:0", "-c", "copy", "-f", "mp4", target)


def _ffmpeg(*args) -> None:
    import subprocess

    try:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True)
    except BaseException:
        Path(args[-1]).unlink(missing_ok=True)
        raise


# -- building -----------------------------------------------------------------------------


def _clip_packets(spec: InputSpec, scratch_path: Path) -> tuple[list, object]:
    """Encode CLIP_SECONDS of moving noise, keyframe first; returns (packets, demuxed stream).

    The clip goes through a real file so its stream carries complete codec parameters
    (a template straight from an encoder lacks what the Matroska muxer needs)."""
    import av

    frames = CLIP_SECONDS * FPS
    scratch = av.open(str(scratch_path), mode="w", format="matroska")
    stream = scratch.add_stream(spec.video_codec, rate=FPS)
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
    stream.bit_rate = spec.video_bitrate
    stream.gop_size = frames  # one keyframe per clip: every repeat starts decodable
    if spec.video_codec == "libx264":
        stream.options = {"preset": "ultrafast", "bframes": "0", "x264-params": f"keyint={frames}:scenecut=0"}
    else:
        stream.options = {"deadline": "realtime", "cpu-used": "8", "auto-alt-ref": "0", "lag-in-frames": "0"}
    stream.codec_context.time_base = Fraction(1, FPS)
    rng = np.random.default_rng(spec.seed)
    base = rng.integers(0, 256, (spec.height, spec.width), dtype=np.uint8)
    packets = []
    for i in range(frames):
        luma = np.roll(base, i * 7, axis=1)
        frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
        frame.planes[0].update(np.ascontiguousarray(luma))
        for plane in (1, 2):
            frame.planes[plane].update(bytes(frame.planes[plane].buffer_size))
        frame.pts = i
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    for packet in packets:
        scratch.mux(packet)
    scratch.close()
    demuxer = av.open(str(scratch_path))
    packets = [p for p in demuxer.demux(demuxer.streams.video[0]) if p.size]
    return packets, demuxer.streams.video[0]


def _audio_signal(seconds_from: float, n: int, rate: int, channels: int, seed: int) -> np.ndarray:
    """A few drifting tones plus quiet noise: real work for an encoder, deterministic."""
    t = seconds_from + np.arange(n) / rate
    base = 220 * (1 + seed % 5)
    signal = 0.3 * np.sin(2 * np.pi * base * t + 3 * np.sin(2 * np.pi * 0.1 * t)) + 0.15 * np.sin(
        2 * np.pi * (base * 2.5 + 40 * np.sin(2 * np.pi * 0.05 * t)) * t
    )
    rng = np.random.default_rng(int(seconds_from * 1000) + seed)
    out = np.empty((channels, n), dtype=np.float32)
    for c in range(channels):
        out[c] = signal * (1.0 - 0.2 * c) + 0.02 * rng.standard_normal(n)
    return out


class _AudioWriter:
    """Encodes one audio track second by second, muxing as it goes (memory stays flat)."""

    def __init__(self, container, spec: AudioSpec, seed: int):
        import av

        self.av = av
        self.container = container
        self.spec = spec
        self.stream = container.add_stream(spec.codec, rate=spec.rate)
        self.stream.layout = spec.layout
        self.stream.bit_rate = spec.bitrate
        self.stream.metadata["language"] = spec.language
        self.channels = len(av.AudioLayout(spec.layout).channels)
        self.formats = [f.name for f in self.stream.codec_context.codec.audio_formats]
        self.resampler = av.AudioResampler(format=self.formats[0], layout=spec.layout, rate=spec.rate)
        self.seed = seed
        self.written = 0

    def write_until(self, seconds: float) -> None:
        target = round(seconds * self.spec.rate)
        while self.written < target:
            n = min(self.spec.rate, target - self.written)
            samples = _audio_signal(
                self.written / self.spec.rate, n, self.spec.rate, self.channels, self.seed
            )
            frame = self.av.AudioFrame.from_ndarray(samples, format="fltp", layout=self.spec.layout)
            frame.sample_rate = self.spec.rate
            frame.pts = self.written
            frame.time_base = Fraction(1, self.spec.rate)
            self.written += n
            for converted in self.resampler.resample(frame):
                for packet in self.stream.encode(converted):
                    self.container.mux(packet)

    def finish(self) -> None:
        for converted in self.resampler.resample(None):
            for packet in self.stream.encode(converted):
                self.container.mux(packet)
        for packet in self.stream.encode(None):
            self.container.mux(packet)


def build(spec: InputSpec, target: Path) -> None:
    import av

    scratch = target.with_name(target.stem + ".clip.mkv")
    clip, clip_stream = _clip_packets(spec, scratch)
    fmt = {"mp4": "mp4", "mkv": "matroska", "webm": "webm"}[spec.container]
    out = av.open(str(target), mode="w", format=fmt)
    video = out.add_stream_from_template(clip_stream)
    audio = [_AudioWriter(out, a, spec.seed + i) for i, a in enumerate(spec.audio)]
    clip_ticks = int(CLIP_SECONDS / clip_stream.time_base)
    repeats = round(spec.minutes * 60 / CLIP_SECONDS)
    for r in range(repeats):
        for packet in clip:
            copy = av.Packet(bytes(packet))
            copy.pts = packet.pts + r * clip_ticks
            copy.dts = packet.dts + r * clip_ticks
            copy.duration = packet.duration
            copy.time_base = packet.time_base
            copy.is_keyframe = packet.is_keyframe
            copy.stream = video
            out.mux(copy)
        for writer in audio:
            writer.write_until((r + 1) * CLIP_SECONDS)
    for writer in audio:
        writer.finish()
    out.close()
    scratch.unlink()


if __name__ == "__main__":
    names = sys.argv[1:] or None
    for name, path in ensure(names).items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
