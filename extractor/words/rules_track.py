"""Rules for which audio track: a number, an ordinal, a language, a title, all of them, the main or
the other one, and the ones ruled out ("not the commentary", "the non-English one").

Each kind of choice has its own slot (``track_number``, ``track_lang``, ``track_title``, ...), so
"the Spanish commentary" is two constraints on one track, resolved against the probe
(``extractor.words.resolve``) rather than called a clash.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extractor.words import vocab
from extractor.words.languages import code_of, code_of_tag, language_names
from extractor.words.patterns import NAME, B, E, c, clean_name, first_group, is_vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from extractor.words.reader import Reader

TRACK_SLOTS = ("track_number", "track_lang", "track_title", "track_all", "track_default", "track_other")


def _english_names() -> list[str]:
    from extractor.words.languages import english_name

    names = {n for n in vocab.LANGUAGES if n.isascii() and len(n) > 3}
    names |= {english_name(code).lower() for code in set(language_names().values()) if english_name(code)}
    names |= {n for n in language_names() if n.isascii() and len(n) == 3}
    return sorted(names, key=len, reverse=True)


_LANG_WORDS = "|".join(re.escape(n) for n in _english_names())
_TWO_LETTER = r"[a-z]{2}"
_TRACK_NOUN = r"(?:track|stream|dub|version|one|audio|sound|language)"
_TITLE_ALT = "|".join(re.escape(t) for t in sorted(vocab.TITLE_WORDS, key=len, reverse=True) if t.isascii())
_NOT = (r"(?:(?:all|everything|anything)\s+(?:but|except(?:\s+for)?|other\s+than)|not|but\s+not|except(?:\s+for)?|"
        r"excluding|other\s+than|rather\s+than|instead\s+of|no)")


def _language(r: Reader, m: re.Match):
    word = m.group(1)
    code = code_of(word) or vocab.LANGUAGES.get(word)
    if code is None:
        return False
    r.set("track_lang", code, r.phrase(m))


def _tagged_language(r: Reader, m: re.Match):
    """"lang es", "the es track": any ISO code, because the words say it is a language."""
    code = code_of_tag(m.group(1))
    if code is None:
        return False
    r.set("track_lang", code, r.phrase(m))


def _not_language(r: Reader, m: re.Match):
    code = code_of(m.group(1)) or code_of_tag(m.group(1))
    if code is None:
        return False
    r.excluded.append(("lang", code, r.phrase(m)))


def _not_title(r: Reader, m: re.Match):
    key = " ".join(m.group(1).split())
    r.excluded.append(("title", vocab.TITLE_WORDS[key], r.phrase(m)))


def _title_word(r: Reader, m: re.Match):
    key = " ".join(m.group(1).split())
    r.set("track_title", vocab.TITLE_WORDS[key], r.phrase(m))


def _titled(r: Reader, m: re.Match):
    name = clean_name(r.source_text(m.start(1), m.end(1)))
    if not name:
        return False
    r.set("track_title", name, r.phrase(m))


def _generic_title(r: Reader, m: re.Match):
    word = m.group(1)
    if word in vocab.NOT_A_TITLE or is_vocabulary(word) or word.isdigit() or code_of(word):
        return False
    r.set("track_title", r.source_text(m.start(1), m.end(1)), r.phrase(m))


def _number(r: Reader, m: re.Match):
    r.set("track_number", int(m.group(1)), r.phrase(m))


def _flag(slot: str):
    def handler(r: Reader, m: re.Match):
        r.set(slot, True, r.phrase(m))
    return handler


_ORDINAL_ALT = "|".join(sorted(vocab.ORDINALS, key=len, reverse=True))

# Before the naming rules: "the track called Director" names a track, not the output.
TITLED = [(c(rf"{B}(?:track|stream)\s+(?:titled|called|named|labell?ed)\s+{NAME}"), _titled)]

RULES = [
    (c(rf"{B}(?:the\s+)?non[\s-]?({_LANG_WORDS})(?:\s+{_TRACK_NOUN})*{E}|"
       rf"{B}{_NOT}\s+(?:the\s+)?(?:(?:audio\s+)?(?:track|one|version|dub)\s+)?(?:in\s+)?({_LANG_WORDS})"
       rf"(?:\s+{_TRACK_NOUN})*{E}"),
     lambda r, m: _not_language(r, first_group(m, 1, 2))),
    (c(rf"{B}{_NOT}\s+(?:the\s+|a\s+)?({_TITLE_ALT})(?:\s+(?:track|stream|version|audio|one))?{E}"), _not_title),
    (c(rf"{B}(?:all|every|each|both)\s+(?:of\s+)?(?:the\s+)?(?:audio\s+|sound\s+|language\s+)?"
       rf"(?:tracks?|streams?|languages?|dubs?){E}|{B}all\s+tracks{E}"), _flag("track_all")),
    (c(rf"{B}(?:the\s+)?({_ORDINAL_ALT})\s+(?:audio\s+|sound\s+|language\s+)?(?:track|stream|one){E}"
       rf"(?!\s*(?:and\s+a\s+half|half|hours?|minutes?|mins?|seconds?|secs?){E})"),
     lambda r, m: r.set("track_number", vocab.ORDINALS[m.group(1)], r.phrase(m))),
    (c(rf"{B}(?:audio\s+|sound\s+)?(?:track|stream)\s*(?:number\s*|no\.?\s*|#\s*)?(\d{{1,2}}){E}"
       rf"(?!\s*(?::|s{E}|sec|min|m{E}))"), _number),
    (c(rf"{B}(?:the\s+)?other\s+(?:audio\s+)?(?:track|stream|one|language){E}"), _flag("track_other")),
    (c(rf"{B}(?:the\s+)?(?:main|default|primary|original)\s+(?:audio\s+)?(?:track|stream|language|one){E}"),
     _flag("track_default")),
    (c(rf"{B}(?:the\s+)?({_TITLE_ALT})(?:\s+(?:track|stream|version|audio))?{E}"), _title_word),
    (c(rf"{B}(?:audio\s+)?lang(?:uage)?\s*(?:code\s*)?[:=]?\s*([a-z]{{2,3}}|{_LANG_WORDS}){E}"), _tagged_language),
    (c(rf"{B}(?:the\s+)?({_TWO_LETTER})\s+(?:audio\s+|language\s+)?(?:track|stream|dub|version){E}"),
     _tagged_language),
    (c(rf"{B}(?:the\s+)?(?:in\s+)?({_LANG_WORDS})(?:\s+{_TRACK_NOUN})*{E}"), _language),
    (c(rf"{B}the\s+([a-z][\w'-]*)\s+(?:audio\s+)?(?:track|stream){E}"), _generic_title),
]
