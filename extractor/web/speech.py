"""Messages in the page's own terms: the file's name, the cloud switch, "exact cut".

The engine and the interpreter speak to a terminal user: full paths, command-line flags,
sometimes an operating-system error. On the page the same message names the file as the
user added it, points at the page's controls instead of flags, and never shows Python's
exception names or a path inside the server's workspace.
"""

from __future__ import annotations

import re

# Flag -> what the page offers instead. A hint about a flag the page has no control for is dropped.
FLAG_WORDS = {
    "--allow-cloud": "switch the cloud on below",
    "--backend": "switch the cloud on below",
    "--exact": "ask for an \u201cexact cut\u201d",
    "--salvage": "ask to \u201csalvage\u201d what can be read",
    "--track": "name the track (\u201ctrack 2\u201d)",
    "--lang": "name the language (\u201cthe Spanish track\u201d)",
    "--title": "name the track by its title",
    "--all-tracks": "ask for \u201call tracks\u201d",
    "--start": "say where to start",
    "--end": "say where to stop",
    "--duration": "say how long",
    "--bitrate": "ask for a bitrate (\u201cat 192k\u201d)",
    "--sample-rate": "ask for a sample rate (\u201cat 48 kHz\u201d)",
    "--channels": "ask for mono or stereo",
    "--drop-offset": "ask to \u201cdrop the offset\u201d",
}
OS_ERRORS = {
    "2": "a file or folder is missing", "13": "permission denied", "28": "the disk is full",
    "30": "the disk is read-only", "36": "the file name is too long for the disk", "122": "the disk quota is full",
}
_VERB = r"(?:(?:use|add|pass|try|give|run\s+(?:it\s+)?(?:again\s+)?with|with)\s+)?"
_FLAG = re.compile(_VERB + r"`?(--[a-z][a-z-]*)(?:=\S+|\s+\d[^\s;,)`]*|(?<=--lang)\s+[a-z]{2,3}\b)?`?")
_PY_ERROR = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception):\s*(?:\[Errno (\d+)\][^:;()]*:?\s*)?")
_PATH = re.compile(r"(?<![\w.])(?:/[^\s/:;,'\"()]+)+/([^\s/:;,'\"()]+)")
_PARENS = re.compile(r"\s*\(([^()]*)\)")
_PROBE = re.compile(r"(?:run\s+)?`?vax probe\b[^`;)]*?`?(?=\s+to\b|[;)]|$)")
_COMMANDS = re.compile(r"(?:run\s+)?`?vax (?:do|extract|serve|remote)\b[^`;)]*`?")


def page_text(message: str, names: dict[str, str] | None = None) -> str:
    """``message`` as the page says it; ``names`` maps a file's path on the server to its shown name."""
    text = str(message or "").replace("\n", " ").strip()
    for path, name in sorted((names or {}).items(), key=lambda item: -len(item[0])):
        if path:
            text = text.replace(path, name)
    text = _PATH.sub(lambda m: m.group(1), text)
    text = _PY_ERROR.sub(_os_error, text)
    text = _PARENS.sub(_hint, text)
    text = _FLAG.sub(_flag, text)
    text = _PROBE.sub("say \u201cshow tracks\u201d", text)
    text = _COMMANDS.sub("", text)
    text = re.sub(r"\bwith\s+the\s+debug\s+option\b|\bdebug output\b", "the server's log", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _os_error(match: re.Match) -> str:
    code = match.group(1)
    return f"{OS_ERRORS[code]}: " if code in OS_ERRORS else ("" if code is None else "a disk error: ")


def _hint(match: re.Match) -> str:
    inner = match.group(1)
    flags = re.findall(r"--[a-z][a-z-]*", inner)
    if flags and not any(flag in FLAG_WORDS for flag in flags):
        return ""  # advice about a command-line option the page has no control for
    return f" ({inner})"


def _flag(match: re.Match) -> str:
    return FLAG_WORDS.get(match.group(1), "")
