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

from extractor.mp4index import boxes, find, one_edit, read_moov


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
    found = read_moov(path)
    moov = found[0] if found is not None else b""
    traks = [box for kind, *box in boxes(moov, 0, len(moov)) if kind == b"trak"]
    if index >= len(traks):
        return None
    mdia = find(moov, traks[index], b"mdia")
    stts = find(moov, mdia, b"minf", b"stbl", b"stts")
    mdhd, hdlr = find(moov, mdia, b"mdhd"), find(moov, mdia, b"hdlr")
    if not (stts and mdhd and hdlr) or moov[hdlr[0] + 8:hdlr[0] + 12] != b"soun":
        return None
    if int.from_bytes(moov[mdhd[0] + (20 if moov[mdhd[0]] == 1 else 12):][:4], "big") != rate:
        return None
    edit = one_edit(moov, find(moov, traks[index], b"edts", b"elst"))
    count = int.from_bytes(moov[stts[0] + 4:stts[0] + 8], "big")
    if edit is None or not count or stts[0] + 8 + 8 * count > stts[1]:
        return None
    pairs = [(int.from_bytes(moov[at:at + 4], "big"), int.from_bytes(moov[at + 4:at + 8], "big"))
             for at in range(stts[0] + 8, stts[0] + 8 + 8 * count, 8)]
    return _steps(pairs, edit[1])


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
