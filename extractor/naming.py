"""Where an output goes: beside the input, in a folder, at a path, or from a template.

Names are made safe here, once. Text that comes from inside the file (a track's language,
title, codec) is never trusted: it may hold "../", a drive letter or a device name, so each
such field becomes one harmless name component. Every name vax composes also avoids what
Windows (and FAT/NTFS volumes mounted anywhere) refuse: the device names CON, PRN, AUX, NUL,
COM1-9, LPT1-9 with any extension, trailing dots and spaces; and it fits in 255 bytes
(the limit of ext4, NTFS, APFS), cut at a character boundary with its extension kept.
Characters the input's own name already had are kept on POSIX (that file system took them).
Finally a template's output must lie inside the folder its fixed part names.
"""

from __future__ import annotations

import os
import re
import stat
import string
from pathlib import Path

from .errors import UsageError

TEMPLATE_FIELDS = ("stem", "ext", "track", "index", "lang", "title", "codec", "format")
NAME_MAX = 255  # bytes in one path component
FIELD_MAX = 80  # bytes of one field taken from the file's tags
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_WINDOWS_ONLY = re.compile(r'[:*?"<>|\x00-\x1f]')
_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)


def safe_field(text: str | None, fallback: str) -> str:
    """One name component from untrusted text (a tag): no separators, no reserved characters."""
    cleaned = _UNSAFE.sub("_", text or "").strip(" .")
    cleaned = _cut(cleaned, FIELD_MAX).strip(" .")
    if not cleaned or set(cleaned) <= {"_", "."}:
        return fallback
    return cleaned


def portable_name(name: str) -> str:
    """The last component of an output path, made acceptable everywhere and at most 255 bytes."""
    if os.name == "nt":
        name = _WINDOWS_ONLY.sub("_", name)
    name = name.rstrip(" .") or "untitled"  # Windows drops them, so "a." and "a" would be one file
    if _DEVICE.match(name):
        name = f"_{name}"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    return (_cut(stem, NAME_MAX - len(suffix.encode())) or "untitled") + suffix


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8", "surrogateescape")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _tidy(path: Path) -> Path:
    return path.with_name(portable_name(path.name)) if path.name else path


def output_path_for(spec, info, track, fmt, *, several: bool) -> Path:
    source = Path(info.path)
    stem = source.stem
    suffix = f".{track.number}-{safe_field(track.language, 'und')}" if several else ""
    target = spec.output

    if target and "{" not in target:
        _refuse_special(Path(target))
    if target and "{" in target:
        return _from_template(target, stem=stem, track=track, fmt=fmt)
    if target and (target.endswith(("/", os.sep)) or Path(target).is_dir()):
        return Path(target) / portable_name(f"{_room(stem, suffix, fmt.ext)}{suffix}.{fmt.ext}")
    if target:
        path = Path(target)
        if not path.suffix:
            path = path.with_name(f"{path.name}.{fmt.ext}")
        if several:
            path = path.with_name(f"{_room(path.stem, suffix, path.suffix)}{suffix}{path.suffix}")
        return _tidy(path)
    path = source.with_name(portable_name(f"{_room(stem, suffix, fmt.ext)}{suffix}.{fmt.ext}"))
    if same_file(path, source):
        # An audio file copied into its own format: never aim at the input itself.
        path = source.with_name(portable_name(f"{_room(stem, suffix + '.extracted', fmt.ext)}{suffix}"
                                              f".extracted.{fmt.ext}"))
    return path


def _refuse_special(target: Path) -> None:
    """``-o /dev/full`` names a device: never write "/dev/full.m4a" beside it."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UsageError(f"-o {target}: not a regular file or folder (a device, pipe or socket)",
                         hint="give a file name or a folder")


def _room(stem: str, suffix: str, ext: str) -> str:
    """The stem, cut so that stem + suffix + "." + ext fits in one name (a long input name
    with a longer extension, or a track suffix, must not push the output past the limit)."""
    return _cut(stem, NAME_MAX - len(f"{suffix}.{ext.lstrip('.')}".encode())) or "untitled"


def _from_template(template: str, *, stem: str, track, fmt) -> Path:
    values = {
        "stem": safe_field(stem, "untitled") if os.name == "nt" else stem,
        "ext": safe_field(fmt.ext, "audio"),
        "track": str(track.number),
        "index": str(track.index),
        "lang": safe_field(track.language, "und"),
        "title": safe_field(track.title, f"track{track.number}"),
        "codec": safe_field(track.codec, "audio"),
        "format": safe_field(fmt.name, "audio"),
    }
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise UsageError(f"bad output template {template!r}: {exc}") from None
    unknown = names - set(values)
    if unknown:
        raise UsageError(
            f"unknown field(s) {', '.join('{' + n + '}' for n in sorted(unknown))} in output template; "
            f"use {', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)}")
    try:
        path = Path(template.format(**values))
    except (ValueError, IndexError, KeyError) as exc:
        raise UsageError(f"bad output template {template!r}: {exc}") from None
    if not path.suffix:
        path = path.with_name(f"{path.name}.{fmt.ext}")
    path = Path(*[portable_name(part) if part not in (os.sep, "/", "..", ".") and not part.endswith(":\\")
                  else part for part in path.parts])
    check_inside(path, template_root(template))
    return path


def template_root(template: str) -> Path:
    """The folder a template's fixed part names: everything before the first field, up to its last "/"."""
    fixed = template.split("{", 1)[0]
    cut = max(fixed.rfind("/"), fixed.rfind(os.sep))
    return Path(fixed[: cut + 1] or ".")


def check_inside(path: Path, root: Path) -> None:
    """Refuse an output that would land outside ``root`` (a tag, a symlink or ".." steering it)."""
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(path.parent)
    if os.path.commonpath([real_root, real_parent]) != real_root:
        raise UsageError(f"the output {path} would be written outside {root}",
                         hint="a field of the template leads out of the folder; check the file's tags")


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and os.path.samefile(a, b))
    except OSError:
        return False
