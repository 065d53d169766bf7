"""File names on the page: uploads kept safe and short enough for the disk, outputs named by
what was asked ("talk, first 30 s.mp3"), never two results of a session with one name.

Disks limit a name to 255 bytes, not characters: a Japanese name of 90 characters is 270
bytes. Names are cut by their UTF-8 bytes, always keeping the extension, with room left for
the marks of the temporary files that publishing and uploading add.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UsageError

MAX_NAME_BYTES = 200  # of an uploaded name: temp marks and ".waveform.png" still fit in 255
MAX_STEM_BYTES = 120  # of an output's stem, which a description of the request follows
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def cut_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` that is at most ``limit`` bytes of UTF-8 (whole characters)."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def safe_file_name(name: str) -> str:
    """The last part of a name, control and path characters replaced, at most 200 bytes with
    its extension kept; never empty or hidden."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base:
        raise UsageError("the file has no usable name")
    if len(base.encode("utf-8")) <= MAX_NAME_BYTES:
        return base
    path = Path(base)
    suffix = path.suffix if 1 < len(path.suffix) <= 12 else ""
    stem = cut_bytes(base[: len(base) - len(suffix)], MAX_NAME_BYTES - len(suffix.encode("utf-8"))).rstrip(" .")
    return f"{stem or 'file'}{suffix}"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    minutes, rest = divmod(round(seconds, 3), 60)
    return f"{int(minutes)}m{rest:02g}s" if rest else f"{int(minutes)} min"


def describe(options: dict) -> str:
    """A few words saying what was asked, for an output's name: ", first 30 s, spa, -16 LUFS"."""
    try:
        text = _UNSAFE.sub("_", ", ".join(_words(options)))
    except (TypeError, ValueError):  # a value the spec will refuse anyway, with its own message
        return ""
    return f", {cut_bytes(text, 80)}" if text else ""


def _words(options: dict) -> list[str]:
    words = []
    start, end, duration = options.get("start"), options.get("end"), options.get("duration")
    if start and end is not None:
        words.append(f"{_span(start)} to {_span(end)}")
    elif start and duration:
        words.append(f"{_span(duration)} from {_span(start)}")
    elif start:
        words.append(f"from {_span(start)}")
    elif end is not None or duration:
        words.append(f"first {_span(end if end is not None else duration)}")
    if options.get("all_tracks"):
        words.append("all tracks")
    for key in ("lang", "title"):
        if options.get(key):
            words.append(str(options[key]))
    if options.get("track") is not None:
        words.append(f"track {options['track']}")
    if options.get("loudness") is not None:
        words.append(f"{options['loudness']:g} LUFS")
    if options.get("bitrate"):
        words.append(f"{int(options['bitrate']) // 1000}k")
    if options.get("sample_rate"):
        words.append(f"{int(options['sample_rate']) / 1000:g} kHz")
    if options.get("channels") == 1:
        words.append("mono")
    return words


def output_stem(file_name: str, options: dict) -> str:
    stem = cut_bytes(Path(file_name).stem, MAX_STEM_BYTES).rstrip(" .") or "audio"
    return f"{stem}{describe(options)}"
