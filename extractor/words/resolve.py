"""What a request means for one file, decided against its probe.

"the last 2 minutes" and "cut off the last 10 seconds" need the duration; "the Spanish
commentary" and "the non-English one" need the track list; "lossless" needs to know whether
a copy would be sample-exact; "keep it as mp3, don't re-encode" needs the source to be MP3;
and a constraint the source already satisfies ("mono" on a mono track) is no reason to re-encode.
"""

from __future__ import annotations

from extractor.errors import UsageError
from extractor.jobspec import JobSpec
from extractor.words import vocab
from extractor.words.languages import english_name, same_language


def titled(track, title: str) -> bool:
    """A track's title contains the words' title, or the same thing in another language."""
    have = (track.title or "").lower()
    return any(word in have for word in vocab.TITLE_SYNONYMS.get(title.lower(), (title.lower(),)))


def title_track(title: str, info) -> int | None:
    """The track a vocabulary title finds only through a synonym ("commentary" -> "Comentario"), else None."""
    if any(t.title and title.lower() in t.title.lower() for t in info.audio):
        return None  # the planner finds it as written
    found = [t for t in info.audio if titled(t, title)]
    return found[0].number if found else None


def track_number(rule, info) -> int:
    """The one audio track (its number) that meets every constraint of ``rule``."""
    tracks = list(info.audio)
    wanted = " and ".join(repr(p) for p in rule.phrases)
    found = tracks
    if rule.number is not None:
        found = [t for t in found if t.number == rule.number]
    if rule.lang:
        found = [t for t in found if same_language(t.language, rule.lang)]
    if rule.title:
        found = [t for t in found if titled(t, rule.title)]
    found = [t for t in found if not any(same_language(t.language, x) for x in rule.exclude_langs)]
    found = [t for t in found if not any(titled(t, x) for x in rule.exclude_titles)]
    if not found:
        raise UsageError(f"{info.path}: no audio track is {wanted} (tracks: {_listing(tracks)})",
                         hint="see `vax probe FILE`")
    if len(found) > 1 and rule.default:
        found = [t for t in found if t.default] or found[:1]
    positive = rule.number is not None or rule.lang or rule.title
    if len(found) > 1 and not positive:
        raise UsageError(f"{info.path}: several audio tracks are {wanted}: {_listing(found)}; say which, "
                         "e.g. 'track 2'")
    return found[0].number


def _listing(tracks) -> str:
    parts = []
    for t in tracks:
        about = ", ".join(x for x in (t.language and (english_name(t.language) or t.language), t.title and repr(t.title))
                          if x)
        parts.append(f"{t.number}" + (f" ({about})" if about else ""))
    return "; ".join(parts) or "none"


def source_satisfies(options: dict, info, spec: JobSpec) -> dict:
    """Drop sample rate, channels and bit depth the selected source track already has."""
    from extractor.planner import select_tracks

    tracks = select_tracks(spec, info)
    kept = dict(options)
    for key, attribute in (("sample_rate", "sample_rate"), ("channels", "channels")):
        if key in kept and all(getattr(t, attribute) == kept[key] for t in tracks):
            kept.pop(key)
    return kept


def check_copy_only(spec: JobSpec, info, phrase: str) -> None:
    """"as mp3, don't re-encode": only a copy, so the source must already be that format."""
    from extractor.planner import plan_jobs

    for plan in plan_jobs(spec, info):
        if not plan.is_copy:
            raise UsageError(f"{phrase!r}: track {plan.track.number} is {plan.track.codec.upper()}, so "
                             f"{spec.format} needs a re-encode", hint="drop 'don't re-encode', or ask for "
                             "the source's own format ('lossless')")


def exact_copy_container(spec: JobSpec, info) -> JobSpec:
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


def probe(path):
    from extractor.mediainfo import probe as probe_file

    return probe_file(path)
