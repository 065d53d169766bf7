"""Where a library's outputs go, and how workers that mount the files elsewhere see them.

Outputs mirror the source tree under DEST: a file's ``rel`` (its root's name, then its path
under that root) becomes its folder, so ``DCIM/100/CLIP0001.MP4`` and ``DCIM/101/CLIP0001.MP4``
never collide. Two sources in one folder with the same stem (``talk.mp4``, ``talk.mov``)
keep their extension in the name (``talk.mp4.m4a``); every other output is named as `vax
extract` would name it. Names depend only on the catalogue, so a re-run finds its outputs.
"""

from __future__ import annotations

import glob
import os
from pathlib import PurePosixPath

from extractor.errors import UsageError
from extractor.publish import TEMP_MARK


def _literal(text: str) -> str:
    """Text for an output template that means itself (naming formats templates with str.format)."""
    return text.replace("{", "{{").replace("}", "}}")


def clashing_stems(rels) -> set[str]:
    """The rels whose folder holds another source of the same stem (case-insensitively)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for rel in rels:
        path = PurePosixPath(rel)
        groups.setdefault((str(path.parent), path.stem.lower()), []).append(rel)
    return {rel for group in groups.values() if len(group) > 1 for rel in group}


def output_base(dest: str, rel: str, clash: bool) -> tuple[str, str]:
    """(folder, base name without extension) of a source's output."""
    path = PurePosixPath(rel)
    base = path.name if clash else path.stem
    return os.path.join(dest, *path.parent.parts), base


def output_template(folder: str, base: str, all_tracks: bool) -> str:
    tracks = ".{track}-{lang}" if all_tracks else ""
    return os.path.join(_literal(folder), _literal(base)) + tracks + ".{ext}"


def remove_stale_temps(folder: str, base: str) -> None:
    """Temporary files left by a worker that died while writing this source's output.
    Only this source's task writes under this base name, so nothing live is touched."""
    stem = glob.escape(f".{base}")
    for pattern in (f"{stem}{TEMP_MARK}*", f"{stem}.[0-9]*-*{TEMP_MARK}*"):
        for path in glob.glob(os.path.join(glob.escape(folder), pattern)):
            try:
                os.unlink(path)
            except OSError:
                pass


class PathMap:
    """``LOCAL=REMOTE`` prefixes: the client's paths as the workers see them, and back."""

    def __init__(self, pairs=()):
        self.pairs: list[tuple[str, str]] = []
        for pair in pairs:
            local, sep, remote = pair.partition("=")
            if not sep or not local or not remote:
                raise UsageError(f"--path-map {pair!r}: expected LOCAL=REMOTE")
            self.pairs.append((os.path.abspath(local).rstrip(os.sep), remote.rstrip("/") or "/"))

    def to_worker(self, path: str) -> str:
        return _swap(path, ((a, b) for a, b in self.pairs))

    def to_client(self, path: str) -> str:
        return _swap(path, ((b, a) for a, b in self.pairs))


def _swap(path: str, pairs) -> str:
    for old, new in pairs:
        if path == old or path.startswith(old.rstrip("/") + "/"):
            return new + path[len(old):]
    return path
