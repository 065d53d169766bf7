"""Where an output goes: beside the input, in a folder, at a path, or from a template."""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

from .errors import UsageError

TEMPLATE_FIELDS = ("stem", "ext", "track", "index", "lang", "title", "codec", "format")
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip(" .") or "untitled"


def output_path_for(spec, info, track, fmt, *, several: bool) -> Path:
    source = Path(info.path)
    stem = source.stem
    suffix = f".{track.number}-{track.language or 'und'}" if several else ""
    target = spec.output

    if target and "{" in target:
        return _from_template(target, stem=stem, track=track, fmt=fmt)
    if target and (target.endswith(("/", os.sep)) or Path(target).is_dir()):
        return Path(target) / f"{stem}{suffix}.{fmt.ext}"
    if target:
        path = Path(target)
        if not path.suffix:
            path = path.with_name(f"{path.name}.{fmt.ext}")
        if several:
            path = path.with_name(f"{path.stem}{suffix}{path.suffix}")
        return path
    path = source.with_name(f"{stem}{suffix}.{fmt.ext}")
    if same_file(path, source):
        # An audio file copied into its own format: never aim at the input itself.
        path = source.with_name(f"{stem}{suffix}.extracted.{fmt.ext}")
    return path


def _from_template(template: str, *, stem: str, track, fmt) -> Path:
    values = {
        "stem": stem,
        "ext": fmt.ext,
        "track": str(track.number),
        "index": str(track.index),
        "lang": track.language or "und",
        "title": _safe(track.title) if track.title else f"track{track.number}",
        "codec": track.codec,
        "format": fmt.name,
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
    path = Path(template.format(**values))
    if not path.suffix:
        path = path.with_name(f"{path.name}.{fmt.ext}")
    return path


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and os.path.samefile(a, b))
    except OSError:
        return False
