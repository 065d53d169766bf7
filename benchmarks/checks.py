"""Output checks: a fast wrong answer must not win.

Every peer's output is decoded through the same library (PyAV), so version differences
between Debian's FFmpeg and the wheel's cannot pass for a mismatch.
"""

from __future__ import annotations

import numpy as np


def decode_pcm(path, stream_index: int | None = None) -> tuple[np.ndarray, int]:
    """Whole track as float32 (channels, samples); benchmark outputs are a few minutes, so this fits."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0] if stream_index is None else container.streams[stream_index]
        resampler = av.AudioResampler(format="fltp")
        chunks = []
        rate = stream.codec_context.sample_rate
        for frame in container.decode(stream):
            for converted in resampler.resample(frame):
                chunks.append(converted.to_ndarray())
        for converted in resampler.resample(None):
            chunks.append(converted.to_ndarray())
    return np.concatenate(chunks, axis=1), rate


def compare_pcm(candidate, reference, reference_stream: int | None = None) -> dict:
    """Same decoded PCM? Reports length difference and the largest sample difference in 16-bit LSBs."""
    a, rate_a = decode_pcm(candidate)
    b, rate_b = decode_pcm(reference, reference_stream)
    n = min(a.shape[1], b.shape[1])
    diff = float(np.max(np.abs(a[:, :n] - b[:, :n]))) if n else float("inf")
    return {
        "samples": int(a.shape[1]),
        "reference_samples": int(b.shape[1]),
        "length_difference": int(a.shape[1] - b.shape[1]),
        "max_diff_lsb16": round(diff * 32768, 3),
        "identical": a.shape == b.shape and rate_a == rate_b and diff == 0.0,
        "same_within_1lsb": a.shape == b.shape and rate_a == rate_b and diff * 32768 <= 1.0,
    }


def snr_against(source_pcm: np.ndarray, lossy, window=(30.0, 50.0), rate=48000, max_lag=3000) -> float:
    """SNR (dB) of a lossy encode against the source over a window, after finding the best alignment,
    so a file without gapless information is judged on its sound, not on its delay."""
    out, out_rate = decode_pcm(lossy)
    if out_rate != rate:
        return float("nan")
    ref = source_pcm.mean(axis=0)
    got = out.mean(axis=0)
    start, stop = int(window[0] * rate), int(window[1] * rate)
    target = ref[start:stop]
    probe = got[start - max_lag : stop + max_lag]
    # Correlate a short stretch to find the lag, then score the whole window.
    corr = np.correlate(probe[: rate + 2 * max_lag], target[:rate], mode="valid")
    lag = int(np.argmax(corr)) - max_lag
    aligned = got[start + lag : stop + lag]
    noise = float(np.sum((target - aligned) ** 2))
    return round(10 * float(np.log10(float(np.sum(target**2)) / noise)), 2) if noise else float("inf")


def audio_track_bytes(path) -> int:
    """The audio track's own bytes (the floor for bytes read): the sum of its packet sizes."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        return sum(packet.size for packet in container.demux(stream))


def copy_checks(vax_output, ffmpeg_output, source, stream_index: int | None = None) -> dict:
    """A copy should decode exactly like the source track; ffmpeg's own copy is shown beside it,
    since its timestamp handling can add or drop the codec's priming samples."""
    return {
        "vax_vs_source": compare_pcm(vax_output, source, stream_index),
        "ffmpeg_vs_source": compare_pcm(ffmpeg_output, source, stream_index),
        "vax_vs_ffmpeg": compare_pcm(vax_output, ffmpeg_output),
    }
