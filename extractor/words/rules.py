"""The grammar of `vax do`, in the order its rules are tried (see ``extractor.words.reader``).

Each rule is (compiled pattern, handler). A handler reads its match, records values in the
reader's slots (``reader.set(slot, value, phrase)``, which raises on a clash) and returns
None to consume the words, or False to leave them for later rules. The rules themselves live
by subject in ``rules_naming``, ``rules_sound``, ``rules_track``, ``rules_time`` and ``rules_misc``.

Order matters: names first (they may contain anything), then what vax does not do (so "upload
it to youtube" never reads as an upload), questions, negations before the words they negate,
numbers with units (loudness, bitrate, rate, bits) before bare times, purposes before the
words they contain, tracks before times ("the first track"), times before formats, intents last.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.words import rules_misc, rules_naming, rules_sound, rules_time, rules_track

RULES = [
    *rules_track.TITLED,
    *rules_naming.RULES,
    *rules_misc.PIECES,
    *rules_misc.SCOPE,
    *rules_misc.INTENTS,
    *rules_sound.NEGATIONS,
    *rules_sound.PURPOSES,
    *rules_sound.LOUDNESS,
    *rules_sound.LEVELS,
    *rules_sound.QUALITY,
    *rules_track.RULES,
    *rules_time.RULES,
    *rules_sound.FORMATS,
    *rules_misc.FLAGS,
    *rules_misc.LATE_INTENTS,
]


@lru_cache(maxsize=1)
def rule_words() -> frozenset[str]:
    """Every plain word the patterns spell out: typos are corrected towards these too."""
    words: set[str] = set()
    for pattern, _ in RULES:
        words.update(re.findall(r"(?<![\\a-z])[a-z]{3,}(?![a-z])", pattern.pattern))
    return frozenset(words)
