"""Two outputs of the same job compared: format, duration, and the decoded audio.

Both files are decoded through the same library (PyAV) and walked in step, block by block, so
memory stays flat whatever their length. Decoded audio is "identical" only when every sample
matches and the lengths agree; otherwise the report gives the difference in samples (length)
and in dB (the largest and the RMS difference relative to full scale, and the SNR of one
against the other).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path


def audio_format(path: Path) -> dict:
    """codec, sample rate, channels and declared duration of a file's first audio stream."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        seconds = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
        return {"codec": ctx.name, "sample_rate": ctx.sample_rate, "channels": ctx.channels, "duration": seconds}


def _blocks(path: Path) -> Iterator:
    """The first audio stream as float32 planar blocks (channels, samples)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp")
        for frame in container.decode(stream):
            for converted in resampler.resample(frame):
                yield converted.to_ndarray()
        for converted in resampler.resample(None):
            yield converted.to_ndarray()


class _Reader:
    """Hands out a decoded stream in blocks of any size, counting its samples."""

    def __init__(self, path: Path):
        self._blocks = _blocks(path)
        self._pending = None
        self.samples = 0

    def available(self) -> int:
        """Samples ready in the current block (0 at the end of the stream)."""
        while self._pending is None or self._pending.shape[1] == 0:
            self._pending = next(self._blocks, None)
            if self._pending is None:
                return 0
            self.samples += self._pending.shape[1]
        return self._pending.shape[1]

    def take(self, count: int):
        part, self._pending = self._pending[:, :count], self._pending[:, count:]
        return part

    def skip(self, count: int) -> None:
        """Pass over the first ``count`` samples (they still count in ``samples``)."""
        while count > 0 and self.available():
            count -= self.take(min(count, self._pending.shape[1])).shape[1]

    def drain(self) -> None:
        while self.available():
            self.take(self._pending.shape[1])

    def close(self) -> None:
        self._blocks.close()


def compare_audio(candidate: Path, reference: Path, *, lead: int = 0) -> dict:
    """The decoded audio of ``candidate`` against ``reference``, sample by sample; ``lead`` > 0
    skips that many samples at the start of the candidate first (< 0: of the reference)."""
    a, b = _reader_pair(candidate, reference)
    try:
        if a is None:
            return {"compared": False, "why": "different sample rates or channel counts"}
        a.skip(lead)
        b.skip(-lead)
        compared = 0
        biggest = squared_diff = squared_ref = 0.0
        while True:
            count = min(a.available(), b.available())
            if count == 0:
                break
            x, y = a.take(count).astype("float64"), b.take(count).astype("float64")
            diff = x - y
            biggest = max(biggest, float(abs(diff).max()))
            squared_diff += float((diff * diff).sum())
            squared_ref += float((y * y).sum())
            compared += count * x.shape[0]
        a.drain()
        b.drain()
        return {**_summary(a.samples, b.samples, compared, biggest, squared_diff, squared_ref), "lead": lead}
    finally:
        if a is not None:
            a.close()
            b.close()


def _reader_pair(candidate: Path, reference: Path):
    first, second = audio_format(candidate), audio_format(reference)
    if (first["sample_rate"], first["channels"]) != (second["sample_rate"], second["channels"]):
        return None, None
    return _Reader(candidate), _Reader(reference)


def _summary(samples: int, reference_samples: int, compared: int, biggest: float, squared_diff: float,
             squared_ref: float) -> dict:
    identical = samples == reference_samples and biggest == 0.0
    return {
        "compared": True,
        "identical": identical,
        "samples": samples,
        "reference_samples": reference_samples,
        "length_difference": samples - reference_samples,
        "max_difference_db": _db(biggest),
        "rms_difference_db": _db(math.sqrt(squared_diff / compared)) if compared else None,
        "snr_db": (round(10 * math.log10(squared_ref / squared_diff), 2)
                   if squared_diff and squared_ref else None),
    }


def _db(amplitude: float) -> float | None:
    """dB relative to full scale; None for silence (no difference at all)."""
    return round(20 * math.log10(amplitude), 2) if amplitude > 0 else None


def compare_outputs(candidate: Path, reference: Path) -> dict:
    """Two outputs of the same job: format, decoded duration and decoded audio, and by how much they differ."""
    fields = ("codec", "sample_rate", "channels")
    first, second = audio_format(candidate), audio_format(reference)
    audio = _aligned(candidate, reference, compare_audio(candidate, reference))
    if audio["compared"]:
        gap = (audio["samples"] - audio["reference_samples"]) / first["sample_rate"]
    else:
        gap = first["duration"] - second["duration"]
    return {"same_format": all(first[f] == second[f] for f in fields), "duration_difference": round(gap, 6),
            "format": {f: first[f] for f in fields}, "reference_format": {f: second[f] for f in fields},
            "audio": audio}


def _aligned(candidate: Path, reference: Path, audio: dict) -> dict:
    """When one output is longer and the common samples differ, the extra samples are often at the
    start (encoder priming one tool trims and the other keeps): compare again with them skipped,
    and keep that answer when it matches better."""
    if not audio["compared"] or not audio["length_difference"] or audio["max_difference_db"] is None:
        return audio
    shifted = compare_audio(candidate, reference, lead=audio["length_difference"])
    if shifted["max_difference_db"] is None or (
            audio["snr_db"] is not None and shifted["snr_db"] is not None and shifted["snr_db"] > audio["snr_db"] + 10):
        return shifted
    return audio


def describe(comparison: dict) -> str:
    """One line: 'same format (aac 48000 Hz 2ch), same duration, decoded audio identical'."""
    fmt = comparison["format"]
    shown = f"{fmt['codec']} {fmt['sample_rate']} Hz {fmt['channels']}ch"
    if comparison["same_format"]:
        parts = [f"same format ({shown})"]
    else:
        ref = comparison["reference_format"]
        parts = [f"format differs ({shown} vs {ref['codec']} {ref['sample_rate']} Hz {ref['channels']}ch)"]
    gap = comparison["duration_difference"]
    parts.append("same duration" if abs(gap) < 0.0005 else f"duration differs by {gap * 1000:+.1f} ms")
    audio = comparison["audio"]
    if not audio["compared"]:
        parts.append(f"decoded audio not compared ({audio['why']})")
    elif audio["identical"]:
        parts.append("decoded audio identical")
    else:
        parts.append(_difference(audio))
    return ", ".join(parts)


def _difference(audio: dict) -> str:
    bits = []
    if audio["length_difference"]:
        where = " at the start" if audio.get("lead") else ""
        bits.append(f"{audio['length_difference']:+d} samples{where}")
    if audio["max_difference_db"] is not None:
        bits.append(f"max difference {audio['max_difference_db']:.1f} dBFS, "
                    f"RMS {audio['rms_difference_db']:.1f} dBFS")
        if audio["snr_db"] is not None:
            bits.append(f"SNR {audio['snr_db']:.1f} dB")
    else:
        bits.append("the others are equal" if audio.get("lead") else "the common samples are equal")
    return "decoded audio differs: " + ", ".join(bits)
