"""A request in any of the supported languages -> one lower-case English text the rules read.

Steps, each on whole tokens so that every piece of the result still knows which characters
of the user's text it came from (``Normalized.source``, used to quote the user's own words):

1. split into tokens (quoted names and SRT times ``00:01:00,500`` stay whole; Chinese runs
   are cut by longest match against the Chinese lexicon);
2. guess the request's language from the words only one language's lexicon knows;
3. correct typos against the vocabulary (``rapidfuzz``: Damerau-Levenshtein, at most one edit
   in words of up to 5 letters, two from 6; a tie between two words is never guessed);
4. replace foreign phrases by English (``extractor.words.lexicon``);
5. numbers in words -> digits ("twenty five" -> 25, "trente" -> 30, "三十" -> 30), and
   French word order ("les 30 premières secondes") -> the English one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from extractor.words import lexicon, lexicon_zh, vocab

_CJK = "\u3040-\u30ff\u3400-\u9fff"
_PUNCT = ",;!?。、"
_TOKEN = re.compile(rf'"[^"]*"|\d{{1,2}}:\d{{2}}:\d{{2}},\d{{1,3}}|[{_CJK}]+|[{_PUNCT}]|[^\s{_PUNCT}{_CJK}]+')
_ELISION = re.compile(r"^(l|d|j|qu|n|s|c|m|t|jusqu)'(?=[a-zà-ÿ])")
_PRONOUN = re.compile(r"^([a-zà-ÿ]+)-(?=(?:le|la|les|moi|lui|nous|en|toi)$)", re.IGNORECASE)
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零一二两三四五六七八九十百]+")
_CN_TRACK = re.compile(r"第\s*(\d+|[一二两三四五六七八九十]+)\s*(?:条|个|号)?\s*(?:音轨|轨)")
_UNITS = {"seconds", "second", "minutes", "minute", "hours", "hour", "secs", "sec", "mins", "min", "s", "m"}


@dataclass
class Piece:
    text: str  # lower-case English (or the token itself)
    start: int  # the characters of the original it stands for
    end: int
    from_words: bool = False  # a number that was written in words


@dataclass(frozen=True)
class Normalized:
    original: str
    text: str
    spans: tuple[tuple[int, int, int, int], ...]  # (text start, text end, original start, original end)
    corrections: tuple[tuple[str, str], ...] = ()  # (as written, read as)
    language: str = "en"

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind text[start:end]."""
        hits = [(os, oe) for ts, te, os, oe in self.spans if ts < end and te > start]
        if not hits:
            return start, start
        return min(h[0] for h in hits), max(h[1] for h in hits)


def normalize(original: str) -> Normalized:
    pieces = _tokens(original)
    corrections = _correct(pieces)
    language = _guess_language(pieces)
    table = _TABLES.get(language, {})
    pieces = _translate(pieces, {**lexicon_zh.CHINESE, **table})
    pieces = _numbers(pieces)
    _english_language_names(pieces)
    pieces = _reorder(pieces)
    text, spans, at = [], [], 0
    for piece in pieces:
        if not piece.text:
            continue
        spans.append((at, at + len(piece.text), piece.start, piece.end))
        text.append(piece.text)
        at += len(piece.text) + 1
    return Normalized(original, " ".join(text), tuple(spans), tuple(corrections), language)


# -- 1. tokens -------------------------------------------------------------------------------

def _tokens(original: str) -> list[Piece]:
    pieces: list[Piece] = []
    for match in _TOKEN.finditer(original):
        token, start = match.group(), match.start()
        if re.match(rf"[{_CJK}]", token):
            pieces.extend(_chinese(token, start))
            continue
        token = re.sub(r"^(\d{1,2}:\d{2}:\d{2}),(\d{1,3})$", r"\1.\2", token)
        elision = _ELISION.match(token.lower())
        if elision and token[0] not in "\"'":
            cut = elision.end()
            pieces.append(Piece(token[:cut].lower(), start, start + cut))
            token, start = token[cut:], start + cut
        pronoun = _PRONOUN.match(token)
        if pronoun:  # French "envoie-le", "donne-moi": the verb and its pronoun
            pieces.append(Piece(pronoun.group(1).lower(), start, start + pronoun.end(1)))
            token, start = token[pronoun.end(1) + 1:], start + pronoun.end(1) + 1
        stripped = token.rstrip(".:)")
        lead = len(token) - len(token.lstrip("("))
        if stripped and not re.search(r"\d$", stripped) or len(stripped) == len(token):
            token = stripped
        key = token[lead:] if token[:1] in "\"'" else token[lead:].lower()
        number = _compound_number(key)
        pieces.append(Piece(str(number) if number else key, start + lead, start + len(token), bool(number)))
    return pieces


_UNITS_WORDS = {
    "de": {"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9},
    "es": {"uno": 1, "dos": 2, "dós": 2, "tres": 3, "trés": 3, "cuatro": 4, "cinco": 5, "seis": 6, "séis": 6,
           "siete": 7, "ocho": 8, "nueve": 9},
    "fr": {"un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9},
}
_TENS_WORDS = {
    "de": {"zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "sechzig": 60},
    "fr": {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60},
}
_COMPOUND = re.compile(r"^(?:(?P<de_unit>[a-zäöüß]+)und(?P<de_tens>[a-zäöüß]+)|veinti(?P<es_unit>[a-zé]+)|"
                       r"(?P<fr_tens>[a-z]+)-(?:et-)?(?P<fr_unit>[a-z]+))$")


def _compound_number(word: str) -> int | None:
    """'fünfundzwanzig' -> 25, 'veinticinco' -> 25, 'vingt-cinq' -> 25 (written as one word)."""
    match = _COMPOUND.match(word)
    if not match:
        return None
    if match.group("de_unit"):
        unit, tens = _UNITS_WORDS["de"].get(match.group("de_unit")), _TENS_WORDS["de"].get(match.group("de_tens"))
    elif match.group("es_unit"):
        unit, tens = _UNITS_WORDS["es"].get(match.group("es_unit")), 20
    else:
        unit, tens = _UNITS_WORDS["fr"].get(match.group("fr_unit")), _TENS_WORDS["fr"].get(match.group("fr_tens"))
    return tens + unit if unit and tens else None


def _chinese(run: str, offset: int) -> list[Piece]:
    """Longest match against the Chinese lexicon; Chinese numbers become digits."""
    pieces, i = [], 0
    keys = _cn_keys()
    while i < len(run):
        track = _CN_TRACK.match(run, i)
        number = _CN_NUMBER.match(run, i)
        if track:
            pieces.append(Piece(f"track {_cn_value(track.group(1))}", offset + i, offset + track.end()))
            i = track.end()
            continue
        word = next((k for k in keys if run.startswith(k, i)), None)
        if number and (word is None or len(number.group()) >= len(word)):
            pieces.append(Piece(str(_cn_value(number.group())), offset + i, offset + number.end(), True))
            i = number.end()
            continue
        size = len(word) if word else 1
        pieces.append(Piece(run[i:i + size], offset + i, offset + i + size))
        i += size
    return pieces


def _cn_value(text: str) -> int:
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char == "十":
            total += (digit or 1) * 10
            digit = 0
        elif char == "百":
            total += (digit or 1) * 100
            digit = 0
    return total + digit


@lru_cache(maxsize=1)
def _cn_keys() -> tuple[str, ...]:
    from extractor.words.languages import language_names

    words = set(lexicon_zh.CHINESE) | {k for k in language_names() if not k.isascii()}
    return tuple(sorted((w.removesuffix(" #") for w in words), key=len, reverse=True))


# -- 2. which language -------------------------------------------------------------------------

_TABLES = {"es": lexicon.SPANISH, "fr": lexicon.FRENCH, "de": lexicon.GERMAN, "pt": lexicon.PORTUGUESE}


@lru_cache(maxsize=1)
def _table_words() -> dict[str, frozenset[str]]:
    english = vocab.english_words()
    return {lang: frozenset(w for key in table for w in key.removesuffix(" #").split()) - english
            for lang, table in _TABLES.items()}


def _guess_language(pieces: list[Piece]) -> str:
    words = [p.text for p in pieces]
    # Two-letter words ("de", "en", "la") are shared by several languages: half a vote each.
    scores = {lang: sum((1.0 if len(w) > 2 else 0.5) for w in words if w in known)
              for lang, known in _table_words().items()}
    best = max(scores, key=lambda lang: scores[lang])  # dict order breaks ties: es, fr, de, pt
    return best if scores[best] >= 0.5 else "en"


# -- 3. typos ----------------------------------------------------------------------------------

def _correct(pieces: list[Piece]) -> list[tuple[str, str]]:
    """Typos -> the word meant, when the nearest words all mean the same thing."""
    from extractor.words.typos import corrections as nearest

    known = _known_words()
    found = []
    for piece in pieces:
        word = piece.text
        if word in known or not word.isalpha() or len(word) < 3 or _is_language_name(word):
            continue
        choices = nearest(word, known)
        meanings = {_meaning(choice) for choice in choices}
        if choices and len(meanings) == 1:
            found.append((word, choices[0]))
            piece.text = choices[0]
    return found


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    from extractor.words.languages import language_names
    from extractor.words.rules import rule_words

    names = {n for n in language_names() if n.isascii() and n.isalpha() and len(n) > 3}
    every_table = frozenset().union(*_table_words().values())
    return vocab.english_words() | rule_words() | every_table | names


def _meaning(word: str) -> str:
    """What a word stands for: its English (or language code), so "sekunde" and "sekunden" agree."""
    from extractor.words.languages import code_of

    for table in _TABLES.values():
        if word in table:
            return table[word]
    return code_of(word) or word


def _is_language_name(word: str) -> bool:
    from extractor.words.languages import code_of

    return code_of(word) is not None


# -- 4. foreign phrases ------------------------------------------------------------------------

def _translate(pieces: list[Piece], table: dict) -> list[Piece]:
    out, i = [], 0
    longest = max(len(k.split()) for k in table)
    while i < len(pieces):
        found = None
        if not _code_in_context(pieces, i):
            found = _phrase_at(pieces, i, table, longest)
        if found is None:
            out.append(pieces[i])
            i += 1
            continue
        value, size = found
        out.append(Piece(value, pieces[i].start, pieces[i + size - 1].end, value.isdigit()))
        i += size
    return out


def _code_in_context(pieces: list[Piece], i: int) -> bool:
    """"lang: de" and "the de track" name German, not the Spanish "of"."""
    after = pieces[i + 1].text if i + 1 < len(pieces) else ""
    return len(pieces[i].text) == 2 and (i and pieces[i - 1].text in _LANGUAGE_WORDS or after in _TRACK_WORDS)


def _phrase_at(pieces: list[Piece], i: int, table: dict, longest: int) -> tuple[str, int] | None:
    """The longest lexicon phrase starting at piece i: (its English, how many pieces)."""
    for size in range(min(longest, len(pieces) - i), 0, -1):
        key = " ".join(p.text for p in pieces[i:i + size])
        before_number = i + size < len(pieces) and _is_number(pieces[i + size].text)
        value = table.get(key + " #") if before_number else None
        value = value if value is not None else table.get(key)
        if value is not None:
            return value, size
    return None


def _is_number(text: str) -> bool:
    return bool(re.match(r"[-+]?[\d.:]+\w*$", text)) or text in vocab.NUMBER_WORDS


def _english_language_names(pieces: list[Piece]) -> None:
    """'española', 'Spanisch', '西班牙语' -> 'spanish': the rules know languages by English name."""
    from extractor.words.languages import code_of, english_name

    english = vocab.english_words()
    for piece in pieces:
        if piece.text in english or piece.text.isascii() and len(piece.text) <= 3:
            continue
        code = code_of(piece.text)
        name = english_name(code) if code else None
        if name:
            piece.text = name.lower()


# -- 5. numbers and word order -----------------------------------------------------------------

_LANGUAGE_WORDS = frozenset({"lang", "language", "langue", "idioma", "sprache"})
_TRACK_WORDS = frozenset({"track", "stream", "dub"})
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}


def _value(piece: Piece) -> int | None:
    text = piece.text
    if text in _TENS:
        return _TENS[text]
    if text in vocab.NUMBER_WORDS and text not in ("a", "an") and float(vocab.NUMBER_WORDS[text]).is_integer():
        return int(vocab.NUMBER_WORDS[text])
    if "-" in text and all(part in vocab.NUMBER_WORDS or part in _TENS for part in text.split("-")):
        return sum(_TENS.get(part) or int(vocab.NUMBER_WORDS[part]) for part in text.split("-"))
    if piece.from_words and text.isdigit():
        return int(text)
    return None


def _numbers(pieces: list[Piece]) -> list[Piece]:
    """'twenty five', 'thirty-five', 'treinta y cinco' (-> '30 and 5') -> one number."""
    out: list[Piece] = []
    for piece in pieces:
        value = _value(piece)
        lone_one = piece.text == "one" and not (out and out[-1].from_words and out[-1].text.isdigit())
        if value is None or lone_one:  # "the spanish one" is a track, not a number
            out.append(piece)
            continue
        prev = out[-1] if out else None
        joined = prev is not None and prev.from_words and prev.text.isdigit()
        if joined and int(prev.text) % 10 == 0 and int(prev.text) >= 20 and value < 10:
            out[-1] = Piece(str(int(prev.text) + value), prev.start, piece.end, True)
        elif (len(out) >= 2 and out[-1].text == "and" and out[-2].from_words and out[-2].text.isdigit()
              and int(out[-2].text) % 10 == 0 and int(out[-2].text) >= 20 and value < 10):
            first = out[-2]
            out[-2:] = [Piece(str(int(first.text) + value), first.start, piece.end, True)]
        else:
            out.append(Piece(str(value), piece.start, piece.end, True))
    return out


def _reorder(pieces: list[Piece]) -> list[Piece]:
    """French: 'les 30 premières secondes' reads 'the 30 first seconds' -> 'the first 30 seconds'."""
    for i in range(len(pieces) - 2):
        number, which, unit = pieces[i:i + 3]
        if which.text in ("first", "last") and unit.text in _UNITS and _is_number(number.text):
            pieces[i], pieces[i + 1] = which, number
    return pieces
