"""What a file's first bytes say, before (or instead of) FFmpeg: plain byte checks, no decoding."""

from __future__ import annotations

from pathlib import Path

from .policy import UNREADABLE_MAGIC, UNREADABLE_SUFFIXES


def looks_like_unfinished_mp4(path: Path) -> bool:
    """ISO media boxes at the start, yet FFmpeg found no index: the moov was never written."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] in (b"ftyp", b"mdat", b"wide", b"free", b"skip")


def has_complete_header(path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False  # open_media reports it
    return head[4:8] == b"ftyp" or head[:4] == b"fLaC" or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")


def aac_object_type(config: bytes | None) -> int | None:
    """The audio object type of an AAC AudioSpecificConfig (2: LC, 5: SBR, 29: PS, ...)."""
    if not config or len(config) < 2:
        return None
    kind = config[0] >> 3
    return 32 + (((config[0] & 7) << 3) | (config[1] >> 5)) if kind == 31 else kind


def unreadable_format(path: Path) -> str | None:
    """The name of a format the bundled FFmpeg cannot open, recognised by its magic number or,
    for Musepack SV4-SV6 (which has none), by its file name; None when it is none of those."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    name = next((label for magic, label in UNREADABLE_MAGIC if head.startswith(magic)), None)
    return name or UNREADABLE_SUFFIXES.get(Path(path).suffix.lower())
