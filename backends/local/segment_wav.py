"""WAV segments: PCM needs no encoder state across a seam, so every worker writes its samples
straight into their place in the one output file (pwrite at the sample's offset), and the joined
file is byte for byte the serial one (tests/test_segments.py).

The evidence verification checks (size, CRC-32 of the bytes past the header) is composed from
the workers' CRCs with ``crc32_combine``: no second read of the file.
"""

from __future__ import annotations

import os
import struct
import zlib

from .evidence import HEAD

GRID = 1  # PCM has no frames: any sample is a cut
HEADER = 44  # a canonical PCM WAV header
MAX_RIFF = 0xFFFFFFFF  # the RIFF chunk's 32-bit size


def suits(plan) -> bool:
    # More than two channels take WAV's extensible header in the serial writer (it names the
    # speakers); this canonical header does not, so those stay serial. Nor can its 32-bit sizes
    # hold more than 4 GiB (10 hours of 48 kHz stereo).
    data = round((plan.expected_duration or 0) * plan.sample_rate) * plan.channels * 2
    return (plan.sample_bits or 16) == 16 and not plan.codec.startswith("pcm_f") and plan.channels <= 2 \
        and HEADER - 8 + data <= MAX_RIFF


def reach(begin: int, end: int, total: int) -> tuple[int, int]:
    return begin, end


def start(plan, destination, total: int) -> dict:
    """The output file, at its final size with its header, which the workers fill in."""
    with open(destination, "wb") as f:
        f.write(_wav_header(total, plan.sample_rate, plan.channels))
        f.truncate(HEADER + total * plan.channels * 2)
    return {"destination": str(destination)}


def _wav_header(frames: int, rate: int, channels: int) -> bytes:
    data = frames * channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16) + b"data" + struct.pack("<I", data))


def work(job):
    """(samples written, CRC-32 and length of the bytes written past HEAD, peak); None on failure."""
    try:
        return _work(job)
    except Exception:  # noqa: BLE001 - the serial path runs instead and reports the error itself
        return None


def _work(job):
    import numpy as np

    from .segments import Reader, checked
    from .sinks import planes_to_int

    reader = Reader(job)
    written = crc = hashed = peak = 0
    int16 = np.dtype("int16")
    buffers: dict = {}
    with open(job.settings["destination"], "r+b") as out:
        for at, planes in reader.blocks():
            # The serial sink's conversion (bytes identical), written and hashed from its buffer.
            block = planes_to_int(planes, int16, buffers)
            data = memoryview(np.ascontiguousarray(block)).cast("B")
            offset = HEADER + at * job.channels * 2
            os.pwrite(out.fileno(), data, offset)
            skip = max(0, min(len(data), HEAD - offset))
            crc = zlib.crc32(data[skip:], crc)
            hashed += len(data) - skip
            written += len(block)
            if block.size:
                peak = max(peak, int(block.max()), -int(block.min()))
    if not checked(job, reader, written):
        return None
    return written, crc, hashed, peak


def join(plan, destination, jobs, results):
    from backends.base import Evidence

    from .segments import report

    crc = 0
    for _, part_crc, length, _ in results:
        crc = crc32_combine(crc, part_crc, length)
    samples = sum(result[0] for result in results)
    size = HEADER + samples * plan.channels * 2
    if samples != jobs[-1].end:  # the last worker kept audio past the declared end: the header says so
        if size - 8 > MAX_RIFF:
            return None
        with open(destination, "r+b") as f:
            f.write(_wav_header(samples, plan.sample_rate, plan.channels))  # inside HEAD: the CRC holds
    evidence = Evidence(samples=samples, file_size=size, head=min(HEAD, size), tail_crc=crc,
                        peak=max(result[3] for result in results) / (1 << 15))
    return report(plan, destination, samples, evidence, len(jobs))


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """zlib's crc32_combine: the CRC-32 of A+B from crc(A), crc(B) and len(B), in log(len) steps
    (Python's zlib does not export it). Appending a zero bit is a linear map on the CRC register;
    squaring its matrix doubles the bits appended."""
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    even = _square(odd)  # two zero bits
    odd = _square(even)  # four
    while True:
        even = _square(odd)  # a byte, then 2, 4, ... bytes of zeros
        if length2 & 1:
            crc1 = _times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _square(even)
        if length2 & 1:
            crc1 = _times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def _times(matrix: list, vector: int) -> int:
    result, row = 0, 0
    while vector:
        if vector & 1:
            result ^= matrix[row]
        vector >>= 1
        row += 1
    return result


def _square(matrix: list) -> list:
    return [_times(matrix, matrix[n]) for n in range(32)]
