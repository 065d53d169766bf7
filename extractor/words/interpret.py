"""`vax do "REQUEST"`: an offline, rule-based reader of requests in words (English, Chinese,
Spanish, German, French; some Portuguese).

``interpret(text)`` turns a request into keyword options for ``JobSpec.build`` plus one plain
sentence of what it understood, and names every part it could not place. It is deterministic
and offline: the text is first normalized to English (``normalize``: typos corrected against
the vocabulary, foreign phrases translated, numbers in words read), then a fixed list of
rules (``rules``) is tried in order; each match consumes its words. What is left is either
filler or reported by name in ``Interpretation.unknown``.

Safety, which the callers (the CLI and the web page) apply through ``refusal()``:

* unknown words stop the job; ``--yes`` runs what was understood only when nothing
  understood selects or removes a part of the file or a track (``yes_safe``), because a
  dropped "not" or "except" would invert exactly those;
* what vax does not do (reverb, noise removal, translation, uploading to YouTube) is named
  as such (``out_of_scope``), never read as something close to it;
* a sign or a target that cannot be honoured (+5 LUFS) is an error, never a silent change;
* words never grant the cloud permission: a request for the cloud needs ``cloud_allowed``
  (the command line's --allow-cloud or VAX_ALLOW_CLOUD).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from extractor.errors import CloudNotAllowed, UsageError
from extractor.jobspec import JobSpec
from extractor.words import resolve, vocab
from extractor.words.compose import (
    JOB_SLOTS,
    TrackRule,
    build_spec,
    check_within_request,
    merge,
    new_options,
    resolve_loudness_step,
    resolve_other_track,
    resolve_quality,
    validate,
)
from extractor.words.patterns import has_audio_suffix, needs_reencode
from extractor.words.reader import Reader, inverts
from extractor.words.rules import RULES
from extractor.words.scope import out_of_scope_message
from extractor.words.text import describe, human_span, intent_sentence, job_sentence

INTENTS = ("extract", "probe", "credits", "upload", "apply_all")
_SELECTING = ("track", "lang", "title", "all_tracks", "start", "end", "duration")


@dataclass(frozen=True)
class Interpretation:
    intent: str  # one of INTENTS
    options: dict  # keyword options for JobSpec.build(input, **options)
    understood: str  # one plain sentence of what will be done (without the file name)
    unknown: tuple[str, ...] = ()  # the parts that could not be placed, as the user wrote them (incl. out_of_scope)
    lossless: bool = False  # "lossless"/"best quality": copy if exact, else FLAC (see spec_for)
    from_end: float | None = None  # "the last N seconds" when the duration was not known yet
    trim_end: float | None = None  # "cut off the last N seconds": the end is N before the file's end
    track_rule: TrackRule | None = None  # several constraints on one track, resolved against the probe
    copy_only: bool = False  # "as mp3, don't re-encode": only if the source already is that format
    out_of_scope: tuple[str, ...] = ()  # the unknown parts that vax does not do ("add reverb")
    corrections: tuple[tuple[str, str], ...] = ()  # typos read as vocabulary words: (written, read as)
    suggestions: tuple[tuple[str, str], ...] = ()  # unknown words and the word they may have meant
    needs_cloud: bool = False  # the words ask for the cloud, and the permission was not given
    start_over: bool = False  # "start over": the previous job was not carried on
    format_named: bool = False  # the format came from the words (or the previous job), not from "lossless"
    inverting_unknown: bool = False  # an unknown part holds a word like "not" or "except"

    @property
    def selects(self) -> bool:
        """True when the job keeps only part of the file or chooses among tracks."""
        return bool(any(k in self.options for k in _SELECTING) or self.from_end is not None
                    or self.trim_end is not None or self.track_rule is not None)

    @property
    def yes_safe(self) -> bool:
        """Whether --yes may run the understood part despite unknown words."""
        return not (self.selects or self.inverting_unknown or self.needs_cloud or self.intent == "upload")

    def refusal(self, *, yes: bool = False) -> str | None:
        """Why this must not run as it stands (None: it may). ``yes``: the user said run what was understood."""
        if self.needs_cloud:
            return ("the request asks for the cloud, and uploading needs your explicit permission: "
                    "add --allow-cloud (or set VAX_ALLOW_CLOUD=1)")
        if not self.unknown:
            return None
        if yes and self.yes_safe:
            return None
        if self.out_of_scope:
            return out_of_scope_message(self.out_of_scope)
        if yes:
            return ("part of the request was not understood, and what was understood chooses a part of the file "
                    "or a track, or the words left over could invert it; nothing was run")
        return "nothing was run, because part of the request was not understood"

    def spec_for(self, input_path, *, info=None, **overrides) -> JobSpec:
        """The job spec for one file; ``overrides`` (e.g. output=, overwrite=) win over the request.

        ``info`` (a MediaInfo) is needed for "the last N minutes", "cut off the last N", several
        track constraints, "lossless" and "don't re-encode"; it is probed here when not given."""
        if self.needs_cloud and not overrides.get("allow_cloud"):
            raise CloudNotAllowed(self.refusal() or "uploading needs your explicit permission")
        options = {**self.options, **{k: v for k, v in overrides.items() if v is not None}}
        if "output" in options:
            options["output"] = os.path.expanduser(options["output"])
        needs_probe = (self.from_end is not None or self.trim_end is not None or self.track_rule is not None
                       or self.lossless or self.copy_only or "title" in options and info is not None)
        if needs_probe:
            info = info or resolve.probe(input_path)
        number = resolve.title_track(options["title"], info) if "title" in options and info is not None else None
        if number and "title" not in overrides:
            options.pop("title")
            options["track"] = number
        self._place_times(options, input_path, info)
        if self.track_rule is not None and not any(k in overrides for k in ("track", "lang", "title")):
            options["track"] = resolve.track_number(self.track_rule, info)
        spec = build_spec(str(input_path), options)
        if self.lossless and (spec.format == "auto" or spec.format == "flac" and not self.format_named) and (
                "format" not in overrides):
            spec = self._lossless(spec, options, info, input_path)
        if self.copy_only:
            resolve.check_copy_only(spec, info, "don't re-encode")
        return spec

    def _place_times(self, options: dict, input_path, info) -> None:
        if self.from_end is None and self.trim_end is None:
            return
        if any(k in options for k in ("end", "duration")) and self.from_end is not None:
            return
        if info.duration is None:
            span = self.from_end if self.from_end is not None else self.trim_end
            raise UsageError(f"{input_path}: its duration is unknown, so the last {human_span(span)} cannot "
                             "be placed; give the times instead")
        if self.from_end is not None and "start" not in options:
            options["start"] = max(0.0, round(info.duration - self.from_end, 6))
        if self.trim_end is not None:
            end = round(info.duration - self.trim_end, 6)
            if end <= options.get("start", 0.0):
                raise UsageError(f"{input_path}: it is {human_span(round(info.duration, 3))} long, so removing "
                                 f"{human_span(self.trim_end)} from the end leaves nothing")
            options["end"] = end

    def _lossless(self, spec: JobSpec, options: dict, info, input_path) -> JobSpec:
        # Asked-for values the source already has ("lossless, mono" of a mono track) allow a copy.
        plain = {k: v for k, v in options.items() if k != "format"}
        relaxed = resolve.source_satisfies(plain, info, spec)
        candidate = build_spec(str(input_path), {**relaxed, "format": "auto"})
        if candidate.wants_reencode:
            return spec if spec.format == "flac" else spec.replace(format="flac")
        if has_audio_suffix(candidate.output):
            return candidate
        return resolve.exact_copy_container(candidate, info)


def interpret(text: str, *, previous: dict | None = None, duration: float | None = None,
              cloud_allowed: bool = False) -> Interpretation:
    """Read one request. ``previous``: the options of the file's last job, for follow-ups.
    ``duration``: the file's length in seconds when known (for "the last 2 minutes").
    ``cloud_allowed``: the user's explicit permission to upload (never taken from the words)."""
    reader = Reader(text)
    reader.read(RULES)
    return _finish(reader, previous=previous, duration=duration, cloud_allowed=cloud_allowed)


def _finish(r: Reader, *, previous: dict | None, duration: float | None, cloud_allowed: bool) -> Interpretation:
    unknown, suggestions, inverting = _unknown(r)
    intent = r.value("intent", "extract")
    scope = tuple(r.out_of_scope)
    if scope and not any(s in r.slots for s in (*JOB_SLOTS, "intent", "apply_all")) and not r.excluded:
        raise UsageError(out_of_scope_message(scope))
    common = {"unknown": unknown + scope, "out_of_scope": scope, "corrections": r.norm.corrections,
              "suggestions": suggestions, "inverting_unknown": inverting}
    if intent in ("probe", "credits"):
        extra = [s for s in JOB_SLOTS if s in r.slots]
        if extra:
            raise UsageError(f"{r.said('intent')!r} and {r.said(extra[0])!r} ask for different things "
                             "(showing information and extracting): ask one at a time")
        return Interpretation(intent, {}, intent_sentence(intent), **common)
    check_within_request(r)
    start_over = bool(r.value("start_over"))
    previous = {} if start_over else (previous or {})
    options, touched, rule = new_options(r)
    options = merge(previous, options, touched)
    if rule is not None:
        for key in ("track", "lang", "title", "all_tracks"):
            options.pop(key, None)
    lossless, copy_only = resolve_quality(r, options)
    resolve_other_track(r, options, previous)
    resolve_loudness_step(r, options, previous)
    from_end, trim_end = r.value("from_end"), r.value("trim_end")
    if from_end is not None and duration is not None:
        start = round(duration - from_end, 6)
        if start > 0:  # a clip shorter than asked for: the whole of it
            options["start"] = start
        from_end = None
    if trim_end is not None and duration is not None:
        options["end"] = round(duration - trim_end, 6)
        trim_end = None
    format_named = options.get("format") not in (None, "auto")
    if lossless and options.get("format") in (None, "auto"):
        options["format"] = "flac" if needs_reencode(options) else "auto"
    needs_cloud = _cloud(r, options, cloud_allowed)
    if r.value("apply_all"):
        intent = "apply_all"
    validate(options, r)
    sentence = job_sentence(intent, options, lossless=lossless, from_end=from_end, trim_end=trim_end,
                            rule=rule, copy_only=copy_only)
    return Interpretation(intent, options, sentence, lossless=lossless, from_end=from_end, trim_end=trim_end,
                          track_rule=rule, copy_only=copy_only, needs_cloud=needs_cloud, start_over=start_over,
                          format_named=format_named, **common)


def _cloud(r: Reader, options: dict, cloud_allowed: bool) -> bool:
    """Words may ask for the cloud; only the explicit permission lets a job go there."""
    if r.value("backend") == "local" and (r.value("cloud") or r.value("cloud_fallback")):
        said = r.said("cloud") if "cloud" in r.slots else r.said("cloud_fallback")
        raise UsageError(f"{r.said('backend')!r} and {said!r} ask for different places to run")
    if not (r.value("cloud") or r.value("cloud_fallback")):
        return False
    if not cloud_allowed:
        return True
    if r.value("cloud"):
        options["backend"] = "remote"
    options["allow_cloud"] = True
    return False


def _unknown(r: Reader) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], bool]:
    from extractor.words.typos import suggestion

    phrases, suggestions, inverting = [], [], False
    known = vocab.english_words()
    for phrase, keys in r.unknown_words():
        phrases.append(phrase)
        inverting = inverting or inverts(keys)
        for key in keys:
            if key not in known:
                offer = suggestion(key, known)
                if offer:
                    suggestions.append((key, offer))
    return tuple(phrases), tuple(dict.fromkeys(suggestions)), inverting


__all__ = ["INTENTS", "Interpretation", "TrackRule", "describe", "interpret"]
