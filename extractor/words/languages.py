"""Language names in the languages people write requests in -> the ISO 639-2 code of a track.

The names come from ``langcodes`` and its ``language_data`` tables (the CLDR display names),
so "Spanisch", "espagnole", "española", "西班牙语" and "スペイン語" all find ``spa`` without a
hand-kept list; only the inflected forms (German adjective endings, French and Spanish
feminines) are derived here, because CLDR lists the dictionary form alone.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# The languages whose tracks people ask for; each is looked up by name in every UI language.
TRACK_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ja", "zh", "ko", "ru", "nl", "ar", "hi", "pl", "sv",
                   "tr", "el", "he", "cs", "da", "fi", "nb", "hu", "ro", "uk", "th", "vi", "id", "ca", "fa")
CODED_LANGUAGES = frozenset(TRACK_LANGUAGES[:16])
NAME_LANGUAGES = ("en", "es", "fr", "de", "zh", "pt", "ja", "it")
# Names that are also ordinary words in one of the request languages: never read as a language.
NOT_NAMES = frozenset({"persa", "thai", "catalan", "indonesia", "malay", "hebrew", "farsi", "griego"})
EXTRA_NAMES = {"castilian": "spa", "castellano": "spa", "latino": "spa", "mandarin": "chi", "mandarín": "chi",
               "国语": "chi", "普通话": "chi", "汉语": "chi", "西语": "spa", "英文": "eng", "日文": "jpn",
               "中文": "chi", "flemish": "dut", "farsi": "per"}


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _forms(name: str) -> set[str]:
    """The dictionary form and the inflections a request may use ("spanische", "española")."""
    forms = {name}
    if name.endswith("sch"):  # German: spanisch -> spanische, spanischen, spanischer, spanisches
        forms |= {name + ending for ending in ("e", "en", "er", "es")}
    if name.endswith(("ol", "ais", "and", "ois", "al")):  # French feminine; Spanish -ol
        forms |= {name + "e", name + "a"} if name.endswith("ol") else {name + "e"}
    if name.endswith(("ien", "éen")):
        forms.add(name + "ne")
    if name.endswith("o"):  # Spanish / Portuguese / Italian: italiano -> italiana
        forms.add(name[:-1] + "a")
    for accented, plain in (("és", "esa"), ("ês", "esa"), ("án", "ana"), ("ão", "ã")):
        if name.endswith(accented):
            forms.add(name[: -len(accented)] + plain)
    return forms | {strip_accents(f) for f in forms if f[0] < "\u0250"}  # never strip kana marks


@lru_cache(maxsize=1)
def language_names() -> dict[str, str]:
    """Every known name (lower case) -> ISO 639-2/B code."""
    import langcodes

    names: dict[str, str] = {}
    for code in TRACK_LANGUAGES:
        language = langcodes.Language.get(code)
        alpha3 = language.to_alpha3(variant="B")
        for ui in NAME_LANGUAGES:
            name = language.display_name(ui).lower()
            for form in _forms(name):
                if form not in NOT_NAMES:
                    names.setdefault(form, alpha3)
            if name.endswith("语"):
                names.setdefault(name[:-1] + "文", alpha3)
        if code in CODED_LANGUAGES:  # a bare "spa" or "fra"; "cat", "fin" and "per" are words
            names.setdefault(alpha3, alpha3)
            names.setdefault(language.to_alpha3(), alpha3)
    names.update(EXTRA_NAMES)
    return names


@lru_cache(maxsize=512)
def code_of(word: str) -> str | None:
    """'español' -> 'spa', 'spa' -> 'spa'; None when it is not a language name."""
    return language_names().get(word.lower())


@lru_cache(maxsize=512)
def code_of_tag(word: str) -> str | None:
    """Any ISO 639 code ('es', 'spa', 'sv'), for where the words say it is a language ("lang es")."""
    word = word.lower()
    found = code_of(word)
    if found or not (2 <= len(word) <= 3 and word.isascii() and word.isalpha()):
        return found
    import langcodes

    try:
        language = langcodes.Language.get(word)
    except (ValueError, LookupError):
        return None
    if not language.is_valid() or language.language != word and len(word) == 2:
        return None
    return language.to_alpha3(variant="B") if language.language else None


def english_name(code: str) -> str | None:
    """'spa' -> 'Spanish' (for the sentences vax shows)."""
    import langcodes

    try:
        language = langcodes.Language.get(code)
    except (ValueError, LookupError):
        return None
    if not language.is_valid():
        return None
    name = language.display_name("en")
    return None if name.lower().startswith("unknown") else name


def same_language(a: str | None, b: str | None) -> bool:
    """'es' and 'spa' (or 'fre' and 'fra') are the same language."""
    if not a or not b:
        return False
    import langcodes

    try:
        return langcodes.Language.get(a).language == langcodes.Language.get(b).language
    except (ValueError, LookupError):
        return a.lower() == b.lower()
