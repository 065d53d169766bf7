"""Typos against vax's own vocabulary: a sure correction, or a "did you mean" suggestion.

``rapidfuzz`` measures Damerau-Levenshtein distance (a swapped pair of letters is one edit,
as in "teh" or "audoi"). A word is corrected only when exactly one vocabulary word is the
nearest and it is close enough for the word's length; otherwise it stays unknown, perhaps
with a suggestion, because a wrong guess could change what is run.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=8)
def _choices(known: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(w for w in known if w.isalpha() and len(w) >= 3))


def _nearest(word: str, known: frozenset[str], limit: int) -> list[tuple[str, int]]:
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    found = process.extract(word, _choices(known), scorer=DamerauLevenshtein.distance, score_cutoff=limit,
                            limit=4)
    return sorted(((choice, int(distance)) for choice, distance, _ in found), key=lambda x: (x[1], x[0]))


@lru_cache(maxsize=2048)
def corrections(word: str, known: frozenset[str]) -> tuple[str, ...]:
    """The nearest vocabulary words (all at the same distance), or () when none is near enough.

    At most one edit in words of up to 5 letters, two from 6; three-letter words only for a
    swapped pair ("teh" is "the", never "ten"); a short word with another first letter is
    another word ("cut" is not "out"). The caller decides what a tie means."""
    limit = 1 if len(word) <= 5 else 2
    nearest = _nearest(word, known, limit)
    if len(word) == 3:
        nearest = [(w, d) for w, d in nearest if sorted(w) == sorted(word)]
    if len(word) <= 4:
        nearest = [(w, d) for w, d in nearest if w[0] == word[0] or sorted(w) == sorted(word)]
    if not nearest:
        return ()
    best = nearest[0][1]
    return tuple(w for w, d in nearest if d == best)


@lru_cache(maxsize=2048)
def suggestion(word: str, known: frozenset[str]) -> str | None:
    """A word to offer in "did you mean ...?" (looser than a correction)."""
    if len(word) < 4 or not word.isalpha():
        return None
    nearest = _nearest(word.lower(), known, 2 if len(word) < 8 else 3)
    return nearest[0][0] if nearest else None
