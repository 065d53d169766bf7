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


# -- streaming checks, for hour-long outputs (a whole hour of float PCM is over a gigabyte) ---------


class Reader:
    """One audio track decoded as float32 (channels, n) blocks of exactly the size asked for."""

    def __init__(self, path, stream_index: int | None = None):
        import av

        self.container = av.open(str(path))
        stream = self.container.streams.audio[0] if stream_index is None else self.container.streams[stream_index]
        for other in self.container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        self.rate = stream.codec_context.sample_rate
        self.channels = stream.codec_context.channels
        self._frames = self._decoded(stream)
        self._held = np.zeros((self.channels, 0), dtype=np.float32)

    def _decoded(self, stream):
        import av

        resampler = av.AudioResampler(format="fltp")
        for frame in self.container.decode(stream):
            for converted in resampler.resample(frame):
                yield converted.to_ndarray()
        for converted in resampler.resample(None):
            yield converted.to_ndarray()

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` samples, fewer only at the end of the track."""
        parts, have = [self._held], self._held.shape[1]
        while have < n:
            block = next(self._frames, None)
            if block is None:
                break
            parts.append(block)
            have += block.shape[1]
        joined = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        self._held = joined[:, n:]
        return joined[:, :n]

    def count_rest(self) -> int:
        """Samples left, counted without keeping them."""
        return self._held.shape[1] + sum(block.shape[1] for block in self._frames)

    def close(self) -> None:
        self.container.close()


BLOCK = 1 << 18  # samples per comparison step: a few MB of float32


def compare_streaming(candidate, reference, reference_stream: int | None = None) -> dict:
    """compare_pcm for files of any length: the same report, block by block."""
    a, b = Reader(candidate), Reader(reference, reference_stream)
    worst, common = 0.0, 0
    try:
        while True:
            x, y = a.take(BLOCK), b.take(BLOCK)
            n = min(x.shape[1], y.shape[1])
            if x.shape[0] != y.shape[0]:
                worst = float("inf")
                break
            if n:
                worst = max(worst, float(np.max(np.abs(x[:, :n] - y[:, :n]))))
            common += n
            if x.shape[1] < BLOCK or y.shape[1] < BLOCK:
                rest_a, rest_b = x.shape[1] - n + a.count_rest(), y.shape[1] - n + b.count_rest()
                break
        same_rate = a.rate == b.rate
    finally:
        a.close(), b.close()
    if worst == float("inf"):
        return {"identical": False, "same_within_1lsb": False, "error": "channel counts differ"}
    samples, ref_samples = common + rest_a, common + rest_b
    return {
        "samples": samples,
        "reference_samples": ref_samples,
        "length_difference": samples - ref_samples,
        "max_diff_lsb16": round(worst * 32768, 3),
        "identical": samples == ref_samples and same_rate and worst == 0.0,
        "same_within_1lsb": samples == ref_samples and same_rate and worst * 32768 <= 1.0,
    }


def snr_streaming(source, lossy, *, lag_at: float = 30.0, window: float = 10.0, max_lag: int = 3000) -> dict:
    """SNR (dB) of a lossy encode against its source over the whole track, and the worst
    ``window``-second stretch of it (a bad seam between segments shows there, not in the mean).
    The delay is found once, at ``lag_at`` seconds, by correlation; every sample after it is scored."""
    src, out = Reader(source), Reader(lossy)
    try:
        if src.rate != out.rate:
            return {"error": f"rate {out.rate} vs source {src.rate}"}
        rate = src.rate
        start = int(lag_at * rate)
        src.take(start), out.take(start - max_lag)
        target = src.take(rate).mean(axis=0)
        probe = out.take(rate + 2 * max_lag).mean(axis=0)
        lag = int(np.argmax(np.correlate(probe, target, mode="valid"))) - max_lag
        # Realign: the output's reader stands rate + 2*max_lag past start - max_lag.
        held_out = probe[max_lag + lag + rate :]  # output samples matching source from start + rate
        signal = noise = 0.0
        worst, samples = float("inf"), 0
        step = int(window * rate)
        while True:
            ref = src.take(step).mean(axis=0)
            got = np.concatenate([held_out, out.take(step).mean(axis=0)])
            n = min(ref.shape[0], got.shape[0])
            held_out = got[n:]
            s, e = float(np.sum(ref[:n] ** 2)), float(np.sum((ref[:n] - got[:n]) ** 2))
            signal, noise, samples = signal + s, noise + e, samples + n
            if s > 0 and n >= step // 2:  # a last sliver of a window is scored, not ranked
                worst = min(worst, 10 * np.log10(s / e) if e else float("inf"))
            if n < step:
                break
    finally:
        src.close(), out.close()
    return {
        "snr_db": round(10 * float(np.log10(signal / noise)), 2) if noise else float("inf"),
        "worst_window_snr_db": round(float(worst), 2),
        "window_seconds": window,
        "lag_samples": lag,
        "scored_seconds": round(samples / rate, 1),
    }


def count_samples(path) -> dict:
    """Decoded length of a track, streaming (what a player would play)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        samples = sum(frame.samples for frame in container.decode(stream))
        return {"samples": samples, "rate": stream.codec_context.sample_rate}
