"""Keeping count of what the engine writes, so verification can prove the file from it.

``PacketWitness`` sees every payload on its way into an FFmpeg muxer; ``HashingFile`` is the
file object our own writers (libsndfile, LAME) write through. Both end in a
``backends.base.Evidence``. CRC-32 (zlib) rather than a cryptographic hash: it guards against
damage, not against an adversary, and costs about a tenth of MD5 per byte.
"""

from __future__ import annotations

import io
import zlib

from backends.base import Evidence

HEAD = 4096  # bytes at a file's start a writer may rewrite on close (WAV/FLAC header, LAME tag frame)


class PacketWitness:
    """Count, bytes, CRC-32 and timestamp span of the packets handed to a muxer."""

    def __init__(self, adts: bool = False):
        self.evidence = Evidence()
        # AAC read from ADTS or MPEG-TS comes with an ADTS header on every frame; muxers take it
        # off (MP4 and Matroska keep the bare frame; the ADTS muxer writes a header of its own),
        # so the payload a file holds, and verification counts, is the frame without it.
        self.adts = adts
        self._time_base = None  # of the first packet; every packet of one stream shares it
        self._first = None  # ticks: integer arithmetic per packet, one conversion at the end
        self._end = None
        self._lead = self._before_zero = 0  # ticks, of the first packet: see Evidence.lead, before_zero

    def add(self, packet) -> None:
        """Record ``packet`` before it is muxed (muxing takes its data away)."""
        size = packet.size
        if size == 0:  # an encoder's last word (new extradata only): no file holds it as a packet
            return
        ev = self.evidence
        ev.packets += 1
        payload = packet
        if self.adts:
            payload = adts_payload(packet)
            size = len(payload)
        ev.payload_bytes += size
        ev.payload_crc = zlib.crc32(payload, ev.payload_crc)
        pts = packet.pts
        if pts is None:
            return
        if self._time_base is None:
            self._time_base = packet.time_base
            dts = packet.dts
            self._lead = pts - dts if dts is not None and pts > dts else 0
            self._before_zero = max(0, -pts)
        end = pts + (packet.duration or 0)
        if self._first is None or pts < self._first:
            self._first = pts
        if self._end is None or end > self._end:
            self._end = end

    def figures(self) -> tuple:
        """(packets, bytes, CRC, first tick, end tick) so far, for a loop that keeps them in local
        names (the stream copy's) and hands them back with ``set_figures``."""
        ev = self.evidence
        return ev.packets, ev.payload_bytes, ev.payload_crc, self._first, self._end

    def set_figures(self, packets: int, size: int, crc: int, first, end) -> None:
        ev = self.evidence
        ev.packets, ev.payload_bytes, ev.payload_crc, self._first, self._end = packets, size, crc, first, end

    def result(self, samples: int | None = None) -> Evidence:
        ev = self.evidence
        known = self._first is not None and self._time_base is not None
        ev.span = float((self._end - self._first) * self._time_base) if known else None
        ev.lead = float(self._lead * self._time_base) if known else 0.0
        ev.before_zero = float(self._before_zero * self._time_base) if known else 0.0
        ev.samples = samples
        return ev


def adts_payload(packet) -> memoryview:
    """An AAC frame without its ADTS header (7 bytes, or 9 with a CRC); a packet without one whole."""
    data = memoryview(packet)
    if len(data) >= 7 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0:
        return data[7 if data[1] & 1 else 9:]
    return data


class HashingFile(io.RawIOBase):
    """A writable, seekable file that keeps a CRC-32 of everything written past ``HEAD``.

    Our writers append, and rewrite only their header when they close (libsndfile's WAV and FLAC
    headers, LAME's tag frame), so the bytes past the head are written once, in order. A write
    past the head anywhere but at the end would break that; it makes the evidence unusable
    (``evidence()`` returns None) rather than wrong."""

    def __init__(self, path):
        super().__init__()
        self._file = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._end = 0  # bytes written so far
        self._crc = 0
        self._broken = False
        # The first write error. libsndfile calls write() from C, where an exception cannot travel
        # (cffi would print a traceback); it is kept here and raised by the sink instead.
        self.error: OSError | None = None

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = memoryview(data).cast("B")
        at = self._file.tell()
        try:
            written = self._file.write(data)
        except OSError as exc:
            self.error = self.error or exc
            return 0
        stop = at + written
        if stop > HEAD:
            if max(at, HEAD) != max(self._end, HEAD):
                self._broken = True  # an overwrite of hashed bytes, or a hole: not in order
            else:
                self._crc = zlib.crc32(data[max(0, HEAD - at):written], self._crc)
        self._end = max(self._end, stop)
        return written

    def readinto(self, buffer) -> int:
        return self._file.readinto(buffer)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes first
            self._file.close()

    def evidence(self, samples: int, peak: float | None = None) -> Evidence | None:
        if self._broken:
            return None
        return Evidence(samples=samples, file_size=self._end, head=min(HEAD, self._end),
                        tail_crc=self._crc, peak=peak)

