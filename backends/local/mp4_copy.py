"""Stream copy of an MP4/MOV audio track into an M4A by its sample index, without a demuxer.

An MP4's audio track is its index (the sample table: sizes, chunks, durations, the codec's
sample entry, the edit list) plus the bytes the chunks point at. Copying that track verbatim
and the chunks' bytes one after another into a new file gives an M4A that decodes to exactly
the source's samples, as FFmpeg's own stream copy does, with no packet loop at all: an hour of
AAC is 170k packets, about 0.5 s through PyAV, and a few thousand reads this way. Only the
chunk tables change (stsc, stco/co64), and the track keeps every other box of its index as it was.

Anything this copy does not expect (a fragmented file, a track shared with other files, an
edit list that cuts or delays, chapters to write, a codec other than AAC or ALAC) is left to
the packet loop in ``copy.py``: ``copy_by_index`` returns None before it writes anything.
"""

from __future__ import annotations

import os
import struct
import zlib
from bisect import bisect_right
from collections import deque
from itertools import accumulate, pairwise, repeat
from operator import add, floordiv, sub
from pathlib import Path

from backends.base import Evidence, RunReport
from extractor.errors import DamagedInput
from extractor.mp4index import boxes, find, read_moov, track_index

from .source import check_complete
from .tags import Carry

SAMPLE_ENTRIES = frozenset({b"mp4a", b"alac"})  # what the ipod/mp4 muxers take and verification knows
# The M4A muxer's: it keeps a track's language (mdhd, copied) and drops its title, as this copy does.
MUXERS = frozenset({"ipod"})
BRANDS = {"ipod": (b"M4A ", [b"M4A ", b"isom", b"iso2"])}
# Chunks closer than this are read in one request, the bytes between them (video) read and
# dropped: a system call costs about as much as copying this many bytes from the page cache.
JOIN_GAP = 32 * 1024
READ_LIMIT = 4 << 20  # bytes per read request at most
OUT_CHUNK = 64  # samples per chunk in the copy (AAC: 1.4 s at 48 kHz)
PAGE = 4096
SPARSE = 0.5  # audio pages under this share of the file: fetch only them from storage
CACHE_PROBES = 16
SPARSE_BATCH = 1024  # chunks per write
SPARSE_AHEAD = 8192  # chunks whose pages are asked for before they are read
ADVICE_GAP = 24 * 1024  # chunks closer than this are asked for in one range
KEEP_IN_TRAK = (b"tkhd", b"edts", b"mdia")  # a track's boxes the copy keeps (tref, udta name other tracks or tags)


def suits(plan) -> bool:
    """A whole-track copy of an MP4/MOV track into an M4A, with nothing to cut, shift or add."""
    from extractor.policy import MOV_DEMUXER

    spec = plan.spec
    return (plan.is_copy and plan.format.muxer in MUXERS and plan.source.container == MOV_DEMUXER
            and not plan.start and plan.end is None and not plan.shift and not spec.trims
            and not spec.salvage and not plan.lead_silence and plan.track.codec in ("aac", "alac"))


def copy_by_index(plan, destination: Path) -> RunReport | None:
    """Copy the plan's track into ``destination``; None (nothing written) when this file is not
    one the index copy takes, and the packet loop should copy it instead."""
    if not suits(plan) or Carry(plan).chapters:  # chapters: PyAV's muxer writes MP4 chapters
        return None
    found = read_moov(plan.source.path)
    if found is None:
        return None
    moov, mdat = found
    track = _the_track(moov, plan.track.index)
    if track is None:
        return None
    index = track_index(moov, *track, mdat)
    evidence = None if index is None or not index.sizes else _copy(plan, destination, moov, track, index, mdat)
    if evidence is None:
        return None
    report = RunReport(backend="local", packets=len(index.sizes), evidence=evidence)
    report.written_duration = (index.ticks - index.skipped) / index.timescale
    check_complete(plan, report)
    return report


def _the_track(moov: bytes, number: int) -> tuple[int, int] | None:
    """The trak box of the stream FFmpeg numbers ``number`` (one stream per trak, in order), if
    the file is a whole one (not fragmented) and the track's data lies in this file."""
    top = list(boxes(moov, 0, len(moov)))
    if any(kind == b"mvex" for kind, _, _ in top):
        return None
    traks = [(a, b) for kind, a, b in top if kind == b"trak"]
    if number >= len(traks):
        return None
    trak = traks[number]
    stsd = find(moov, trak, b"mdia", b"minf", b"stbl", b"stsd")
    dref = find(moov, trak, b"mdia", b"minf", b"dinf", b"dref")
    if stsd is None or dref is None or moov[stsd[0] + 12:stsd[0] + 16] not in SAMPLE_ENTRIES:
        return None
    if int.from_bytes(moov[stsd[0] + 4:stsd[0] + 8], "big") != 1 or not _self_contained(moov, dref):
        return None
    return trak


def _self_contained(moov: bytes, dref: tuple[int, int]) -> bool:
    """Every data reference says "in this file" (flag 1): otherwise the samples live elsewhere."""
    start, end = dref
    entries = list(boxes(moov, start + 8, end))
    return bool(entries) and all(moov[a + 3] & 1 for _, a, _ in entries)


def _copy(plan, destination: Path, moov: bytes, track: tuple[int, int], index, mdat) -> Evidence | None:
    """ftyp, mdat with the samples one after another, then the moov (so nothing moves once
    written); None, with nothing written, when a chunk lies outside the media data."""
    offsets, lengths = _source_chunks(index)
    if not offsets or min(offsets) < mdat[0] or max(map(add, offsets, lengths)) > mdat[1]:
        return None
    major, compatible = BRANDS[plan.format.muxer]
    ftyp = _box(b"ftyp", major + struct.pack(">I", 512) + b"".join(compatible))
    payload = sum(lengths)
    head = _box_head(b"mdat", payload)
    with open(plan.source.path, "rb", buffering=0) as source, open(destination, "wb") as out:
        out.write(ftyp + head)
        crc = _copy_chunks(plan, source.fileno(), out, offsets, lengths)
        stsc, offsets = _new_chunks(index, len(ftyp) + len(head))
        new = {b"stsc": stsc, b"stco": offsets, b"co64": offsets, b"mdhd": _media_header(moov, track, plan)}
        out.write(_box(b"moov", _new_moov(moov, track, new)))
    return Evidence(packets=len(index.sizes), payload_bytes=payload, payload_crc=crc,
                    span=index.ticks / index.timescale, before_zero=index.skipped / index.timescale)


def _source_chunks(index) -> tuple[list[int], list[int]]:
    """The source's chunks: offsets, and lengths in bytes (from the running total of sample sizes)."""
    total = list(accumulate(index.sizes, initial=0))
    first = list(accumulate((count for _, count in index.chunks), initial=0))
    return [offset for offset, _ in index.chunks], [total[b] - total[a] for a, b in pairwise(first)]


def _new_chunks(index, start: int) -> tuple[bytes, bytes]:
    """The copy's sample-to-chunk and chunk-offset boxes: its samples lie one after another from
    ``start``, so they are regrouped into chunks of OUT_CHUNK samples (the source's own grouping
    follows its interleaving with video, about a chunk per packet: an index 40 times longer)."""
    count = len(index.sizes)
    total = list(accumulate(index.sizes, initial=start))
    offsets = total[0:count:OUT_CHUNK]
    full, rest = divmod(count, OUT_CHUNK)
    runs = [(1, OUT_CHUNK, 1)] if full else []
    if rest:
        runs.append((full + 1, rest, 1))
    stsc = _box(b"stsc", struct.pack(f">II{3 * len(runs)}I", 0, len(runs), *(n for run in runs for n in run)))
    if offsets[-1] > 0xFFFFFFFF:
        return stsc, _box(b"co64", struct.pack(f">II{len(offsets)}Q", 0, len(offsets), *offsets))
    return stsc, _box(b"stco", struct.pack(f">II{len(offsets)}I", 0, len(offsets), *offsets))


def _copy_chunks(plan, fd: int, out, offsets: list[int], lengths: list[int]) -> int:
    """Read the chunks in order and write them one after another; the CRC-32 of all that was
    written. Per chunk only C-level maps run: an hour-long recording interleaved with video has
    a chunk per packet or two (100k). When the audio is a small part of the file, only its pages
    are read (``_copy_sparse``); else neighbours are read in one request (see ``_requests``).
    Both cost about the same from the page cache; from storage the first fetches a quarter of
    an interleaved 720p file and the second all of it."""
    ends = list(map(add, offsets, lengths))
    if _sparse(offsets, ends):
        return _copy_sparse(plan, fd, out, offsets, lengths)
    crc = 0
    for first, stop in _requests(offsets, ends):
        start, length = offsets[first], ends[stop - 1] - offsets[first]
        block = _read(plan, fd, length, start)
        if stop - first > 1:
            view, base = memoryview(block), repeat(start)
            pieces = map(slice, map(sub, offsets[first:stop], base), map(sub, ends[first:stop], base))
            block = b"".join(map(view.__getitem__, pieces))
        crc = zlib.crc32(block, crc)
        out.write(block)
    return crc


def _read(plan, fd: int, length: int, start: int) -> bytes:
    block = os.pread(fd, length, start)
    if len(block) != length:
        raise DamagedInput(f"{plan.source.path}: the file ends inside its audio data (changed while read?)")
    return block


def _sparse(offsets: list[int], ends: list[int]) -> bool:
    """Whether the audio's pages are under SPARSE of the pages from its first chunk to its last:
    a video file's, where fetching only them beats reading the whole file in order."""
    if not hasattr(os, "posix_fadvise") or len(offsets) < 2:
        return False
    pages = sum(map(sub, map(floordiv, map(add, ends, repeat(PAGE - 1)), repeat(PAGE)),
                    map(floordiv, offsets, repeat(PAGE))))
    return pages * PAGE < SPARSE * (ends[-1] - offsets[0])


def _copy_sparse(plan, fd: int, out, offsets: list[int], lengths: list[int]) -> int:
    """The chunks one by one. From storage, with the kernel's read-ahead off (it would fetch the
    video around them) and the pages of the chunks SPARSE_AHEAD ahead asked for in advance (see
    ``_advice``): the storage then serves many requests at once instead of one after another.
    In the page cache the advice would only add system calls, so it is given only when a probe
    finds the file not cached."""
    advice = None if _cached(fd, offsets) else _advice(offsets, lengths)
    if advice is not None:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
    crc, asked, chunks = 0, 0, len(offsets)
    for first in range(0, chunks, SPARSE_BATCH):
        if advice is not None:
            ahead = bisect_right(advice[0], first + SPARSE_AHEAD)
            deque(map(os.posix_fadvise, repeat(fd), advice[1][asked:ahead], advice[2][asked:ahead],
                      repeat(os.POSIX_FADV_WILLNEED)), 0)
            asked = max(asked, ahead)
        stop = min(chunks, first + SPARSE_BATCH)
        block = b"".join(map(os.pread, repeat(fd), lengths[first:stop], offsets[first:stop]))
        if len(block) != sum(lengths[first:stop]):
            raise DamagedInput(f"{plan.source.path}: the file ends inside its audio data (changed while read?)")
        crc = zlib.crc32(block, crc)
        out.write(block)
    if advice is not None:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_NORMAL)
    return crc


def _advice(offsets: list[int], lengths: list[int]) -> tuple[list[int], list[int], list[int]]:
    """(first chunk, offset, length) of each range to ask for: chunks less than ADVICE_GAP apart
    share one, so the storage gets fewer, larger requests for a few more bytes (a cold hour of
    interleaved 720p: 108k ranges of 466 MB in all, or 7k of 712 MB, fetched faster)."""
    ends = list(map(add, offsets, lengths))
    firsts = [0, *(n for n in range(1, len(offsets)) if offsets[n] - ends[n - 1] > ADVICE_GAP)]
    lasts = [n - 1 for n in firsts[1:]] + [len(offsets) - 1]
    starts = [offsets[n] for n in firsts]
    return firsts, starts, [ends[last] - start for last, start in zip(lasts, starts)]


def _cached(fd: int, offsets: list[int]) -> bool:
    """Whether the page cache holds the audio, asked of CACHE_PROBES chunks spread over the file
    with reads that fail rather than wait for storage; True where the system cannot say."""
    nowait = getattr(os, "RWF_NOWAIT", None)
    if nowait is None:
        return True
    byte = bytearray(1)
    for offset in offsets[::max(1, len(offsets) // CACHE_PROBES)]:
        try:
            os.preadv(fd, [byte], offset, nowait)
        except BlockingIOError:
            return False
        except OSError:  # a file system without non-blocking reads
            return True
    return True


def _requests(offsets: list[int], ends: list[int]):
    """(first, stop) chunk numbers of each read: chunks in file order with less than JOIN_GAP
    between them (the bytes between are read and dropped), at most READ_LIMIT bytes a read."""
    cuts = [n for n in range(1, len(offsets)) if not 0 <= offsets[n] - ends[n - 1] <= JOIN_GAP]
    for first, stop in pairwise([0, *cuts, len(offsets)]):
        while first < stop:  # ends rise inside a run of neighbours: bisect for the read's last chunk
            last = max(first + 1, bisect_right(ends, offsets[first] + READ_LIMIT, first, stop))
            yield first, last
            first = last


def _new_moov(moov: bytes, track: tuple[int, int], new: dict) -> bytes:
    """The source's movie header and the one track, renumbered 1, with its chunks' new offsets."""
    parts = []
    for kind, start, end in boxes(moov, 0, len(moov)):
        if kind == b"mvhd":
            parts.append(_box(b"mvhd", _movie_header(moov, start, end, _track_duration(moov, track))))
    parts.append(_box(b"trak", _new_trak(moov, track, new)))
    return b"".join(parts)


def _movie_header(moov: bytes, start: int, end: int, duration: int) -> bytes:
    data = bytearray(moov[start:end])
    if data[0] == 1:
        data[24:32] = duration.to_bytes(8, "big")
    else:
        data[16:20] = min(duration, 0xFFFFFFFF).to_bytes(4, "big")
    data[-4:] = (2).to_bytes(4, "big")  # the next free track ID
    return bytes(data)


def _track_duration(moov: bytes, track: tuple[int, int]) -> int:
    start, _ = find(moov, track, b"tkhd")
    if moov[start] == 1:
        return int.from_bytes(moov[start + 28:start + 36], "big")
    return int.from_bytes(moov[start + 20:start + 24], "big")


def _new_trak(moov: bytes, track: tuple[int, int], new: dict) -> bytes:
    parts = []
    for kind, start, end in boxes(moov, *track):
        if kind == b"tkhd":
            data = bytearray(moov[start:end])
            at = 20 if data[0] == 1 else 12
            data[at:at + 4] = (1).to_bytes(4, "big")
            data[3] |= 1  # enabled
            parts.append(_box(kind, bytes(data)))
        elif kind == b"mdia":
            parts.append(_box(kind, _rebuilt(moov, (start, end), new)))
        elif kind in KEEP_IN_TRAK:
            parts.append(_box(kind, moov[start:end]))
    return b"".join(parts)


def _rebuilt(moov: bytes, box: tuple[int, int], new: dict) -> bytes:
    """mdia, minf and stbl as they were, with the boxes in ``new`` (by kind) replaced."""
    parts = []
    for kind, start, end in boxes(moov, *box):
        if kind in (b"minf", b"stbl"):
            parts.append(_box(kind, _rebuilt(moov, (start, end), new)))
        else:
            parts.append(new.get(kind) or _box(kind, moov[start:end]))
    return b"".join(parts)


def _media_header(moov: bytes, track: tuple[int, int], plan) -> bytes:
    """The track's mdhd with the language the M4A muxer writes: the plan's, as ISO 639-2 packed in
    three 5-bit letters, else "und" (a QuickTime source may hold a Macintosh language code)."""
    start, end = find(moov, track, b"mdia", b"mdhd")
    data = bytearray(moov[start:end])
    at = 32 if data[0] == 1 else 20
    code = (plan.tags.get("language") or "und").lower()
    if len(code) != 3 or not all("a" <= letter <= "z" for letter in code):
        code = "und"
    data[at:at + 2] = sum((ord(letter) - 0x60) << shift for letter, shift in zip(code, (10, 5, 0))).to_bytes(2, "big")
    return _box(b"mdhd", bytes(data))


def _box(kind: bytes, payload: bytes) -> bytes:
    return _box_head(kind, len(payload)) + payload


def _box_head(kind: bytes, payload: int) -> bytes:
    """A box's size and kind, with a 64-bit size when 32 bits cannot hold it."""
    if payload + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, kind, payload + 16)
    return struct.pack(">I4s", payload + 8, kind)
