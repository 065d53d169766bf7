"""Rules for where the output goes: "call it talk.mp3", "save to ./out", "in the renders folder", a bare name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extractor.words import vocab
from extractor.words.patterns import (
    FILE_NAME,
    NAME,
    B,
    E,
    c,
    clean_name,
    has_audio_suffix,
    is_vocabulary,
    looks_like_path,
)

if TYPE_CHECKING:  # pragma: no cover
    from extractor.words.reader import Reader


def _output_file(r: Reader, m: re.Match):
    name = clean_name(r.source_text(m.start(1), m.end(1)))
    if not name or is_vocabulary(name):
        return False
    set_output(r, name, r.phrase(m))


def _output_folder(r: Reader, m: re.Match):
    name = clean_name(r.source_text(m.start(1), m.end(1)))
    keyword = re.search(r"folder|directory|dir\b", m.group(0))
    if not name or not keyword and (is_vocabulary(name) or not (looks_like_path(name) or has_audio_suffix(name))):
        return False
    if not has_audio_suffix(name) and not name.endswith(("/", "\\")) and "{" not in name:
        name += "/"
    set_output(r, name, r.phrase(m))


def _named_folder(r: Reader, m: re.Match):
    """"in the renders folder": the folder's name comes before the word."""
    name = clean_name(r.source_text(m.start(1), m.end(1)))
    if not name or is_vocabulary(name):
        return False
    set_output(r, name.rstrip("/\\") + "/", r.phrase(m))


def _bare_file(r: Reader, m: re.Match):
    """A file name standing alone ("clip.mp3"): the output name, never dropped."""
    name = clean_name(r.source_text(m.start(1), m.end(1)))
    if not has_audio_suffix(name) or name.lower().lstrip(".") in vocab.FORMAT_WORDS:
        return False
    set_output(r, name, r.phrase(m))


def set_output(r: Reader, name: str, phrase: str) -> None:
    r.set("output", name, phrase)
    if has_audio_suffix(name):
        r.set("format", vocab.FORMAT_WORDS[name.rsplit(".", 1)[1].lower()], phrase)


_NOT_FOLDER = r"(?!(?:the|a|my|this|that|same|other|output|new)\s)"

RULES = [
    (c(rf"{B}(?:call|name|rename)\s+(?:it|them|this|that|the\s+(?:file|output|result|audio))\s+"
       rf"(?:as\s+|to\s+)?{FILE_NAME}"), _output_file),
    (c(rf"{B}call\s+it\s+(?:as\s+)?{FILE_NAME}"), _output_file),
    (c(rf"{B}(?:save|write|export|store|output)\s+(?:it\s+|them\s+)?as\s+(?:a\s+file\s+)?(?:named\s+|called\s+)?"
       rf"{FILE_NAME}"), _output_file),
    (c(rf"{B}(?:output|file\s*name|filename|name|output\s+file(?:\s*name)?)\s*[:=]\s*{FILE_NAME}"), _output_file),
    (c(rf"{B}(?:named|called)\s+{FILE_NAME}"), _output_file),
    (c(rf"{B}(?:save|put|write|store|place|export|output|drop|move|send)\s+(?:it\s+|them\s+|everything\s+|"
       rf"the\s+(?:files?|outputs?|results?|audio)\s+)?(?:to|in|into|under|at)\s+(?:the\s+)?(?:my\s+)?"
       rf"(?:(?:folder|directory|dir)\s+)?{NAME}"), _output_folder),
    (c(rf"{B}(?:in|into|to)\s+(?:the\s+)?(?:folder|directory|dir)\s+{NAME}"), _output_folder),
    (c(rf"{B}(?:in|into|to)\s+(?:the\s+|my\s+)?{_NOT_FOLDER}([\w.~/-]+)\s+(?:folder|directory|dir){E}"),
     _named_folder),
    (c(rf"(?<![\w-])(?:-o|--output|output\s+to)\s*{NAME}"), _output_folder),
    (c(rf"{B}(?:to|into|as)\s+{NAME}"), _output_folder),
    (c(r"(?<![^\s\x00])(\"[^\"\x00]+\"|'[^'\x00]+'|[^\s\"',;!?\x00]+)(?![^\s\x00,;!?])"), _bare_file),
]
