"""Shared pieces of the grammar: regular-expression fragments and the readers of values.

The rule modules (``rules_*.py``) build their patterns from these; the text they read is the
normalized English of ``extractor.words.normalize`` (lower case, one space between tokens).
"""

from __future__ import annotations

import re

from extractor.errors import UsageError
from extractor.timeparse import parse_time
from extractor.words import vocab

B = r"(?<![a-z0-9_'])"  # start of an ASCII word (works next to Chinese characters, unlike \b)
E = r"(?![a-z0-9_])"  # end of an ASCII word
NUM = r"\d+(?:\.\d+)?"
_WORDNUM = "|".join(sorted((re.escape(w) for w in vocab.NUMBER_WORDS), key=len, reverse=True))
UNIT = r"(?:hours?|hrs?|h|minutes?|mins?|milliseconds?|ms|m|seconds?|secs?|s)(?![a-z0-9])"
_HALF = r"(?:\s+and\s+a\s+half)?"
_CLOCK = r"\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?"
_COMPACT = r"\d+h(?:\d+m)?(?:\d+(?:\.\d+)?s?)?(?![a-z0-9])|\d+m\d+(?:\.\d+)?s?(?![a-z0-9])"
_QTY = (rf"(?:{NUM}\s+and\s+a\s+half\s+{UNIT}|(?:{NUM}\s*|(?<![a-z])(?:{_WORDNUM})\s+){UNIT}{_HALF}"
        rf"(?:\s*(?:and\s+)?{NUM}\s*{UNIT})*)")
DUR = rf"(?:{_CLOCK}|{_COMPACT}|{_QTY})"  # a time with a unit or a clock
POINT = rf"(?:{DUR}|{NUM}(?![\d.:a-z]))"  # a time that may be a bare number of seconds
SPAN = rf"(?:{DUR}|(?:hour|minute|second)(?![a-z])(?:\s+and\s+a\s+half)?)"  # "the first minute" means one minute
NAME = r"(\"[^\"\x00]+\"|'[^'\x00]+'|[^\s\"',;!?\x00]+)"
EXT_ALT = "|".join(e for e in vocab.FORMAT_WORDS if e not in ("wave", "vorbis"))
# "call it my talk.mp3": up to four words when the last one ends in an audio extension.
FILE_NAME = (rf"(\"[^\"\x00]+\"|'[^'\x00]+'|(?:[^\s\"',;!?\x00]+\s){{0,3}}?[^\s\"',;!?\x00]+\.(?:{EXT_ALT})"
             rf"(?![a-z0-9])|[^\s\"',;!?\x00]+)")
AUDIO_EXTS = tuple(f".{ext}" for ext in vocab.FORMAT_WORDS if ext not in ("wave", "vorbis"))
TIME_KEYS = ("start", "end", "duration")


def c(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def has_audio_suffix(output: str | None) -> bool:
    return bool(output) and output.lower().endswith(AUDIO_EXTS)


def needs_reencode(options: dict) -> bool:
    trims = any(options.get(k) for k in TIME_KEYS)
    return bool(options.get("bitrate") or options.get("sample_rate") or options.get("channels")
                or options.get("sample_bits")
                or options.get("loudness") is not None or options.get("exact") and trims)


def seconds(text: str) -> float:
    """'1 minute 30 seconds', 'ninety seconds', '1m30s', '01:30', 'minute', '1 minute and a half' -> seconds."""
    t = " ".join(text.lower().split())
    if re.fullmatch(r"(?:hour|minute|second)(?:\s+and\s+a\s+half)?", t):
        t = "1 " + t
    t = re.sub(r"^(?:an?|one)\s+", "1 ", t)
    t = re.sub(rf"({NUM})\s+and\s+a\s+half\s+", lambda m: f"{float(m.group(1)) + 0.5:g} ", t)
    t = re.sub(rf"({NUM})\s*([a-z]+)\s+and\s+a\s+half", lambda m: f"{float(m.group(1)) + 0.5:g}{m.group(2)}", t)
    for word in sorted(vocab.NUMBER_WORDS, key=len, reverse=True):
        t = re.sub(rf"(?<![a-z]){re.escape(word)}(?![a-z])", f"{vocab.NUMBER_WORDS[word]:g}", t)
    t = re.sub(r"\band\b", " ", t)
    t = re.sub(rf"({NUM})\s*(?:milliseconds?|ms)(?![a-z])", r"\1ms", t)
    t = re.sub(rf"({NUM})\s*(?:hours?|hrs?|h)(?![a-z])", r"\1h", t)
    t = re.sub(rf"({NUM})\s*(?:minutes?|mins?|m)(?![a-z0-9])", r"\1m", t)
    t = re.sub(rf"({NUM})\s*(?:seconds?|secs?|s)(?![a-z])", r"\1s", t)
    t = re.sub(r"\s+", "", t)
    t = re.sub(r"^(\d+(?:\.\d+)?)m(\d+(?:\.\d+)?)$", r"\1m\2s", t)  # "1m30"
    try:
        value = parse_time(t) if not re.fullmatch(r"\d+(?:\.\d+)?[hm]", t) else _unit_value(t)
    except UsageError:
        value = _unit_value(t)
    if value is None:
        raise UsageError(f"cannot read {text!r} as a time")
    return value


def _unit_value(t: str) -> float | None:
    """'1.5m' -> 90 (fractions of minutes and hours, which the clock parser does not take)."""
    total, rest = 0.0, t
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", t):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
        rest = rest.replace(number + unit, "", 1)
    return total if not rest else None


def clean_name(raw: str) -> str:
    name = raw.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name.rstrip(".,:;!?")


def is_vocabulary(word: str) -> bool:
    word = word.lower().strip("\"'")
    return (word in vocab.FORMAT_WORDS or word in vocab.LANGUAGES or word in vocab.FILLER
            or word in vocab.ORDINALS or word in vocab.TITLE_WORDS)


def looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or (len(name) > 1 and name[0] in ".~")


class Groups:
    """A match seen through a subset of its groups, so one handler serves several alternatives."""

    def __init__(self, match: re.Match, groups: tuple[int, ...]):
        self._m, self._g = match, groups

    def group(self, i: int = 0):
        return self._m.group(0) if i == 0 else self._m.group(self._g[i - 1])

    def start(self, i: int = 0):
        return self._m.start(0) if i == 0 else self._m.start(self._g[i - 1])

    def end(self, i: int = 0):
        return self._m.end(0) if i == 0 else self._m.end(self._g[i - 1])

    def groups(self):
        return tuple(self._m.group(g) for g in self._g)


def first_group(match: re.Match, *indexes: int) -> Groups:
    """The first of these groups that matched, as group 1."""
    return Groups(match, (next(i for i in indexes if match.group(i) is not None),))
