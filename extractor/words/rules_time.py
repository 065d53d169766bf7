"""Rules for which part of the file: ranges, starts, ends, lengths, the first or last N, and removals
("cut off the last 2 minutes" keeps everything *but* them: ``trim_end``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extractor.words.patterns import DUR, NUM, POINT, SPAN, B, E, c, first_group, seconds

if TYPE_CHECKING:  # pragma: no cover
    from extractor.words.reader import Reader

_REMOVE = (r"(?:(?:i\s+)?(?:don't|dont|do\s+not)\s+(?:want|need)|(?:everything|all|anything)\s+(?:but|except(?:\s+for)?|apart\s+from|besides)|remove|removing|drop|dropping|cut(?:\s+off|\s+out)?|cutting(?:\s+off)?|chop(?:\s+off)?|"
           r"trim(?:\s+off)?|trimming(?:\s+off)?|delete|lose|get\s+rid\s+of|skip(?:ping)?|ignore|ignoring|"
           r"without|minus|except(?:\s+for)?|excluding|leave\s+out|leaving\s+out|not)")
_WHICH = r"(first|opening|initial|last|final|closing)"
_TO = r"(?:to|until|till|through|thru|-|–|—|and)"


def _range(r: Reader, m: re.Match):
    phrase = r.phrase(m)
    r.set("start", seconds(m.group(1)), phrase)
    r.set("end", seconds(m.group(2)), phrase)


def _unit_range(r: Reader, m: re.Match):
    """"seconds 3 to 7", "minutes 1 to 2": the unit comes first."""
    scale = 60.0 if m.group(1).startswith("min") else 1.0
    phrase = r.phrase(m)
    r.set("start", float(m.group(2)) * scale, phrase)
    r.set("end", float(m.group(3)) * scale, phrase)


def _first(r: Reader, m: re.Match):
    phrase = r.phrase(m)
    r.set("start", 0.0, phrase)
    r.set("end", seconds(m.group(1)), phrase)


def _last(r: Reader, m: re.Match):
    r.set("from_end", seconds(m.group(1)), r.phrase(m))


def _remove(r: Reader, m: re.Match):
    """Removal of the first and/or last N: the rest is kept."""
    phrase = r.phrase(m)
    for which, span in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
        if which is None:
            continue
        if which in ("first", "opening", "initial"):
            r.set("start", seconds(span), phrase)
        else:
            r.set("trim_end", seconds(span), phrase)


def _remove_from(r: Reader, m: re.Match):
    """"trim 10 seconds off the start", "cut 5 seconds from the end"."""
    if m.group(2) == "end":
        r.set("trim_end", seconds(m.group(1)), r.phrase(m))
    else:
        r.set("start", seconds(m.group(1)), r.phrase(m))


def _start(r: Reader, m: re.Match):
    r.set("start", seconds(m.group(1)), r.phrase(m))


def _end(r: Reader, m: re.Match):
    r.set("end", seconds(m.group(1)), r.phrase(m))


def _duration(r: Reader, m: re.Match):
    r.set("duration", seconds(m.group(1)), r.phrase(m))


def _length_from(r: Reader, m: re.Match):
    """"30 seconds starting at 1:00": a length and a start."""
    phrase = r.phrase(m)
    r.set("duration", seconds(m.group(1)), phrase)
    r.set("start", seconds(m.group(2)), phrase)


def _set(slot: str):
    def handler(r: Reader, m: re.Match):
        r.set(slot, True, r.phrase(m))
    return handler


_ONWARDS = rf"(?:\s+(?:on(?:wards?)?|starting|and\s+after|to\s+the\s+end|till\s+the\s+end)){{0,2}}{E}"

RULES = [
    (c(rf"{B}(?:skip|jump|fast[\s-]?forward|go)\s+(?:ahead\s+)?to\s+({POINT}){E}|"
       rf"{B}(?:after|past)\s+(?:the\s+)?(?:first|opening|initial)\s+({SPAN}){E}"),
     lambda r, m: _start(r, first_group(m, 1, 2))),
    (c(rf"{B}(?:everything\s+|anything\s+|all\s+)?(?:before|up\s+until|up\s+till)\s+({DUR}){E}"), _end),
    (c(rf"{B}{_REMOVE}\s+(?:the\s+)?{_WHICH}\s+({SPAN})(?:\s+off)?{E}"
       rf"(?:\s*(?:,\s*)?(?:and|&|plus)\s+(?:the\s+)?{_WHICH}\s+({SPAN})(?:\s+off)?{E})?"), _remove),
    (c(rf"{B}{_REMOVE}\s+(?:the\s+)?({SPAN})\s+(?:off|from|at)\s+(?:the\s+)?(?:very\s+)?(start|beginning|front|end)"
       rf"{E}"), _remove_from),
    (c(rf"{B}between\s+({POINT})\s+and\s+({POINT}){E}"), _range),
    (c(rf"{B}(?:from|starting\s+(?:at|from)|start\s+at)\s+({POINT})\s*{_TO}\s*({POINT}){E}"), _range),
    (c(rf"{B}(seconds?|secs?|minutes?|mins?)\s+({NUM})\s*(?:to|until|till|-|–|—|and)\s*({NUM}){E}"), _unit_range),
    (c(rf"(?<![\w.:])({DUR})\s*(?:to|until|till|-|–|—)\s*({DUR}){E}"), _range),
    (c(rf"(?<!last\s)(?<!first\s)(?<!final\s){B}({DUR})\s+(?:starting|beginning|from|after)\s+(?:at\s+|from\s+)?({POINT})"
       rf"(?:\s+(?:starting|onwards?|on))?{E}"), _length_from),
    (c(rf"{B}(?:only\s+)?(?:the\s+)?(?:first|opening|initial)\s+({SPAN}){E}"), _first),
    (c(rf"{B}(?:only\s+)?(?:the\s+)?(?:last|final|closing)\s+({SPAN}){E}"), _last),
    (c(rf"{B}(?:starting|start(?:s|ing)?|begin(?:ning|s)?)\s+(?:at|from)\s+({POINT}){_ONWARDS}|"
       rf"{B}(?:(?:everything|anything|all|the\s+rest|the\s+part)\s+)?(?:from|starting|after)\s+({DUR}){_ONWARDS}|"
       rf"(?<![\w.:])({DUR})\s+on(?:wards?)?{E}"),
     lambda r, m: _start(r, first_group(m, 1, 2, 3))),
    (c(rf"{B}(?:until|till|up\s+to|upto|ending\s+at|end(?:ing|s)?\s+at|stop(?:ping)?\s+at|to)\s+({DUR}){E}"),
     _end),
    (c(rf"{B}(?:to|until|till|through)\s+the\s+(?:very\s+)?end{E}|"
       rf"{B}from\s+the\s+(?:very\s+)?(?:start|beginning){E}"), None),
    (c(rf"{B}for\s+(?:the\s+next\s+)?({DUR}){E}|{B}({DUR})\s+long{E}|{B}(?:a\s+)?duration\s+(?:of\s+)?({DUR}){E}|"
       rf"{B}(?:a|one)\s+({DUR})\s+(?:clip|bit|part|piece|section|snippet|sample){E}"),
     lambda r, m: _duration(r, first_group(m, 1, 2, 3, 4))),
    (c(rf"{B}(?:the\s+)?(?:whole|entire|full|complete)\s+(?:thing|file|video|audio|track|length|duration|clip|song)"
       rf"{E}"), _set("time_reset")),
]
RULES = [(pattern, handler or (lambda r, m: None)) for pattern, handler in RULES]
