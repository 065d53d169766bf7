"""The plain sentences `vax do` shows: what a request was understood as, and what a job will do."""

from __future__ import annotations

from pathlib import Path

from extractor.jobspec import JobSpec
from extractor.timeparse import format_time
from extractor.words import vocab
from extractor.words.languages import english_name
from extractor.words.patterns import needs_reencode

# -- request sentences ---------------------------------------------------------------------------------

def intent_sentence(intent: str) -> str:
    if intent == "probe":
        return "Show the audio tracks and details of each file"
    return "Show the cloud account's credit balance"


def human_span(seconds: float) -> str:
    """30 -> '30 seconds', 120 -> '2 minutes', 150 -> '2 minutes 30 seconds', 3700 -> '1:01:40'."""
    if not float(seconds).is_integer() or seconds >= 3600:
        return format_time(seconds)
    minutes, secs = divmod(int(seconds), 60)
    parts = [f"{minutes} minute{'s' if minutes != 1 else ''}"] if minutes else []
    if secs or not minutes:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)


def _span_after_the(seconds: float) -> str:
    """'the first minute', not 'the first 1 minute'."""
    text = human_span(seconds)
    return text[2:] if text in ("1 minute", "1 second") else text


def _time_phrase(start: float | None, end: float | None, duration: float | None,
                 from_end: float | None) -> tuple[str, bool]:
    """(phrase, leads): a leading phrase reads "the first 30 seconds of <track>", the others follow it."""
    if from_end is not None:
        return f"the last {_span_after_the(from_end)} of", True
    if duration is not None:
        if start:
            return f"{human_span(duration)} from {format_time(start)}", False
        return f"the first {_span_after_the(duration)} of", True
    if end is not None:
        if start:
            return f"from {format_time(start)} to {format_time(end)}", False
        return f"the first {_span_after_the(end)} of", True
    if start:
        return f"from {format_time(start)} to the end", False
    return "", False


def _with_time(track: str, time: tuple[str, bool]) -> str:
    phrase, leads = time
    if not phrase:
        return track
    return f"{phrase} {track}" if leads else f"{track} {phrase}"


def _track_phrase(options: dict) -> str:
    if options.get("all_tracks"):
        return "all audio tracks"
    if options.get("track"):
        return f"track {options['track']}"
    if options.get("lang"):
        code = options["lang"]
        name = vocab.LANGUAGE_NAMES.get(code) or english_name(code)
        return f"the {name} ({code}) track" if name else f"the {code} track"
    if options.get("title"):
        return f"the track titled like {options['title']!r}"
    return "the default audio track"


def _rule_phrase(rule) -> str:
    """"the Spanish track titled like 'commentary'", "the main track, not the commentary"."""
    parts = []
    if rule.number is not None:
        parts.append(f"track {rule.number}")
    if rule.default:
        parts.append("the default audio track")
    if rule.lang:
        parts.append(f"the {english_name(rule.lang) or rule.lang} ({rule.lang}) track")
    if rule.title:
        parts.append(f"titled like {rule.title!r}" if rule.lang else f"the track titled like {rule.title!r}")
    text = " ".join(parts).replace("track the", "track, the") or "the audio track"
    nots = [english_name(x) or x for x in rule.exclude_langs] + [repr(x) for x in rule.exclude_titles]
    return text + (f" (not {', '.join(nots)})" if nots else "")


def _quality_details(bitrate, sample_rate, sample_bits, channels) -> list[str]:
    parts = []
    if bitrate:
        parts.append(f"{bitrate // 1000} kbps")
    if sample_rate:
        parts.append(f"{sample_rate / 1000:g} kHz")
    if sample_bits:
        parts.append(f"{sample_bits}-bit")
    if channels:
        parts.append({1: "mono", 2: "stereo"}.get(channels, f"{channels} channels"))
    return parts


def job_sentence(intent: str, options: dict, *, lossless: bool, from_end: float | None,
                 trim_end: float | None = None, rule=None, copy_only: bool = False) -> str:
    verb = {"upload": "Upload to the cloud and extract",
            "apply_all": "For every file, extract"}.get(intent, "Extract")
    if intent != "upload" and options.get("backend") == "remote":
        verb = "In the cloud, extract"
    fmt = options.get("format", "auto")
    details = _quality_details(options.get("bitrate"), options.get("sample_rate"), options.get("sample_bits"),
                               options.get("channels"))
    if fmt == "auto" and lossless:
        how = "as a lossless copy"
    elif fmt == "auto" and needs_reencode(options):
        how = "re-encoded in the source's format" + (f" ({', '.join(details)})" if details else "")
    elif fmt == "auto" and options.get("preset"):
        how = "in the preset's format"  # the preset names it; "with the ... preset" follows
    elif fmt == "auto" and (options.get("split") == "silence" or options.get("trim_silence")):
        how = "cut to the sample"
    elif fmt == "auto":
        how = "as is (stream copy)"
    else:
        how = f"as {vocab.FORMAT_LABELS[fmt]}" + (" (lossless)" if lossless else "")
        how += (" " + ", ".join(details)) if details else ""
    if copy_only:
        how = f"as {vocab.FORMAT_LABELS[fmt]} by a stream copy (only if the source already is {fmt})"
    time = _time_phrase(options.get("start"), options.get("end"), options.get("duration"), from_end)
    track = _rule_phrase(rule) if rule is not None else _track_phrase(options)
    text = f"{verb} {_with_time(track, time)} {how}"
    if trim_end is not None:
        text += f", without the last {_span_after_the(trim_end)}"
    extra = _extras(options)
    if extra:
        text += ", " + ", ".join(extra)
    if options.get("output"):
        out = options["output"]
        text += f" into {out}" if out.endswith(("/", "\\")) else f" -> {out}"
    return text


def _extras(options: dict) -> list[str]:
    extra = []
    if options.get("preset"):
        extra.append(f"with the {options['preset']} preset")
    if options.get("split"):
        extra.append({"chapters": "one file per chapter", "silence": "split at the silences"}.get(
            options["split"], "split into pieces"))
    if options.get("trim_silence"):
        extra.append("with the leading and trailing silence trimmed")
    if options.get("loudness") is not None:
        extra.append(f"normalised to {options['loudness']:g} LUFS")
    if options.get("exact"):
        extra.append("cut sample-accurately")
    if options.get("keep_offset") is False:
        extra.append("starting at the first audio sample")
    if options.get("keep_offset") is True:
        extra.append("keeping the offset from the video")
    if options.get("salvage"):
        extra.append("keeping whatever is readable")
    if options.get("overwrite"):
        extra.append("replacing existing files")
    if options.get("backend") == "local":
        extra.append("locally only")
    elif options.get("allow_cloud") and options.get("backend") != "remote":
        extra.append("with the cloud allowed as a fallback")
    return extra


def describe(spec: JobSpec, plan=None) -> str:
    """The sentence shown before a job runs, e.g.
    "Extract track 2 (spa, AC-3) from 01:00 to 02:30 as MP3 192 kbps -> talk.mp3".
    ``plan``: a Plan or a list of them (from the planner); without it, the spec alone is described."""
    plans = plan if isinstance(plan, (list, tuple)) else [plan] if plan is not None else []
    if not plans:
        return _describe_spec(spec)
    return "; ".join(_describe_plan(spec, each) for each in plans)


def _describe_spec(spec: JobSpec) -> str:
    if spec.format == "auto":
        how = "re-encoded in the source's format" if spec.wants_reencode else "as is (stream copy)"
    else:
        how = f"as {vocab.FORMAT_LABELS[spec.format]}"
    details = _quality_details(spec.bitrate, spec.sample_rate, spec.sample_bits, spec.channels)
    time = _time_phrase(spec.start, spec.end, spec.duration, None)
    text = f"Extract {_with_time(spec.tracks.describe(), time)} {how}"
    text += (" " + ", ".join(details)) if details else ""
    if spec.loudness is not None:
        text += f", normalised to {spec.loudness:g} LUFS"
    if spec.output:
        text += f" -> {spec.output}"
    return text


def _describe_plan(spec: JobSpec, plan) -> str:
    track = plan.track
    label = vocab.CODEC_LABELS.get(track.codec, "PCM" if track.codec.startswith("pcm_") else track.codec.upper())
    about = ", ".join(x for x in (track.language, label) if x)
    time = _time_phrase(plan.start, plan.end, None, None)
    text = f"Extract {_with_time(f'track {track.number} ({about})', time)}"
    if plan.is_copy:
        exact = "lossless copy" if plan.sample_exact else "stream copy (not sample-exact, see notes)"
        text += f" as a {exact} in .{plan.format.ext}"
    else:
        text += f" as {vocab.FORMAT_LABELS.get(plan.format.name, plan.format.label)}"
        quality = [f"{plan.bitrate // 1000} kbps"] if plan.bitrate else (
            [f"{plan.sample_bits}-bit"] if plan.sample_bits else [])
        if plan.sample_rate != track.sample_rate:
            quality.append(f"{plan.sample_rate / 1000:g} kHz")
        if plan.channels != track.channels:
            quality.append({1: "mono", 2: "stereo"}.get(plan.channels, f"{plan.channels} channels"))
        text += (" " + ", ".join(quality)) if quality else ""
    if spec.loudness is not None:
        text += f", normalised to {spec.loudness:g} LUFS"
    source_dir = Path(plan.source.path).parent
    shown = plan.output.name if plan.output.parent == source_dir else str(plan.output)
    return f"{text} -> {shown}"
