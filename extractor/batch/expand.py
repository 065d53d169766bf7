"""Which files a batch works on: folders (optionally recursive), patterns and paths, each once;
non-media files and earlier outputs are passed over with a reason."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from extractor.errors import InputNotFound, VaxError
from extractor.publish import TEMP_MARK


# Decide by extension first; a file with an unknown extension is probed, and skipped if
# the probe says it is not media. A file with a media extension that does not probe as
# media is a failure: it claims to be media, and the user should hear about it.
def _extensions(text: str) -> frozenset[str]:
    return frozenset(text.split())


MEDIA_EXTENSIONS = _extensions(
    ".mp4 .m4v .mov .mkv .webm .avi .wmv .asf .flv .mpg .mpeg .m2ts .mts .ts .vob .3gp .3g2 .ogv .dv .mxf "
    ".m4a .mka .mp3 .wav .flac .ogg .oga .opus .aac .ac3 .eac3 .aiff .aif .caf .wma .amr .w64")
NOT_MEDIA_EXTENSIONS = _extensions(
    ".txt .md .rst .pdf .doc .docx .odt .rtf .csv .json .xml .yaml .yml .html .htm .nfo .log .ini .cfg "
    ".jpg .jpeg .png .gif .bmp .tif .tiff .webp .heic .svg .ico .psd "
    ".srt .vtt .ass .ssa .sub .idx .sup .lrc .cue .m3u .m3u8 .pls "
    ".zip .rar .7z .tar .gz .bz2 .xz .exe .dll .so .py .sh .bat .db .sqlite .torrent .part .crdownload")
# Extensions vax writes: in a folder, such a file beside a video of the same name is
# (almost always) an earlier output, not new input.
OUTPUT_EXTENSIONS = _extensions(".m4a .mka .mp3 .wav .flac .ogg .opus .aac .ac3 .eac3")
GLOB_CHARS = frozenset("*?[")


@dataclass
class BatchSettings:
    jobs: int | None = None  # None: one per core
    skip_existing: bool = False
    many: bool = False  # a folder or pattern was given: batch mode even for one file
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) found while expanding
    problems: list[tuple[str, VaxError]] = field(default_factory=list)  # (what, error) found while expanding

    def applies(self, count: int) -> bool:
        return self.many or self.skip_existing or count + len(self.skipped) + len(self.problems) > 1

    def workers(self, count: int) -> int:
        return max(1, min(self.jobs or available_cores(), count))


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class Expansion:
    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, VaxError]] = field(default_factory=list)
    many: bool = False
    # file -> its folder relative to the folder input it was found in ("" at the top)
    within: dict[str, str] = field(default_factory=dict)

    def subfolders(self) -> dict[str, str]:
        """file -> sub-folder of the output folder it goes to, so that no two outputs collide.

        Files found inside a folder input keep their place in its tree (DCIM/100/CLIP0001.MP4
        and DCIM/101/CLIP0001.MP4 go to out/100/ and out/101/). Named files that share a
        name but come from different folders are placed by their folders relative to the
        folder the colliding ones share."""
        placed = {path: "" if self.within.get(path, ".") == "." else self.within[path] for path in self.files}
        groups: dict[tuple[str, str], list[str]] = {}
        for path, sub in placed.items():
            groups.setdefault((sub, Path(path).stem.casefold()), []).append(path)
        for same in groups.values():
            parents = {os.path.dirname(os.path.abspath(p)) for p in same}
            if len(same) < 2 or len(parents) < 2:
                continue
            common = os.path.commonpath(sorted(parents))
            for path in same:
                rel = os.path.relpath(os.path.dirname(os.path.abspath(path)), common)
                placed[path] = os.path.join(placed[path], rel) if placed[path] else rel
        return {path: sub for path, sub in placed.items() if sub and sub != "."}


def expand_inputs(inputs, *, recursive: bool = False, exclude: str | None = None) -> Expansion:
    """Files for the given paths, folders and patterns, in order, each once.

    A path that does not exist and is not a pattern is passed through unchanged, so the job
    itself reports it (exactly as for a single file). Patterns are expanded here too, for
    shells that do not (Windows) and for quoted patterns. ``exclude`` is an output folder
    whose files are never taken as inputs.
    """
    found = Expansion(many=len(inputs) > 1)
    seen: set[str] = set()
    excluded = Path(exclude).resolve() if exclude else None

    def take(path: str, within: str = "") -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            found.files.append(path)
            found.within[path] = within

    for item in inputs:
        if os.path.isdir(item):
            found.many = True
            entries = list(_folder_files(item, recursive, excluded))
            if not entries:
                found.problems.append((item, InputNotFound(f"{item}: the folder has no files")))
            for path, reason in entries:
                if reason:
                    found.skipped.append((path, reason))
                else:
                    take(path, os.path.relpath(os.path.dirname(path), item))
        elif not os.path.exists(item) and GLOB_CHARS & set(item):
            found.many = True
            matches = sorted(glob.glob(item, recursive=recursive))
            if not matches:
                found.problems.append((item, InputNotFound(f"no files match {item!r}")))
            for path in matches:
                if os.path.isdir(path):
                    for inner, reason in _folder_files(path, recursive, excluded):
                        if reason:
                            found.skipped.append((inner, reason))
                        else:
                            take(inner, os.path.relpath(os.path.dirname(inner), path))
                elif TEMP_MARK not in os.path.basename(path):
                    take(path)
        else:
            take(item)
    return found


def _folder_files(folder: str, recursive: bool, excluded: Path | None):
    """(path, skip reason or None) for the files of a folder; hidden files are passed over quietly."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if excluded is not None and Path(root).resolve() == excluded and root != folder:
            dirs[:] = []
            continue
        if not recursive:
            for d in dirs:
                yield os.path.join(root, d), "a folder; use --recursive to look inside"
            dirs[:] = []
        visible = sorted(n for n in names if not n.startswith("."))
        for name in visible:
            yield os.path.join(root, name), _earlier_output_reason(name, visible)


def _earlier_output_reason(name: str, neighbours: list[str]) -> str | None:
    """Outputs of an earlier run in the same folder are not new inputs: "talk.m4a" beside
    "talk.mp4", or "song.extracted.mp3" (naming's name for a copy of an audio file) beside "song.mp3"."""
    path = Path(name)
    if path.suffix.lower() not in OUTPUT_EXTENSIONS:
        return None
    if path.stem.endswith(".extracted"):
        base = path.stem.removesuffix(".extracted")
        sources = [n for n in neighbours if Path(n).stem == base]
    else:
        sources = [n for n in neighbours if Path(n).stem == path.stem and n != name
                   and Path(n).suffix.lower() not in OUTPUT_EXTENSIONS]
    if sources:
        return f"looks like an earlier output from {sources[0]}"
    return None


def extension_verdict(path: str) -> str | None:
    """A skip reason when the extension alone says "not media"; None to go on."""
    ext = Path(path).suffix.lower()
    if ext in NOT_MEDIA_EXTENSIONS:
        return f"not a media file: {ext}"
    return None
