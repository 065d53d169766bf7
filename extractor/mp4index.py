"""The sample index of an MP4/M4A file with one audio track, read from its boxes.

What FFmpeg's MP4 demuxer hands back is fixed by this index: the sample sizes (stsz), the
chunks they are stored in (stsc, stco/co64) and their durations (stts). Reading it costs a
few milliseconds, where demuxing an hour of AAC costs 170k PyAV packets (about 0.3 s), so
``proof`` checks a copy's index and the bytes it points at instead (see ``tiled_crc``).
Anything this reader does not expect (a second track, composition offsets, an edit list
that drops samples, chunks outside the media data) gives None, and the caller demuxes.
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass
from itertools import chain, repeat
from operator import sub

_READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class SampleIndex:
    sizes: array  # bytes of each sample, in order
    chunks: list  # (file offset, samples) of each chunk, in order
    ticks: int  # the samples' durations added up, in the track's timescale
    timescale: int
    data: tuple[int, int]  # (start, end) of the media data's payload in the file
    skipped: int = 0  # ticks before the edit list's start (AAC priming): decoded, then dropped


def boxes(data: bytes, start: int, end: int):
    """(kind, payload start, payload end) of each box between ``start`` and ``end``."""
    at = start
    while at + 8 <= end:
        length, kind, head = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8], 8
        if length == 1:
            length, head = int.from_bytes(data[at + 8:at + 16], "big"), 16
        elif length == 0:
            length = end - at
        if length < head or at + length > end:
            return
        yield kind, at + head, at + length
        at += length


def find(data: bytes, box: tuple[int, int] | None, *path: bytes) -> tuple[int, int] | None:
    """The payload of the box reached from ``box`` by the kinds in ``path``, one level each;
    None when a level has no such box, or several."""
    for kind in path:
        if box is None:
            return None
        inner = [(a, b) for k, a, b in boxes(data, *box) if k == kind]
        box = inner[0] if len(inner) == 1 else None
    return box


def one_edit(moov: bytes, elst) -> tuple[int, int] | None:
    """(duration in the movie's timescale, start in the media's) of an edit list's only edit
    when it starts inside the media, (0, 0) without an edit list; None for any other list."""
    if elst is None:
        return 0, 0
    start = elst[0]
    version, count = moov[start], _u32(moov, start + 4)
    if count != 1:
        return None
    if version == 1:
        duration = int.from_bytes(moov[start + 8:start + 16], "big")
        media_time = int.from_bytes(moov[start + 16:start + 24], "big", signed=True)
    else:
        duration = _u32(moov, start + 8)
        media_time = int.from_bytes(moov[start + 12:start + 16], "big", signed=True)
    return None if media_time < 0 else (duration, media_time)


def _children(data: bytes, start: int, end: int) -> dict:
    """The boxes inside a box by kind; a kind seen twice maps to None (not a file we expect)."""
    found: dict = {}
    for kind, a, b in boxes(data, start, end):
        found[kind] = None if kind in found else (a, b)
    return found


_PADDING = frozenset({b"free", b"skip", b"wide"})


def _top_level(f, size: int) -> dict | None:
    """The top-level boxes' payloads by kind, when they tile the file. Padding boxes may repeat;
    so may the media data (some encoders write two mdat boxes): its range is then from the
    first one's payload to the last one's end."""
    found: dict = {}
    at = 0
    while at + 8 <= size:
        f.seek(at)
        head = f.read(16)
        length, kind, skip = int.from_bytes(head[:4], "big"), head[4:8], 8
        if length == 1 and len(head) == 16:
            length, skip = int.from_bytes(head[8:16], "big"), 16
        elif length == 0:
            length = size - at
        if length < skip or at + length > size:
            return None
        if kind == b"mdat" and kind in found:
            found[kind] = (found[kind][0], at + length)
        elif kind in found and kind not in _PADDING:
            return None
        else:
            found[kind] = (at + skip, at + length)
        at += length
    return found if at == size else None


def read_index(path) -> SampleIndex | None:
    """The one audio track's sample index, or None when the file is not as simple as expected."""
    found = read_moov(path)
    if found is None:
        return None
    moov, mdat = found
    traks = [(a, b) for kind, a, b in boxes(moov, 0, len(moov)) if kind == b"trak"]
    if len(traks) != 1:
        return None
    return track_index(moov, *traks[0], mdat)


def read_moov(path) -> tuple[bytes, tuple[int, int]] | None:
    """(the moov box's payload, the media data's (start, end)) of a file made of top-level boxes
    with one moov and one mdat; None for any other file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            top = _top_level(f, size)
            if not top or not top.get(b"moov") or not top.get(b"mdat"):
                return None
            moov_start, moov_end = top[b"moov"]
            f.seek(moov_start)
            moov = f.read(moov_end - moov_start)
    except OSError:
        return None
    return moov, top[b"mdat"]


def _inside(moov: bytes, box, *kinds) -> dict | None:
    """The boxes of ``kinds`` inside ``box`` (the ones present); None if one of them is there twice."""
    children = _children(moov, *box)
    found = {kind: children[kind] for kind in kinds if kind in children}
    return None if any(value is None for value in found.values()) else found


def track_index(moov: bytes, start: int, end: int, data: tuple[int, int]) -> SampleIndex | None:
    trak = _inside(moov, (start, end), b"mdia", b"edts")
    mdia = trak and b"mdia" in trak and _inside(moov, trak[b"mdia"], b"mdhd", b"hdlr", b"minf")
    minf = mdia and b"minf" in mdia and _inside(moov, mdia[b"minf"], b"stbl")
    stbl = minf and b"stbl" in minf and _inside(moov, minf[b"stbl"], b"stts", b"stsc", b"stsz", b"stco",
                                                 b"co64", b"ctts", b"stz2")
    if not stbl or any(kind not in mdia for kind in (b"mdhd", b"hdlr")):
        return None
    if any(kind not in stbl for kind in (b"stts", b"stsc", b"stsz")) or b"stz2" in stbl:
        return None
    if b"ctts" in stbl and not _no_offsets(moov, *stbl[b"ctts"]):
        return None
    if moov[mdia[b"hdlr"][0] + 8:mdia[b"hdlr"][0] + 12] != b"soun":
        return None
    elst = None
    if b"edts" in trak:
        edits = _inside(moov, trak[b"edts"], b"elst")
        if edits is None:
            return None
        elst = edits.get(b"elst")
    timescale = _timescale(moov, *mdia[b"mdhd"])
    sizes = _sizes(moov, *stbl[b"stsz"])
    chunks = _chunks(moov, stbl, len(sizes) if sizes is not None else 0)
    if not timescale or sizes is None or chunks is None:
        return None
    ticks = _ticks(moov, *stbl[b"stts"])
    skipped = None if ticks is None else _edit_start(moov, elst, ticks, timescale, _movie_scale(moov))
    if skipped is None:
        return None
    return SampleIndex(sizes=sizes, chunks=chunks, ticks=ticks, timescale=timescale, data=data, skipped=skipped)


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "big")


def _table(data: bytes, start: int, count: int, code: str = "I") -> array:
    table = array(code)
    table.frombytes(data[start:start + count * table.itemsize])
    if table.itemsize > 1 and array("H", [1]).tobytes()[0] == 1:  # little-endian machine
        table.byteswap()
    return table


def _timescale(moov: bytes, start: int, _end: int) -> int:
    return _u32(moov, start + (20 if moov[start] == 1 else 12))


def _movie_scale(moov: bytes) -> int | None:
    found = _children(moov, 0, len(moov)).get(b"mvhd")
    if found is None:
        return None
    start = found[0]
    return _u32(moov, start + (20 if moov[start] == 1 else 12))


def _sizes(moov: bytes, start: int, end: int) -> array | None:
    fixed, count = _u32(moov, start + 4), _u32(moov, start + 8)
    if fixed:
        return array("I", [fixed]) * count
    if start + 12 + 4 * count > end:
        return None
    return _table(moov, start + 12, count)


def _chunks(moov: bytes, boxes: dict, samples: int) -> list | None:
    """(offset, samples) per chunk, from stsc's runs and stco's (or co64's) offsets."""
    if boxes.get(b"stco") is not None and b"co64" not in boxes:
        start, end = boxes[b"stco"]
        count, code = _u32(moov, start + 4), "I"
    elif boxes.get(b"co64") is not None and b"stco" not in boxes:
        start, end = boxes[b"co64"]
        count, code = _u32(moov, start + 4), "Q"
    else:
        return None
    if start + 8 + count * (4 if code == "I" else 8) > end:
        return None
    offsets = _table(moov, start + 8, count, code)
    run_start, run_end = boxes[b"stsc"]
    runs = _u32(moov, run_start + 4)
    if run_start + 8 + 12 * runs > run_end or not runs:
        return None
    table = _table(moov, run_start + 8, 3 * runs)
    # Runs of chunks: (first chunk, samples per chunk); each lasts to the next run's first chunk.
    # Interleaved with video, a file has a run per chunk or two (100k in an hour): C-level maps.
    firsts, each = table[0::3], table[1::3]
    lasts = firsts[1:]
    lasts.append(count + 1)
    spans = list(map(sub, lasts, firsts))
    if firsts[0] < 1 or min(spans) < 1:
        return None
    per_chunk = list(chain.from_iterable(map(repeat, each, spans)))
    if len(per_chunk) != count or sum(per_chunk) != samples:
        return None
    return list(zip(offsets, per_chunk))


def _no_offsets(moov: bytes, start: int, end: int) -> bool:
    """A composition offset table whose offsets are all zero (iTunes writes one for AAC): the
    samples' times are then their decoding times, as without it."""
    runs = _u32(moov, start + 4)
    if start + 8 + 8 * runs > end:
        return False
    return not any(_table(moov, start + 8, 2 * runs)[1::2])


def _ticks(moov: bytes, start: int, end: int) -> int | None:
    runs = _u32(moov, start + 4)
    if start + 8 + 8 * runs > end:
        return None
    table = _table(moov, start + 8, 2 * runs)
    return sum(table[2 * n] * table[2 * n + 1] for n in range(runs))


def _edit_start(moov: bytes, elst, ticks: int, timescale: int, movie_scale: int | None) -> int | None:
    """The ticks the edit list skips at the start (0: no edit list) when it has one edit that
    starts inside the first samples and lasts to the end: the demuxer then hands back every
    sample (the ones before the edit carry the priming to skip). None for any other edit list."""
    if elst is None:
        return 0
    edit = one_edit(moov, elst)
    if edit is None or not movie_scale:
        return None
    duration, media_time = edit
    # The edit's length is in the movie's timescale; it must reach the last sample's end.
    if duration * timescale < (ticks - media_time) * movie_scale - movie_scale * timescale // 1000:
        return None
    return media_time


def tiled_crc(path, index: SampleIndex) -> tuple[int, int] | None:
    """(bytes, CRC-32) of the samples, in order, when the chunks lie one after another from the
    start of the media data to its end, exactly (else None). Then the file's bytes there are the
    samples' bytes and nothing else, so their CRC is the demuxed packets' running CRC."""
    at, stop = index.data
    sample = 0
    sizes = index.sizes
    for offset, count in index.chunks:
        if offset != at:
            return None
        at += sum(sizes[sample:sample + count])
        sample += count
    if at != stop:
        return None
    crc = 0
    start = index.data[0]
    try:
        with open(path, "rb") as f:
            f.seek(start)
            left = stop - start
            while left > 0:
                block = f.read(min(_READ_BLOCK, left))
                if not block:
                    return None
                crc = zlib.crc32(block, crc)
                left -= len(block)
    except OSError:
        return None
    return stop - start, crc
