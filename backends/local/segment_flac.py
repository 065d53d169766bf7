"""FLAC segments: each worker encodes its segment with libsndfile (the serial writer, so the same
libFLAC settings), then renumbers its frames; the parent writes one stream of all the frames.

Exact because FLAC is lossless and the cuts are multiples of the encoder's block size: every
frame but the very last is full, as in a serial encode, so frame k of a later segment is frame
begin/blocksize + k of the whole. A fixed-blocksize frame's header carries its frame number
(UTF-8 coded: its length can change), protected by the header's CRC-8, and the frame by a
CRC-16: both are recomputed. The CRC-16 of a frame whose header changed needs no pass over its
body: the CRC is linear, so the new one is the old one plus the header's difference carried
past the body's bytes (``_Crc16.carried``, a few table look-ups per frame).

One STREAMINFO, the first segment's, gets the total samples and the min/max frame sizes. Its MD5
of the signal cannot be composed from segments' MD5s; it is written as zeros, the format's "not
computed" (decoders then skip the check; the verification here does not use it).
"""

from __future__ import annotations

import os

GRID = 4096  # libFLAC's block size at libsndfile's default compression; checked in every worker
BITS = (16, 24)
COPY_CHUNK = 1 << 20  # bytes of frames renumbered at a time


def suits(plan) -> bool:
    return (plan.sample_bits or 16) in BITS


def reach(begin: int, end: int, total: int) -> tuple[int, int]:
    return begin, end


def start(plan, destination, total: int) -> dict:
    return {"bits": plan.sample_bits or 16, "title": plan.tags.get("title")}


def work(job):
    """What the worker wrote (see _Part), or None when it could not do it exactly."""
    try:
        return _work(job)
    except Exception:  # noqa: BLE001 - the serial path runs instead and reports the error itself
        return None
    finally:
        from .segments import remove

        remove(job.scratch)


def _work(job):
    import numpy as np
    import soundfile

    from .segments import Reader, checked
    from .sinks import _INT_SCALE, SoundfileSink, planes_to_int

    bits = job.settings["bits"]
    dtype = np.dtype("int16" if bits == 16 else "int32")
    encoded = job.temp if job.number == 0 else job.scratch  # the first keeps its numbers: no second file
    reader = Reader(job)
    written = peak = 0
    with soundfile.SoundFile(encoded, mode="w", samplerate=job.rate, channels=job.channels, format="FLAC",
                             subtype=SoundfileSink.SUBTYPES[bits]) as out:
        if job.settings["title"]:
            out.title = job.settings["title"]
        buffers: dict = {}
        for _, planes in reader.blocks():
            block = planes_to_int(planes, dtype, buffers)
            out.write(block)
            written += len(block)
            if block.size:
                peak = max(peak, int(block.max()), -int(block.min()))
    if not checked(job, reader, written):
        return None
    part = _renumber(job, encoded)
    if part is not None:
        part["samples"], part["peak"] = written, peak / _INT_SCALE[dtype.name]
    return part


def _frames(path: str):
    """(where the frames start, the size of each), from FFmpeg's FLAC parser (frames carry no
    length field); None when they do not follow one another. Sizes in an array: a long segment
    has hundreds of thousands of frames."""
    from array import array

    import av

    sizes, start, end = array("q"), None, None
    with av.open(path) as container:
        for packet in container.demux(container.streams.audio[0]):
            if not packet.size:
                continue
            if start is None:
                start = end = packet.pos
            if packet.pos != end:
                return None
            sizes.append(packet.size)
            end += packet.size
    return None if start is None else (start, sizes)


def _renumber(job, encoded: str):
    """A later segment's frames renumbered into its own file; the first segment's file as it is.
    Either way with the CRC-32 of what the joined file will hold of it past its head."""
    import zlib

    from .evidence import HEAD

    with open(encoded, "rb") as f:
        head = f.read(42)
    block_min, block_max = int.from_bytes(head[8:10], "big"), int.from_bytes(head[10:12], "big")
    if head[:4] != b"fLaC" or block_min != block_max or job.begin % block_max:
        return None  # not the fixed block size the cuts were placed on
    frames = _frames(encoded)
    if frames is None or frames[0] + sum(frames[1]) != os.path.getsize(encoded):
        return None  # the parser did not account for every byte
    (metadata, sizes), crc = frames, 0
    if job.number == 0:
        with open(encoded, "rb") as f:
            f.seek(HEAD)
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
    else:
        with open(encoded, "rb") as source, open(job.temp, "wb") as out:
            source.seek(metadata)
            crc = _copy_renumbered(source, out, job.begin // block_max, sizes)
        if crc is None:
            return None
    return {"path": job.temp, "metadata": metadata if job.number == 0 else 0, "min_frame": min(sizes),
            "max_frame": max(sizes), "bytes": os.path.getsize(job.temp), "block": block_max, "crc": crc}


def _utf8_number(value: int) -> bytes:
    """FLAC's UTF-8-like coding of a frame number (up to 36 bits, so up to 7 bytes)."""
    if value < 0x80:
        return bytes([value])
    length = 2
    while value >= 1 << (5 * length + 1):
        length += 1
    tail = [0x80 | (value >> (6 * k)) & 0x3F for k in range(length - 2, -1, -1)]
    return bytes([(0xFF << (8 - length)) & 0xFF | value >> (6 * (length - 1))] + tail)


def _renumbered_parts(frame: memoryview, number: int, crc16: _Crc16) -> tuple | None:
    """(new header, the untouched body, new CRC-16): the body stays a view, copied once when
    the output is written."""
    if frame[0] != 0xFF or frame[1] != 0xF8:
        return None  # not a fixed-blocksize frame
    first = frame[4]
    length = 1 if first < 0x80 else 8 - (~first & 0xFF).bit_length()
    block_code, rate_code = frame[2] >> 4, frame[2] & 0x0F
    extra = {6: 1, 7: 2}.get(block_code, 0) + {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    after = 4 + length + extra  # where the CRC-8 is
    old_header = bytes(frame[:after + 1])
    header = old_header[:4] + _utf8_number(number) + old_header[4 + length:after]
    header += bytes([_crc8(header)])
    body = len(frame) - len(old_header) - 2
    old_crc = int.from_bytes(frame[-2:], "big")
    new_crc = old_crc ^ crc16.carried(crc16.of(old_header) ^ crc16.of(header), body)
    return header, frame[after + 1:-2], new_crc.to_bytes(2, "big")


def _copy_renumbered(source, out, number: int, sizes) -> int | None:
    """The frames of ``sizes`` from ``source`` into ``out``, numbered from ``number``, read and
    written a megabyte at a time (per-frame reads, writes and CRC calls cost a third of the
    renumbering); ``sizes`` becomes the new frames' sizes. The CRC-32 of what was written, or
    None when a frame is not as expected."""
    import zlib

    crc16, crc, k = _Crc16(), 0, 0
    while k < len(sizes):
        end, total = k + 1, sizes[k]
        while end < len(sizes) and total + sizes[end] <= COPY_CHUNK:
            total += sizes[end]
            end += 1
        data = memoryview(source.read(total))
        if len(data) != total:
            return None
        pieces, at = [], 0
        for j in range(k, end):
            parts = _renumbered_parts(data[at:at + sizes[j]], number + j, crc16)
            if parts is None:
                return None
            at += sizes[j]
            sizes[j] = len(parts[0]) + len(parts[1]) + 2
            pieces.extend(parts)
        chunk = b"".join(pieces)
        out.write(chunk)
        crc = zlib.crc32(chunk, crc)
        k = end
    return crc


def _table(poly: int, width: int) -> list[int]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        register = byte << (width - 8)
        for _ in range(8):
            register = ((register << 1) ^ poly if register & top else register << 1) & mask
        table.append(register)
    return table


_CRC8 = _table(0x07, 8)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


class _Crc16:
    """FLAC's frame CRC-16 (polynomial 0x8005, zero start, not reflected). Appending a zero byte
    multiplies the register by x^8 modulo the polynomial, a linear map: ``steps[j]`` holds it for
    2^j zero bytes as two 256-entry tables (the register's low and high byte)."""

    def __init__(self):
        self.table = _table(0x8005, 16)
        low = [self._zero_byte(b) for b in range(256)]
        high = [self._zero_byte(b << 8) for b in range(256)]
        self.steps = [(low, high)]
        for _ in range(24):  # up to 16 MB of body, past any frame's size
            low, high = self.steps[-1]
            twice = [high[v >> 8] ^ low[v & 0xFF] for v in (low[b] for b in range(256))]
            twice_high = [high[v >> 8] ^ low[v & 0xFF] for v in (high[b] for b in range(256))]
            self.steps.append((twice, twice_high))

    def _zero_byte(self, register: int) -> int:
        return ((register << 8) & 0xFFFF) ^ self.table[register >> 8]

    def of(self, data: bytes) -> int:
        crc, table = 0, self.table
        for byte in data:
            crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
        return crc

    def carried(self, register: int, count: int) -> int:
        """``register`` after ``count`` zero bytes."""
        step = 0
        while count:
            if count & 1:
                low, high = self.steps[step]
                register = low[register & 0xFF] ^ high[register >> 8]
            count >>= 1
            step += 1
        return register


def join(plan, destination, jobs, results):
    """The first segment's file, its STREAMINFO rewritten and the later segments' frames appended
    (copied in the kernel), becomes the output; its evidence is composed from the workers' CRCs."""
    from backends.base import Evidence

    from .evidence import HEAD
    from .segment_wav import crc32_combine
    from .segments import report

    samples = sum(part["samples"] for part in results)
    first = results[0]
    if len({part["block"] for part in results}) != 1 or first["bytes"] < HEAD:
        return None
    with open(first["path"], "r+b") as out:
        metadata = bytearray(out.read(42))
        _patch_streaminfo(metadata, samples, min(p["min_frame"] for p in results), max(p["max_frame"] for p in results))
        out.seek(0)
        out.write(metadata)  # inside the head: the CRC of what follows holds
        out.seek(0, os.SEEK_END)
        crc = first["crc"]
        for part in results[1:]:
            with open(part["path"], "rb") as source:
                _append(source, out, part["bytes"])
            crc = crc32_combine(crc, part["crc"], part["bytes"])
        size = out.tell()
    os.replace(first["path"], destination)
    evidence = Evidence(samples=samples, file_size=size, head=HEAD, tail_crc=crc,
                        peak=max(part["peak"] for part in results))
    return report(plan, destination, samples, evidence, len(jobs))


def _append(source, out, count: int) -> None:
    out.flush()
    left = count
    try:
        while left:
            copied = os.copy_file_range(source.fileno(), out.fileno(), left)
            if not copied:
                break
            left -= copied
    except (AttributeError, OSError) as exc:  # no copy_file_range here, or not across these files
        if isinstance(exc, OSError) and exc.errno not in (18, 22, 38, 95):  # EXDEV, EINVAL, ENOSYS, EOPNOTSUPP
            raise
    if left:
        source.seek(count - left)
        while left:
            chunk = source.read(min(left, 1 << 20))
            if not chunk:
                raise OSError("a segment file ended early")
            out.write(chunk)
            left -= len(chunk)
    out.seek(0, os.SEEK_END)


def _patch_streaminfo(metadata: bytearray, samples: int, min_frame: int, max_frame: int) -> None:
    """STREAMINFO is the first block, its body at byte 8: frame sizes at 4 and 7 (24 bits each),
    the total samples in the low 36 bits of the 64 at 10, the MD5 at 18."""
    metadata[12:15] = min_frame.to_bytes(3, "big")
    metadata[15:18] = max_frame.to_bytes(3, "big")
    packed = int.from_bytes(metadata[18:26], "big")
    packed = (packed & ~((1 << 36) - 1)) | samples
    metadata[18:26] = packed.to_bytes(8, "big")
    metadata[26:42] = bytes(16)
