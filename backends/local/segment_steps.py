"""Where an MP4 track's timestamps fall behind its decoded samples, read from its index.

A worker of ``segments`` seeks and places its first frame by timestamp, where the serial loop
counts every sample from the first. Files joined from parts by stream copy keep each part's
priming packet but squeeze its timestamp, so from each join on the timestamps lag behind the
samples. The sample durations (stts) say by how much: a few runs per join, read in
milliseconds from the index (the moov box), where demuxing an hour of packets costs 0.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Steps:
    """How far a track's timestamps lag behind the samples the serial loop counts, from its MP4
    sample durations (stts). The serial loop places every frame after the one before; a worker
    that seeks places its first frame by timestamp. They agree while every packet lasts the
    ``frame`` samples it decodes to; a file joined by stream copy squeezes a part's first packet
    to a tick or so (6 parts of 2 s: 1280 samples at each join), and each packet after lags by
    what the squeezed ones lost. ``runs``: (first packet, its decode time in ticks, each one's
    duration, the lag at its start), one per stts run; empty when no packet before the last
    lasts other than ``frame``."""

    frame: int
    media_time: int  # ticks the edit list skips: a packet's timestamp is its decode time less this
    runs: tuple

    def at(self, pts: int | None, time_base, rate: int) -> int | None:
        """The lag at the packet with timestamp ``pts``; None when no packet starts there (then
        this is not the track the index was read for, or the demuxer times it otherwise)."""
        if pts is None or time_base != Fraction(1, rate):
            return None
        dts = pts + self.media_time
        for _, start, each, lag in reversed(self.runs):
            if dts >= start:
                n, off = divmod(dts - start, each)
                return None if off else lag + n * (self.frame - each)
        return None

    def before(self, position: int) -> int:
        """The lag at the packet playing ``position`` samples in by its timestamp: no less than
        the lag at output sample ``position``, which lies later by timestamp (a seek goes there)."""
        dts = position + self.media_time
        for _, start, each, lag in reversed(self.runs):
            if dts >= start:
                return lag + (dts - start) // each * (self.frame - each)
        return 0


def read_steps(path: str, index: int, rate: int) -> Steps | None:
    """The Steps of stream ``index`` (FFmpeg numbers an MP4's tracks in order), or None when its
    index is not as expected (fragments, several edits, another timescale)."""
    try:
        with open(path, "rb") as f:
            moov = _moov(f)
    except OSError:
        return None
    traks = [box for kind, *box in _boxes(moov, 0, len(moov) if moov else 0) if kind == b"trak"]
    if index >= len(traks):
        return None
    mdia = _child(moov, traks[index], b"mdia")
    stts = _child(moov, _child(moov, _child(moov, mdia, b"minf"), b"stbl"), b"stts")
    mdhd, hdlr = _child(moov, mdia, b"mdhd"), _child(moov, mdia, b"hdlr")
    if not (stts and mdhd and hdlr) or moov[hdlr[0] + 8:hdlr[0] + 12] != b"soun":
        return None
    if int.from_bytes(moov[mdhd[0] + (20 if moov[mdhd[0]] == 1 else 12):][:4], "big") != rate:
        return None
    media_time = _media_time(moov, _child(moov, _child(moov, traks[index], b"edts"), b"elst"))
    count = int.from_bytes(moov[stts[0] + 4:stts[0] + 8], "big")
    if media_time is None or not count or stts[0] + 8 + 8 * count > stts[1]:
        return None
    pairs = [(int.from_bytes(moov[at:at + 4], "big"), int.from_bytes(moov[at + 4:at + 8], "big"))
             for at in range(stts[0] + 8, stts[0] + 8 + 8 * count, 8)]
    return _steps(pairs, media_time)


def _steps(pairs: list, media_time: int) -> Steps | None:
    if any(each <= 0 for _, each in pairs):
        return None
    durations: dict = {}
    for number, each in pairs:
        durations[each] = durations.get(each, 0) + number
    frame = max(durations, key=durations.get)
    runs, first, start, lag = [], 0, 0, 0
    for number, each in pairs:
        runs.append((first, start, each, lag))
        first, start, lag = first + number, start + number * each, lag + number * (frame - each)
    # The last packet's duration is its own: nothing after it is placed by it.
    even = all(each == frame for number, each in pairs[:-1]) and (pairs[-1][0] == 1 or pairs[-1][1] == frame)
    return Steps(frame, media_time, () if even else tuple(runs))


def _moov(f) -> bytes:
    """The moov box's payload, found by reading 16 bytes per top-level box (b"": none)."""
    at = 0
    while True:
        f.seek(at)
        head = f.read(16)
        if len(head) < 8:
            return b""
        length, kind, skip = int.from_bytes(head[:4], "big"), head[4:8], 8
        if length == 1:
            length, skip = int.from_bytes(head[8:16], "big"), 16
        if length < skip:
            return b""  # a box "to the end of the file" (0) or a broken one: no moov after it anyway
        if kind == b"moov":
            f.seek(at + skip)
            return f.read(length - skip)
        at += length


def _boxes(data: bytes, start: int, end: int):
    """(kind, payload start, payload end) of each box in data[start:end]."""
    at = start
    while at + 8 <= end:
        length, kind, head = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8], 8
        if length == 1:
            length, head = int.from_bytes(data[at + 8:at + 16], "big"), 16
        if length < head or at + length > end:
            return
        yield kind, at + head, at + length
        at += length


def _child(data: bytes, box, kind: bytes):
    """The one ``kind`` box inside ``box`` (None when there is none, or several, or no box)."""
    if box is None:
        return None
    found = [(a, b) for k, a, b in _boxes(data, *box) if k == kind]
    return found[0] if len(found) == 1 else None


def _media_time(moov: bytes, elst) -> int | None:
    """The one edit's start in the media (0 without an edit list); None for several edits."""
    if elst is None:
        return 0
    version, count = moov[elst[0]], int.from_bytes(moov[elst[0] + 4:elst[0] + 8], "big")
    if count != 1:
        return None
    at = elst[0] + (16 if version == 1 else 12)
    value = int.from_bytes(moov[at:at + (8 if version == 1 else 4)], "big", signed=True)
    return value if value >= 0 else None
