"""One long file on every core: a WAV transcode of a long track cut into segments, each decoded
in its own worker process and written straight into its place in the one output file.

Why it is exact: the track is cut on the output timeline, in samples. Each worker seeks to
PREROLL_SECONDS before its segment (codecs with overlapping frames need the frames before a
cut to decode the first kept sample exactly as a serial decode does), places every decoded
frame by its timestamp as the serial loop does, and keeps only the samples of its segment.
PCM needs no encoder state across the seams, so the joined file is byte for byte the serial
one (tests/test_segments.py). Only plain whole-track WAV jobs of a long input, with more than
one core free, take this path; anything it cannot do exactly returns None and runs serially.
MP3/FLAC/AAC/Opus would need their encoders' state joined at each seam (bit reservoir,
priming, frame numbers): not built yet.
"""

from __future__ import annotations

import itertools
import os
import struct
from pathlib import Path

from backends.base import RunReport
from extractor.policy import MOV_DEMUXER

MIN_SECONDS = 300.0  # shorter inputs finish before the workers would have started
WORKERS = 2
HEADER = 44  # a canonical PCM WAV header


def cores_free() -> float:
    """Cores not already busy (the one-minute load average), at least 0."""
    try:
        return max(0.0, (os.cpu_count() or 1) - os.getloadavg()[0])
    except OSError:
        return 0.0


def suitable(plan) -> bool:
    spec = plan.spec
    return (
        plan.format.name == "wav" and not plan.is_copy and plan.expected_duration is not None
        and plan.expected_duration >= MIN_SECONDS and not spec.trims and not spec.salvage
        and spec.loudness is None and not plan.lead_silence and (plan.sample_bits or 16) == 16
        and plan.sample_rate == plan.track.sample_rate and plan.channels == plan.track.channels
        and plan.track.duration_exact and not plan.track.offset and plan.source.container == MOV_DEMUXER
        and cores_free() > 1
    )


def segmented_wav(plan, destination: Path) -> RunReport | None:
    """Write the plan's WAV with WORKERS processes; None when it cannot be done exactly."""
    import multiprocessing

    rate, channels = plan.sample_rate, plan.channels
    total = round(plan.expected_duration * rate)
    bounds = [round(total * k / WORKERS) for k in range(WORKERS + 1)]
    with open(destination, "wb") as f:
        f.write(_wav_header(total, rate, channels))
        f.truncate(HEADER + total * channels * 2)
    # The last worker also looks past the declared end: audio there beyond the tolerance means
    # the header is short (a joined file), which only the serial loop handles (see decode.py).
    slack = round(plan.tolerance * rate)
    jobs = [(plan.source.path, plan.track.index, plan.shift, rate, channels, bounds[k], bounds[k + 1],
             slack if k == WORKERS - 1 else 0, str(destination)) for k in range(WORKERS)]
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    pool = context.Pool(WORKERS, initializer=_ignore_interrupts)
    try:
        results = pool.map(_segment, jobs)
    except BaseException:
        pool.terminate()  # an interrupt or an error: no worker goes on writing into a file being removed
        raise
    finally:
        pool.close()
        pool.join()
    written = [count for count, _ in results]
    if written != [b - a for a, b in itertools.pairwise(bounds)] or results[-1][1] > slack:
        return None  # the track is not where or as long as its header says: run serially
    report = RunReport(backend="local", written_duration=total / rate)
    report.notes.append(f"decoded in {WORKERS} segments on {WORKERS} cores")
    return report


def _ignore_interrupts() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the pool


def _wav_header(frames: int, rate: int, channels: int) -> bytes:
    data = frames * channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16) + b"data" + struct.pack("<I", data))


def _segment(job) -> tuple[int, int]:
    """Decode one segment [begin, end) of the output timeline into its place: (samples written,
    samples found past ``end``, counted up to just over ``look_past``)."""
    import av
    import numpy as np

    from extractor.mediainfo import READ_OPTIONS

    from .sinks import _to_int
    from .source import PREROLL_SECONDS

    path, index, shift, rate, channels, begin, end, look_past, destination = job
    written = 0
    cursor = None
    pending: list = []  # planes of consecutive samples, converted and written per block like the serial sink
    pending_at = pending_count = 0
    with av.open(path, options=READ_OPTIONS) as container, open(destination, "r+b") as out:
        stream = container.streams[index]
        for other in container.streams:
            if other.index != index:
                other.discard = av.stream.Discard.all
        start = shift + begin / rate - PREROLL_SECONDS
        if begin and start > 0:
            container.seek(int(start / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if cursor is None:  # placed by its timestamp, then each frame after the one before, as serially
                cursor = 0 if frame.time is None else round((frame.time - shift) * rate)
                if not begin and abs(cursor) <= 1:
                    cursor = 0
            keep_from, keep_to = max(0, begin - cursor), min(frame.samples, end - cursor)
            if keep_to > keep_from:
                if not pending:
                    pending_at = cursor + keep_from
                pending.append(_planes(frame, channels, keep_from, keep_to))
                pending_count += keep_to - keep_from
                if pending_count >= BLOCK:
                    written += _write(out, pending, pending_at, channels, np, _to_int)
                    pending, pending_count = [], 0
            cursor += frame.samples
            if cursor - end > look_past:
                break
        if pending:
            written += _write(out, pending, pending_at, channels, np, _to_int)
    return written, max(0, cursor - end) if cursor is not None else 0


BLOCK = 65536  # samples per conversion and write


def _planes(frame, channels: int, keep_from: int, keep_to: int):
    array = frame.to_ndarray()
    if frame.format.is_planar:
        return array[:, keep_from:keep_to]
    return array.reshape(-1, channels)[keep_from:keep_to].T


def _write(out, pending: list, at: int, channels: int, np, to_int) -> int:
    samples = np.ascontiguousarray(np.concatenate(pending, axis=1).T)
    block = to_int(samples, np.dtype("int16"))
    os.pwrite(out.fileno(), block.tobytes(), HEADER + at * channels * 2)
    return len(block)
