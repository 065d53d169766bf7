"""From the values a request set to job options: clashes within the request, quality words,
track constraints, follow-ups on the previous job, and the checks that make a wrong job impossible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.errors import UsageError
from extractor.jobspec import JobSpec
from extractor.timeparse import format_time
from extractor.words import vocab
from extractor.words.patterns import TIME_KEYS, has_audio_suffix
from extractor.words.reader import Reader
from extractor.words.rules_track import TRACK_SLOTS

# Slots that only make sense for an extraction (probe/credits reject them).
JOB_SLOTS = ("format", "bitrate", "sample_rate", "sample_bits", "channels", "start", "end", "duration", "from_end",
             "trim_end", "loudness", "loudness_step", "output", "quality", "exact", "keep_offset", "overwrite",
             "salvage", "time_reset", "loudness_generic", "preset", "split", "trim_silence", *TRACK_SLOTS)
TIME_SLOTS = ("start", "end", "duration", "from_end", "trim_end", "time_reset")
_PLAIN_SLOTS = ("format", "bitrate", "sample_rate", "sample_bits", "channels", "output", "exact", "keep_offset",
                "overwrite", "salvage", "backend", "preset", "split", "trim_silence")
_TRACK_KEYS = ("track", "lang", "title", "all_tracks")


@dataclass(frozen=True)
class TrackRule:
    """Several constraints on one track ("the Spanish commentary", "the main one, not the commentary"),
    resolved against the probe by ``extractor.words.resolve.track_number``."""

    number: int | None = None
    lang: str | None = None
    title: str | None = None
    default: bool = False
    exclude_langs: tuple[str, ...] = ()
    exclude_titles: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # the user's words for each constraint, for messages


def check_within_request(r: Reader) -> None:
    fmt, quality = r.value("format"), r.value("quality")
    if quality == "lossless" and fmt in vocab.LOSSY_FORMATS:
        raise UsageError(f"{r.said('quality')!r} and {r.said('format')!r} clash: "
                         f"{vocab.FORMAT_LABELS[fmt]} is a lossy format")
    if quality in ("lossless", "copy") and "bitrate" in r.slots:
        raise UsageError(f"{r.said('quality')!r} and {r.said('bitrate')!r} clash: "
                         "a bitrate only applies to a lossy re-encode")
    if quality == "small" and fmt in vocab.LOSSLESS_FORMATS:
        raise UsageError(f"{r.said('quality')!r} and {r.said('format')!r} clash: "
                         f"{vocab.FORMAT_LABELS[fmt]} is lossless, so never small")
    if fmt in vocab.LOSSLESS_FORMATS and "bitrate" in r.slots:
        raise UsageError(f"{r.said('format')!r} and {r.said('bitrate')!r} clash: "
                         f"{vocab.FORMAT_LABELS[fmt]} is lossless and has no bitrate")
    if fmt in vocab.LOSSY_FORMATS and "sample_bits" in r.slots:
        raise UsageError(f"{r.said('sample_bits')!r} needs a lossless format (wav or flac), "
                         f"but {r.said('format')!r} asks for {vocab.FORMAT_LABELS[fmt]}")
    if quality == "copy":
        for slot in ("sample_rate", "channels", "sample_bits", "loudness", "loudness_generic"):
            if slot in r.slots and r.value(slot) is not None:
                raise UsageError(f"{r.said('quality')!r} and {r.said(slot)!r} clash: a copy cannot change that")
    if "loudness_generic" in r.slots and "loudness" in r.slots and r.value("loudness") is None:
        raise UsageError(f"{r.said('loudness')!r} and {r.said('loudness_generic')!r} ask for "
                         "different loudness targets")
    for a, b in (("from_end", "start"), ("from_end", "end"), ("from_end", "duration"), ("end", "duration"),
                 ("trim_end", "end"), ("trim_end", "duration"), ("trim_end", "from_end")):
        if a in r.slots and b in r.slots:
            raise UsageError(f"{r.said(a)!r} and {r.said(b)!r} ask for different ranges")
    if "track_all" in r.slots:
        others = [r.said(s) for s in TRACK_SLOTS if s in r.slots and s != "track_all"]
        others += [phrase for _, _, phrase in r.excluded]
        if others:
            raise UsageError(f"{r.said('track_all')!r} and {others[0]!r} ask for different tracks")


def new_options(r: Reader) -> tuple[dict, set[str], TrackRule | None]:
    options: dict[str, Any] = {}
    touched: set[str] = set()
    for slot in _PLAIN_SLOTS:
        if slot in r.slots:
            options[slot] = r.value(slot)
            touched.add(slot)
    rule = track_options(r, options, touched)
    if any(s in r.slots for s in TIME_SLOTS):
        touched.add("time")
        for slot in TIME_KEYS:
            if r.value(slot):  # a start of 0 is the default: leave it out of the spec
                options[slot] = r.value(slot)
    if "loudness" in r.slots:
        touched.add("loudness")
        if r.value("loudness") is not None:
            options["loudness"] = r.value("loudness")
    elif "loudness_generic" in r.slots and "preset" not in r.slots:  # "normalize for broadcast": the preset's
        touched.add("loudness")
        options["loudness"] = r.value("loudness_generic")
    if "quality" in r.slots:
        touched.add("quality")
    return options, touched, rule


def track_options(r: Reader, options: dict, touched: set[str]) -> TrackRule | None:
    """One plain choice becomes a job option; several constraints become a TrackRule for the probe."""
    chosen = [s for s in TRACK_SLOTS if s in r.slots]
    if not chosen and not r.excluded:
        return None
    touched.add("track")
    if not r.excluded and len(chosen) == 1:
        slot = chosen[0]
        key = {"track_number": "track", "track_lang": "lang", "track_title": "title", "track_all": "all_tracks"}
        if slot in key:
            options[key[slot]] = r.value(slot)
        return None
    if "track_other" in r.slots and len(chosen) > 1:
        other = next(s for s in chosen if s != "track_other")
        raise UsageError(f"{r.said('track_other')!r} and {r.said(other)!r} ask for different tracks")
    if "track_other" in r.slots:
        raise UsageError(f"{r.said('track_other')!r} and {r.excluded[0][2]!r}: say which track, e.g. 'track 2'")
    return TrackRule(number=r.value("track_number"), lang=r.value("track_lang"), title=r.value("track_title"),
                     default=bool(r.value("track_default")),
                     exclude_langs=tuple(v for kind, v, _ in r.excluded if kind == "lang"),
                     exclude_titles=tuple(v for kind, v, _ in r.excluded if kind == "title"),
                     phrases=tuple(r.said(s) for s in chosen) + tuple(p for _, _, p in r.excluded))


def resolve_quality(r: Reader, options: dict) -> tuple[bool, bool]:
    """Apply "lossless" / "best quality" / "small file" / "don't re-encode".

    Returns (lossless, copy_only): copy_only when a lossy format is named with "don't re-encode"
    (allowed only if the source already is that format: see ``resolve``)."""
    quality = r.value("quality")
    fmt = options.get("format")
    explicit_bitrate = "bitrate" in r.slots
    if quality == "copy" and fmt in vocab.LOSSY_FORMATS:
        if "format" in r.slots:
            options.pop("bitrate", None)
            return False, True
        options.pop("format", None)  # a lossy format left over from the previous job
    if quality == "best" and fmt in vocab.LOSSY_FORMATS:
        if not explicit_bitrate:
            options["bitrate"] = vocab.BEST_BITRATE[fmt]
        return False, False
    if quality in ("lossless", "best", "copy"):
        if fmt in vocab.LOSSY_FORMATS:  # a lossy format left over from the previous job
            options.pop("format", None)
        options.pop("bitrate", None)
        return True, False
    if quality == "small":
        if fmt in (None, "auto") or fmt in vocab.LOSSLESS_FORMATS:
            fmt = options["format"] = vocab.SMALL_FORMAT
            options.pop("sample_bits", None)
        if not explicit_bitrate:
            options["bitrate"] = vocab.SMALL_BITRATE[fmt]
        return False, False
    # A bit depth only exists in lossless output.
    return "sample_bits" in options and options.get("format") in (None, "auto"), False


def resolve_other_track(r: Reader, options: dict, previous: dict) -> None:
    if "track_other" not in r.slots or len([s for s in TRACK_SLOTS if s in r.slots]) > 1:
        return
    before = previous.get("track")
    if previous.get("lang") or previous.get("title") or previous.get("all_tracks"):
        raise UsageError(f"{r.said('track_other')!r}: the last job chose its track by language or title, "
                         "so 'the other' is ambiguous; say 'track 1', 'track 2' or a language")
    options["track"] = 2 if before in (None, 1) else 1


def resolve_loudness_step(r: Reader, options: dict, previous: dict) -> None:
    step = r.value("loudness_step")
    if step is None or "loudness" in r.slots:
        return
    before = previous.get("loudness")
    if before is None:
        target = vocab.LOUDER_WITHOUT_PREVIOUS if step > 0 else vocab.QUIETER_WITHOUT_PREVIOUS
    else:
        target = min(vocab.LOUDEST_TARGET, max(vocab.QUIETEST_TARGET, float(before) + step))
    options["loudness"] = float(target)


def merge(previous: dict, new: dict, touched: set[str]) -> dict:
    """The previous job's options, with every part the new request mentions replaced."""
    merged = {k: v for k, v in previous.items() if not k.startswith("_")}
    drops: set[str] = set()
    if "format" in touched:
        drops |= {"format", "bitrate", "sample_bits"}
    if "quality" in touched:
        drops |= {"bitrate"}
    if "track" in touched:
        drops |= set(_TRACK_KEYS)
    if "time" in touched:
        drops |= set(TIME_KEYS)
    drops |= touched & {"bitrate", "sample_rate", "sample_bits", "channels", "output", "loudness", "exact",
                        "keep_offset", "overwrite", "salvage", "backend", "allow_cloud", "preset", "split",
                        "trim_silence"}
    for key in drops:
        merged.pop(key, None)
    if "format" in touched and "output" not in touched and previous.get("output"):
        merged["output"] = _with_format_suffix(previous["output"], new["format"])
    merged.update(new)
    return merged


def _with_format_suffix(output: str, fmt: str) -> str:
    """interview.mp3 + "as flac instead" -> interview.flac (folders and templates are left alone)."""
    if not has_audio_suffix(output) or "{" in output:
        return output
    return str(Path(output).with_suffix(f".{fmt}")) if fmt != "auto" else str(Path(output).with_suffix(""))


def validate(options: dict, r: Reader) -> None:
    start, end = options.get("start"), options.get("end")
    if end is not None and end <= (start or 0.0):
        said = r.said("end") if "end" in r.slots else "the range"
        raise UsageError(f"{said!r} ends at {format_time(end)}, which is not after the start "
                         f"({format_time(start or 0.0)})")
    try:
        build_spec("request", options)
    except UsageError as exc:
        raise UsageError(f"the request asks for something impossible: {exc.one_line()}") from None
    except TypeError as exc:  # an option name JobSpec does not know: a bug in this module
        raise UsageError(f"the request produced an invalid option: {exc}") from None


def presets_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("extractor.presets") is not None


def build_spec(input_path: str, options: dict) -> JobSpec:
    """JobSpec.build, with purpose words (``preset``) refused plainly while presets are not in this build."""
    if "preset" in options and not presets_available():
        if input_path == "request":  # validating the words alone: the preset is checked when a job is built
            options = {k: v for k, v in options.items() if k != "preset"}
        else:
            raise UsageError(f"the purpose preset {options['preset']!r} is not available in this build",
                             hint="say the settings instead, e.g. 'mono 16 kHz' or '-16 LUFS'")
    return JobSpec.build(str(input_path), **options)
