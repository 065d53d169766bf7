"""Parse and format the time values users type: ``90``, ``1.5``, ``01:30``, ``1:02:03.250``, ``1m30s``."""

from __future__ import annotations

import math
import re

from .errors import UsageError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
_UNITS = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")


def parse_time(text: str | float | None) -> float | None:
    """Seconds as a float, or None for None/empty. Raises UsageError with the offending text."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = text.strip().lower()
        if not raw:
            return None
        value = _parse_text(raw, text)
    if value < 0 or math.isnan(value) or math.isinf(value):
        raise UsageError(f"time must be a positive number of seconds, got {text!r}")
    return value


def _parse_text(raw: str, original: str) -> float:
    try:
        return float(raw)
    except ValueError:
        pass
    match = _CLOCK.match(raw)
    if match:
        hours, minutes, seconds = match.groups()
        if hours is not None and int(minutes) >= 60:
            raise UsageError(f"minutes must be under 60 in {original!r}")
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    match = _UNITS.match(raw)
    if match and any(match.groups()):
        h, m, s, ms = match.groups()
        return float(h or 0) * 3600 + float(m or 0) * 60 + float(s or 0) + int(ms or 0) / 1000
    raise UsageError(f"cannot read {original!r} as a time: use seconds (90, 1.5) or [HH:]MM:SS[.ms] (01:30)")


def format_time(seconds: float | None) -> str:
    """``75.5`` -> ``01:15.500``; hours appear only when needed."""
    if seconds is None:
        return "?"
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    text = f"{minutes:02d}:{secs:02d}"
    if millis:
        text += f".{millis:03d}"
    return f"{hours}:{text}" if hours else text


def parse_bitrate(text: str | int | None) -> int | None:
    """``192k`` / ``192000`` / ``1.5M`` -> bits per second."""
    if text is None or text == "":
        return None
    if isinstance(text, int):
        value = text
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)(?:bps|b/s|bit/s)?\s*", text)
        if not match:
            raise UsageError(f"cannot read {text!r} as a bitrate: use e.g. 192k or 192000")
        number, unit = float(match.group(1)), match.group(2).lower()
        value = round(number * {"": 1, "k": 1000, "m": 1_000_000}[unit])
        # "192" almost always means kbps; nobody wants a 192 bit/s file.
        if unit == "" and value < 1000:
            value *= 1000
    if not 8_000 <= value <= 1_536_000:
        raise UsageError(f"bitrate {value} b/s is out of range (8k to 1536k)")
    return value
