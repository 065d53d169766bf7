"""The reader of one request: the normalized text, the words the rules have consumed, the values set.

Rules are tried in order; each match *consumes* its words, so a later rule never re-reads them.
What is left is either filler (consumed silently) or reported by name, in the user's own
spelling, through ``Normalized.source``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from extractor.errors import UsageError
from extractor.words import vocab
from extractor.words.normalize import Normalized, normalize

CONSUMED = "\x00"  # what a rule's matched words are overwritten with

# Slot -> the noun used when two phrases ask for different values of it.
SLOT_NOUNS = {
    "intent": "things to do", "format": "formats", "bitrate": "bitrates", "sample_rate": "sample rates",
    "sample_bits": "bit depths", "channels": "channel layouts", "track": "tracks", "start": "start times",
    "end": "end times", "duration": "lengths", "from_end": "ranges", "trim_end": "ranges",
    "loudness": "loudness targets", "loudness_step": "loudness changes", "output": "output names",
    "quality": "qualities", "exact": "cut accuracy", "keep_offset": "offset handling", "backend": "places to run",
    "allow_cloud": "cloud permissions", "overwrite": "overwrite choices", "salvage": "salvage choices",
    "time_reset": "ranges", "apply_all": "targets", "preset": "purposes", "copy": "encodings",
    "start_over": "starts", "split": "ways to split", "trim_silence": "silence choices",
}


class Reader:
    def __init__(self, text: str):
        text = unicodedata.normalize("NFKC", text or "").replace("\u2019", "'").replace("\u2018", "'")
        text = text.replace("\u201c", '"').replace("\u201d", '"')
        if not text.strip():
            raise UsageError("the request is empty; say what you want, e.g. 'the Spanish track as mp3'")
        self.norm: Normalized = normalize(text)
        self.original = text
        self.work = self.norm.text
        self.slots: dict[str, tuple[Any, str]] = {}
        self.excluded: list[tuple[str, str, str]] = []  # ("lang"|"title", value, phrase): "not the commentary"
        self.out_of_scope: list[str] = []

    # -- the scan
    def read(self, rules) -> None:
        for pattern, handler in rules:
            for match in list(pattern.finditer(self.work)):
                # An earlier match of this same rule may have consumed part of this one.
                if CONSUMED in self.work[match.start():match.end()]:
                    continue
                if handler(self, match) is not False:
                    self.consume(match.start(), match.end())

    def consume(self, start: int, end: int) -> None:
        self.work = self.work[:start] + CONSUMED * (end - start) + self.work[end:]

    def source_text(self, start: int, end: int) -> str:
        """The user's own characters behind work[start:end] (case and spelling kept)."""
        a, b = self.norm.source(start, end)
        return self.original[a:b]

    def phrase(self, match: re.Match, group: int = 0) -> str:
        return " ".join(self.source_text(match.start(group), match.end(group)).split())

    def set(self, slot: str, value: Any, phrase: str) -> None:
        if slot in self.slots:
            old, old_phrase = self.slots[slot]
            if old != value:
                raise UsageError(f"{old_phrase!r} and {phrase!r} ask for different {SLOT_NOUNS[slot]}")
            return
        self.slots[slot] = (value, phrase)

    def value(self, slot: str, default: Any = None) -> Any:
        return self.slots[slot][0] if slot in self.slots else default

    def said(self, slot: str) -> str:
        return self.slots[slot][1]

    # -- what is left over
    def unknown_words(self) -> list[tuple[str, list[str]]]:
        """[(phrase as the user wrote it, its words in the normalized text)] for each leftover run."""
        found = []
        for segment in re.finditer(r"[^\x00]+", self.work):
            tokens = list(re.finditer(r"[^\s,;!?。、]+|[,;!?。、]", segment.group()))
            for run in _split_runs(tokens):
                keys = [_token_key(t.group()) for t in run]
                while run and _is_filler(keys[0]) and keys[0] not in vocab.BINDING_WORDS | vocab.INVERTING:
                    run, keys = run[1:], keys[1:]
                while run and (keys[-1] in vocab.TRAILING_FILLER or not any(c.isalnum() for c in keys[-1])):
                    run, keys = run[:-1], keys[:-1]
                if not run or all(_is_filler(key) for key in keys) and not inverts(keys):
                    continue
                start = segment.start() + run[0].start()
                end = segment.start() + run[-1].end()
                found.append((" ".join(self.source_text(start, end).split()), keys))
        unique: dict[str, list[str]] = {}
        for phrase, keys in found:
            unique.setdefault(phrase, keys)
        return list(unique.items())


def inverts(keys: list[str]) -> bool:
    """Left-over words that could turn what was understood into its opposite ("except", "all but")."""
    text = " ".join(keys)
    return any(key in vocab.INVERTING for key in keys) or bool(
        re.search(r"\b(?:all|everything|anything|nothing|other)\s+(?:but|than)\b", text))


def _token_key(token: str) -> str:
    return token.lower().strip(".,:;!?\"'")


def _is_filler(key: str) -> bool:
    return not key or key in vocab.FILLER or all(not c.isalnum() for c in key)


def _split_runs(tokens):
    """Runs of words between punctuation are separate phrases ("with reverb, and echo")."""
    run = []
    for token in tokens:
        if token.group() in ",;!?。、":
            if run:
                yield run
            run = []
            continue
        run.append(token)
    if run:
        yield run
