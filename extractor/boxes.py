"""The top-level boxes of an MP4/MOV file, read before FFmpeg sees it, for the one kind of
damage FFmpeg misnames: an index (moov) the file ends inside of. FFmpeg then reads what it
can of it and reports missing tracks ("no audio track") or unknown codecs; it is damage."""

from __future__ import annotations

from pathlib import Path

from .errors import DamagedInput

ISO_HEADS = (b"ftyp", b"mdat", b"wide", b"free", b"skip", b"moov")


def top_level_boxes(path: Path, size: int):
    """(kind, offset, declared length) of each top-level box, reading 16 bytes per box."""
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            head = f.read(16)
            length, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if length == 1 and len(head) == 16:
                length = int.from_bytes(head[8:16], "big")
            elif length == 0:
                length = size - offset
            if length < 8:
                return
            yield kind, offset, length
            offset += length


def refuse_cut_index(path: Path) -> None:
    """Raise DamagedInput when the file ends inside its moov box; say nothing otherwise."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if f.read(8)[4:8] not in ISO_HEADS:
                return
        for kind, offset, length in top_level_boxes(path, size):
            if kind == b"moov" and offset + length > size:
                raise DamagedInput(
                    f"{path}: the MP4/MOV index (moov) is cut short: the file ends {offset + length - size} bytes "
                    "before its end", hint="vax cannot rebuild a broken index; a repair tool such as untrunc can")
    except OSError:
        return  # opening the file reports it
