"""`vax do "REQUEST"`: an offline, rule-based reader of plain-language requests.

``interpret(text)`` turns a request into keyword options for ``JobSpec.build`` plus one plain
sentence of what it understood, and names every part it could not place. It is deterministic:
a fixed list of patterns (``_RULES``) is tried in order; each match *consumes* its words, so a
later rule never re-reads them. What is left is either filler (please, the, my video, can you,
extract, ...: consumed silently) or reported by name in ``Interpretation.unknown``. No network,
no model. Vocabulary (format names, languages, filler words, presets) lives in
``extractor.words.vocab``.

Grammar (case-insensitive; any order; Chinese intents too):

* intent: extract (default; "extract", "rip the sound", "export", "download", "send me the audio",
  "just the audio", 提取音频, 导出); probe ("status", "show tracks", "what's in it", 状态);
  credits ("credits", "balance", 积分, 余额); upload ("upload", 上传: run on the cloud backend);
  apply_all ("do the same for all", "apply to all files": the previous job's options for every file).
* format: mp3 wav flac m4a aac opus ogg mka ac3 eac3 ("as mp3", "to flac", "mp3 320").
  "lossless": a stream copy in the source's own format (``format="auto"``); when the request also
  needs a re-encode (mono, 44.1 kHz, 16-bit, loudness, exact cut) the copy is impossible, so the
  format becomes ``flac``; ``spec_for`` with a probe also moves to ``mka`` when the natural copy
  would not be sample-exact (WebM Opus -> .opus). "best quality": lossless, or the top bitrate of
  a named lossy format (MP3 320k). "small file": Opus 96 kbps (or a small bitrate of the named format).
* quality: "320 kbps"/"320k" (a bare "Nk" is a bitrate; "44.1k" and "N kHz" are sample rates),
  "44.1 kHz", "48000 Hz", "16-bit", "mono", "stereo", "CD quality" (44.1 kHz 16-bit).
* track: "track 3", "the second audio track", "the Spanish track", "spa", "es", "all tracks",
  "the commentary" (title match), "the track called X", "the X track", "the main track",
  "the other track" (follow-up: track 2 if the last job used track 1 or the default, else track 1).
* time: "from 1:00 to 2:30", "1:00-2:30", "between 00:10 and 00:20", "the first 30 seconds",
  "the last 2 minutes" (``from_end``: resolved against ``duration`` or, in ``spec_for``, the
  probe), "starting at 90s", "skip the first 10 s", "until 2:30", "for 30 seconds", "1m30s",
  "one minute", "前30秒", "最后2分钟".
* loudness: "normalize" (-16 LUFS), "podcast loudness" (-16), "broadcast"/"EBU R128" (-23),
  "streaming"/"YouTube loudness" (-14), "-14 LUFS", "make it louder"/"quieter" (+/-3 LU on the
  previous target, else -14 / -23), "no normalization".
* naming: "call it interview.mp3" (also sets the format), "save to ./out" (a folder: paths must
  look like paths: contain / or start with . or ~), "-o NAME".
* flags: "sample-accurate"/"exact" (exact), "keep the offset"/"drop the offset", "overwrite",
  "salvage"/"even if damaged", "locally"/"offline" (local backend), "in the cloud", "allow cloud".

Two parts that ask for different values of the same thing ("as mp3 ... as flac", "mono ... stereo")
raise ``UsageError`` naming both phrases. With ``previous`` (the options of the file's last job) a
request refines it: each thing the new request mentions replaces that part of the previous job
(a new format drops the old bitrate; any time phrase replaces the whole range), the rest carries on.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.errors import UsageError
from extractor.jobspec import JobSpec
from extractor.timeparse import format_time
from extractor.words import vocab
from extractor.words.rules import _RULES, _TIME_KEYS, _has_audio_suffix, _needs_reencode
from extractor.words.text import _human_span, _intent_sentence, _job_sentence, describe

_CONSUMED = "\x00"  # what a rule's matched words are overwritten with

INTENTS = ("extract", "probe", "credits", "upload", "apply_all")


@dataclass(frozen=True)
class Interpretation:
    intent: str  # one of INTENTS
    options: dict  # keyword options for JobSpec.build(input, **options)
    understood: str  # one plain sentence of what will be done (without the file name)
    unknown: tuple[str, ...] = ()  # the parts that could not be placed, as the user wrote them
    lossless: bool = False  # "lossless"/"best quality": copy if exact, else FLAC (see spec_for)
    from_end: float | None = None  # "the last N seconds" when the duration was not known yet

    def spec_for(self, input_path, *, info=None, **overrides) -> JobSpec:
        """The job spec for one file; ``overrides`` (e.g. output=, overwrite=) win over the request.

        ``info`` (a MediaInfo) is only needed for "the last N minutes" without a known duration
        and to keep "lossless" sample-exact; it is probed here when needed and not given.
        """
        options = {**self.options, **{k: v for k, v in overrides.items() if v is not None}}
        if "output" in options:
            options["output"] = os.path.expanduser(options["output"])
        if self.from_end is not None and not any(k in options for k in ("start", "end", "duration")):
            info = info or _probe(input_path)
            if info.duration is None:
                raise UsageError(f"{input_path}: its duration is unknown, so 'the last "
                                 f"{_human_span(self.from_end)}' cannot be placed; give a start time")
            options["start"] = max(0.0, round(info.duration - self.from_end, 6))
        spec = JobSpec.build(str(input_path), **options)
        if self.lossless and spec.format == "auto":
            if spec.wants_reencode:
                spec = spec.replace(format="flac")
            elif not _has_audio_suffix(spec.output):
                spec = _exact_copy_container(spec, info or _probe(input_path))
        return spec


def interpret(text: str, *, previous: dict | None = None, duration: float | None = None) -> Interpretation:
    """Read one request. ``previous``: the options of the file's last job, for follow-ups.
    ``duration``: the file's length in seconds when known (for "the last 2 minutes")."""
    reader = _Reader(text)
    reader.read()
    return reader.finish(previous=previous, duration=duration)


# Slot -> the noun used when two phrases ask for different values of it.
_SLOT_NOUNS = {
    "intent": "things to do", "format": "formats", "bitrate": "bitrates", "sample_rate": "sample rates",
    "sample_bits": "bit depths", "channels": "channel layouts", "track": "tracks", "start": "start times",
    "end": "end times", "duration": "lengths", "from_end": "ranges", "loudness": "loudness targets",
    "loudness_step": "loudness changes", "output": "output names", "quality": "qualities",
    "exact": "cut accuracy", "keep_offset": "offset handling", "backend": "places to run",
    "allow_cloud": "cloud permissions", "overwrite": "overwrite choices", "salvage": "salvage choices",
    "time_reset": "ranges", "apply_all": "targets",
}
# Slots that only make sense for an extraction (probe/credits reject them).
_JOB_SLOTS = ("format", "bitrate", "sample_rate", "sample_bits", "channels", "track", "start", "end",
              "duration", "from_end", "loudness", "loudness_step", "output", "quality", "exact", "keep_offset",
              "overwrite", "salvage", "time_reset", "loudness_generic")

class _Reader:
    def __init__(self, text: str):
        text = unicodedata.normalize("NFKC", text or "").replace("\u2019", "'").replace("\u2018", "'")
        text = text.replace("\u201c", '"').replace("\u201d", '"')
        self.original = text
        # Lower-case without changing length, so spans in `work` index `original` too.
        self.work = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        self.slots: dict[str, tuple[Any, str]] = {}

    # -- the scan
    def read(self) -> None:
        if not self.work.strip():
            raise UsageError("the request is empty; say what you want, e.g. 'the Spanish track as mp3'")
        for pattern, handler in _RULES:
            for match in list(pattern.finditer(self.work)):
                # An earlier match of this same rule may have consumed part of this one.
                if _CONSUMED in self.work[match.start():match.end()]:
                    continue
                if handler(self, match) is not False:
                    self.consume(match.start(), match.end())

    def consume(self, start: int, end: int) -> None:
        self.work = self.work[:start] + _CONSUMED * (end - start) + self.work[end:]

    def phrase(self, match: re.Match, group: int = 0) -> str:
        return " ".join(self.original[match.start(group):match.end(group)].split())

    def set(self, slot: str, value: Any, phrase: str) -> None:
        if slot in self.slots:
            old, old_phrase = self.slots[slot]
            if old != value:
                raise UsageError(f"{old_phrase!r} and {phrase!r} ask for different {_SLOT_NOUNS[slot]}")
            return
        self.slots[slot] = (value, phrase)

    def value(self, slot: str, default: Any = None) -> Any:
        return self.slots[slot][0] if slot in self.slots else default

    def said(self, slot: str) -> str:
        return self.slots[slot][1]

    # -- what is left over
    def unknown_phrases(self) -> tuple[str, ...]:
        phrases = []
        for segment in re.finditer(r"[^\x00]+", self.work):
            tokens = [t for t in re.finditer(r"[\w'./:~+#%-]+|[^\w\s]", segment.group())]
            words = [(t, _token_key(t.group())) for t in tokens]
            # Runs of words between punctuation are separate phrases ("with reverb, and echo").
            for run in _split_runs(words):
                while run and _is_filler(run[0][1]) and run[0][1] not in vocab.BINDING_WORDS:
                    run = run[1:]
                while run and (run[-1][1] in vocab.TRAILING_FILLER or not any(c.isalnum() for c in run[-1][1])):
                    run = run[:-1]
                if not run or all(_is_filler(key) for _, key in run):
                    continue
                start = segment.start() + run[0][0].start()
                end = segment.start() + run[-1][0].end()
                phrases.append(" ".join(self.original[start:end].split()))
        return tuple(dict.fromkeys(phrases))

    # -- after the scan
    def finish(self, *, previous: dict | None, duration: float | None) -> Interpretation:
        unknown = self.unknown_phrases()
        intent = self.value("intent", "extract")
        if intent in ("probe", "credits"):
            extra = [s for s in _JOB_SLOTS if s in self.slots]
            if extra:
                raise UsageError(f"{self.said('intent')!r} and {self.said(extra[0])!r} ask for different things "
                                 "(showing information and extracting): ask one at a time")
            return Interpretation(intent, {}, _intent_sentence(intent), unknown)
        self._check_within_request()
        options, touched = self._new_options()
        options = _merge(previous or {}, options, touched)
        lossless = self._resolve_quality(options, previous or {})
        self._resolve_track_words(options, previous or {})
        self._resolve_loudness_step(options, previous or {})
        from_end = self.value("from_end")
        if from_end is not None and duration is not None:
            start = round(duration - from_end, 6)
            if start > 0:  # a clip shorter than asked for: the whole of it
                options["start"] = start
            from_end = None
        if lossless and options.get("format") in (None, "auto"):
            options["format"] = "flac" if _needs_reencode(options) else "auto"
        if self.value("apply_all"):
            intent = "apply_all"
        _validate(options, self)
        sentence = _job_sentence(intent, options, lossless=lossless, from_end=from_end)
        return Interpretation(intent, options, sentence, unknown, lossless=lossless, from_end=from_end)

    def _check_within_request(self) -> None:
        fmt = self.value("format")
        quality = self.value("quality")
        if quality == "lossless" and fmt in vocab.LOSSY_FORMATS:
            raise UsageError(f"{self.said('quality')!r} and {self.said('format')!r} clash: "
                             f"{vocab.FORMAT_LABELS[fmt]} is a lossy format")
        if quality == "lossless" and "bitrate" in self.slots:
            raise UsageError(f"{self.said('quality')!r} and {self.said('bitrate')!r} clash: "
                             "a bitrate only applies to lossy formats")
        if quality == "small" and fmt in vocab.LOSSLESS_FORMATS:
            raise UsageError(f"{self.said('quality')!r} and {self.said('format')!r} clash: "
                             f"{vocab.FORMAT_LABELS[fmt]} is lossless, so never small")
        if fmt in vocab.LOSSLESS_FORMATS and "bitrate" in self.slots:
            raise UsageError(f"{self.said('format')!r} and {self.said('bitrate')!r} clash: "
                             f"{vocab.FORMAT_LABELS[fmt]} is lossless and has no bitrate")
        if fmt in vocab.LOSSY_FORMATS and "sample_bits" in self.slots:
            raise UsageError(f"{self.said('sample_bits')!r} needs a lossless format (wav or flac), "
                             f"but {self.said('format')!r} asks for {vocab.FORMAT_LABELS[fmt]}")
        if "loudness_generic" in self.slots and "loudness" in self.slots and self.value("loudness") is None:
            raise UsageError(f"{self.said('loudness')!r} and {self.said('loudness_generic')!r} ask for "
                             "different loudness targets")
        for a, b in (("from_end", "start"), ("from_end", "end"), ("from_end", "duration"), ("end", "duration")):
            if a in self.slots and b in self.slots:
                raise UsageError(f"{self.said(a)!r} and {self.said(b)!r} ask for different ranges")

    def _new_options(self) -> tuple[dict, set[str]]:
        options: dict[str, Any] = {}
        touched: set[str] = set()
        for slot in ("format", "bitrate", "sample_rate", "sample_bits", "channels", "output", "exact",
                     "keep_offset", "overwrite", "salvage", "backend", "allow_cloud"):
            if slot in self.slots:
                options[slot] = self.value(slot)
                touched.add(slot)
        if "track" in self.slots:
            touched.add("track")
            kind, value = self.value("track")
            if kind in ("track", "lang", "title", "all_tracks"):
                options[kind] = value
        if any(s in self.slots for s in ("start", "end", "duration", "from_end", "time_reset")):
            touched.add("time")
            for slot in ("start", "end", "duration"):
                if self.value(slot):  # a start of 0 is the default: leave it out of the spec
                    options[slot] = self.value(slot)
        if "loudness" in self.slots:
            touched.add("loudness")
            if self.value("loudness") is not None:
                options["loudness"] = self.value("loudness")
        elif "loudness_generic" in self.slots:
            touched.add("loudness")
            options["loudness"] = self.value("loudness_generic")
        if "quality" in self.slots:
            touched.add("quality")
        return options, touched

    def _resolve_quality(self, options: dict, previous: dict) -> bool:
        """Apply "lossless" / "best quality" / "small file"; True when a lossless result is wanted."""
        quality = self.value("quality")
        fmt = options.get("format")
        explicit_bitrate = "bitrate" in self.slots
        if quality == "best" and fmt in vocab.LOSSY_FORMATS:
            if not explicit_bitrate:
                options["bitrate"] = vocab.BEST_BITRATE[fmt]
            return False
        if quality in ("lossless", "best"):
            if fmt in vocab.LOSSY_FORMATS:  # a lossy format left over from the previous job
                options.pop("format", None)
            options.pop("bitrate", None)
            return True
        if quality == "small":
            if fmt in (None, "auto") or fmt in vocab.LOSSLESS_FORMATS:
                fmt = options["format"] = vocab.SMALL_FORMAT
                options.pop("sample_bits", None)
            if not explicit_bitrate:
                options["bitrate"] = vocab.SMALL_BITRATE[fmt]
            return False
        # A bit depth only exists in lossless output.
        return "sample_bits" in options and options.get("format") in (None, "auto")

    def _resolve_track_words(self, options: dict, previous: dict) -> None:
        kind, _ = self.value("track", (None, None))
        if kind != "other":
            return
        before = previous.get("track")
        if previous.get("lang") or previous.get("title") or previous.get("all_tracks"):
            raise UsageError(f"{self.said('track')!r}: the last job chose its track by language or title, "
                             "so 'the other' is ambiguous; say 'track 1', 'track 2' or a language")
        options["track"] = 2 if before in (None, 1) else 1

    def _resolve_loudness_step(self, options: dict, previous: dict) -> None:
        step = self.value("loudness_step")
        if step is None or "loudness" in self.slots:
            return
        before = previous.get("loudness")
        if before is None:
            target = vocab.LOUDER_WITHOUT_PREVIOUS if step > 0 else vocab.QUIETER_WITHOUT_PREVIOUS
        else:
            target = min(vocab.LOUDEST_TARGET, max(vocab.QUIETEST_TARGET, float(before) + step))
        options["loudness"] = float(target)

def _token_key(token: str) -> str:
    return token.lower().strip(".,:;!?\"'")


def _is_filler(key: str) -> bool:
    return not key or key in vocab.FILLER or all(not c.isalnum() for c in key)


def _split_runs(words):
    run = []
    for token, key in words:
        if token.group() in ",;!?" or token.group() in vocab.CJK_PUNCTUATION:
            if run:
                yield run
            run = []
            continue
        run.append((token, key))
    if run:
        yield run


_TRACK_KEYS = ("track", "lang", "title", "all_tracks")


def _merge(previous: dict, new: dict, touched: set[str]) -> dict:
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
        drops |= set(_TIME_KEYS)
    drops |= touched & {"bitrate", "sample_rate", "sample_bits", "channels", "output", "loudness", "exact",
                        "keep_offset", "overwrite", "salvage", "backend", "allow_cloud"}
    for key in drops:
        merged.pop(key, None)
    if "format" in touched and "output" not in touched and previous.get("output"):
        merged["output"] = _with_format_suffix(previous["output"], new["format"])
    merged.update(new)
    return merged


def _with_format_suffix(output: str, fmt: str) -> str:
    """interview.mp3 + "as flac instead" -> interview.flac (folders and templates are left alone)."""
    if not _has_audio_suffix(output) or "{" in output:
        return output
    return str(Path(output).with_suffix(f".{fmt}")) if fmt != "auto" else str(Path(output).with_suffix(""))


def _validate(options: dict, reader: _Reader) -> None:
    start, end = options.get("start"), options.get("end")
    if end is not None and end <= (start or 0.0):
        said = reader.said("end") if "end" in reader.slots else "the range"
        raise UsageError(f"{said!r} ends at {format_time(end)}, which is not after the start "
                         f"({format_time(start or 0.0)})")
    try:
        JobSpec.build("request", **options)
    except UsageError as exc:
        raise UsageError(f"the request asks for something impossible: {exc.one_line()}") from None
    except TypeError as exc:  # an option name JobSpec does not know: a bug in this module
        raise UsageError(f"the request produced an invalid option: {exc}") from None

# -- probe-dependent resolution ----------------------------------------------------------------

def _probe(path):
    from extractor.mediainfo import probe

    return probe(path)


def _exact_copy_container(spec: JobSpec, info) -> JobSpec:
    """"lossless" means a stream copy that decodes sample-identically, else FLAC.

    The source's own container first (``format="auto"``); when that copy would not be
    sample-exact (e.g. WebM Opus -> .opus gains end padding), Matroska audio if it is;
    else a FLAC transcode, which is exact by construction."""
    from extractor.planner import select_tracks
    from extractor.policy import FORMATS, natural_format

    tracks = select_tracks(spec, info)

    def exact_in(fmt, track) -> bool:
        return fmt.can_copy(track.codec) and fmt.copy_caveat(track.codec, info.container) is None

    if all(exact_in(natural_format(t.codec), t) for t in tracks):
        return spec
    if all(exact_in(FORMATS["mka"], t) for t in tracks):
        return spec.replace(format="mka")
    return spec.replace(format="flac")


__all__ = ["INTENTS", "Interpretation", "describe", "interpret"]
