"""Rules for how the audio is written: loudness, bit depth, sample rate, bitrate, channels, quality,
purpose (presets) and format."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from extractor.errors import UsageError
from extractor.words import vocab
from extractor.words.patterns import NUM, B, E, c, first_group

if TYPE_CHECKING:  # pragma: no cover
    from extractor.words.reader import Reader


def _negation(r: Reader, m: re.Match):
    what = m.group(1)
    if re.match(r"normali|loudness|level", what):
        r.set("loudness", None, r.phrase(m))
    elif re.match(r"cloud|the cloud|upload", what):
        r.set("backend", "local", r.phrase(m))
    elif re.match(r"video|picture|image", what):
        return
    else:  # "don't re-encode": a copy; with a lossy format named, only if the source already is that
        r.set("quality", "copy", r.phrase(m))


def _loudness_value(r: Reader, m: re.Match):
    number = float(re.search(NUM, m.group("lufs")).group())
    sign = (m.group("sign") or "").strip()
    if sign in ("+", "plus") and number:
        raise UsageError(f"{r.phrase(m)!r}: loudness targets are below 0 LUFS, so +{number:g} LUFS cannot be "
                         f"honoured; did you mean -{number:g} LUFS?")
    r.set("loudness", -abs(number), r.phrase(m))


def _loudness_preset(value: float) -> Callable:
    def handler(r: Reader, m: re.Match):
        r.set("loudness", value, r.phrase(m))
    return handler


def _normalize(r: Reader, m: re.Match):
    # A bare "normalize" yields to any explicit target in the same request.
    r.slots.setdefault("loudness_generic", (vocab.DEFAULT_LOUDNESS, r.phrase(m)))


def _loudness_step(r: Reader, m: re.Match):
    step = vocab.LOUDER_STEP if m.group(1) == "louder" else -vocab.LOUDER_STEP
    r.set("loudness_step", step, r.phrase(m))


def _bitrate(r: Reader, m: re.Match):
    value, unit = float(m.group(1)), (m.group(2) or "k").lower()
    bits = value * (1_000_000 if unit.startswith("m") else 1000)
    r.set("bitrate", int(bits), r.phrase(m))


def _format_and_bitrate(r: Reader, m: re.Match):
    r.set("format", vocab.FORMAT_WORDS[m.group(1)], r.phrase(m))
    r.set("bitrate", int(m.group(2)) * 1000, r.phrase(m))


def _sample_rate(r: Reader, m: re.Match):
    value, unit = float(m.group(1)), (m.group(2) or "").lower()
    rate = value * 1000 if unit in ("khz", "k") or value < 1000 else value
    r.set("sample_rate", round(rate), r.phrase(m))


def _cd_quality(r: Reader, m: re.Match):
    r.set("sample_rate", 44100, r.phrase(m))
    r.set("sample_bits", 16, r.phrase(m))


def _set(slot: str, value) -> Callable:
    def handler(r: Reader, m: re.Match):
        r.set(slot, value, r.phrase(m))
    return handler


def _format(r: Reader, m: re.Match):
    r.set("format", vocab.FORMAT_WORDS[m.group(1)], r.phrase(m))


_SIGN = r"(?P<sign>[-+−]\s*|minus\s+|plus\s+)?"

NEGATIONS = [
    (c(rf"{B}(?:don't|dont|do\s+not|no|without|never|not|skip|disable|(?:turn|switch)\s+off|undo|"
       rf"no\s+more|avoid)\s+(?:any\s+)?(?:the\s+)?"
       rf"(normali[sz]\w*|loudness(?:\s+normali[sz]ation)?|level(?:l?ing)?|re-?encod\w*|transcod\w*|"
       rf"quality\s+loss|loss|cloud|upload\w*|video|picture|image|(?:convert|touch)(?:ing)?\s+it){E}"), _negation),
    (c(rf"{B}(normali[sz]\w*|loudness(?:\s+normali[sz]ation)?)\s+(?:turned\s+|switched\s+)?off{E}"), _negation),
]

LOUDNESS = [
    (c(rf"{B}normali[sz]\w*\s+(?:the\s+\w+\s+|it\s+)?(?:to|at)\s+{_SIGN}(?P<lufs>{NUM})(?![\d.:])"
       rf"(?:\s*(?:lufs|lu|db))?{E}"), _loudness_value),
    (c(rf"(?<![\w.])(?:(?:at|to)\s+)?{_SIGN}(?P<lufs>{NUM})\s*lufs{E}"), _loudness_value),
    (c(rf"{B}(?:target\s+)?loudness\s+(?:of\s+|at\s+|to\s+)?(?P<sign>-\s*|minus\s*|\+\s*|plus\s*)(?P<lufs>{NUM}){E}"),
     _loudness_value),
    (c(rf"{B}podcasts?\s+(?:loudness|level|levels|standard|volume){E}|{B}apple\s+podcasts?\s+loudness{E}"),
     _loudness_preset(vocab.PODCAST_LOUDNESS)),
    (c(rf"{B}broadcast(?:ing)?\s+(?:loudness|level|levels|standard|volume){E}|{B}ebu(?:\s*r\s*128)?{E}|"
       rf"{B}r\s*128{E}"), _loudness_preset(vocab.BROADCAST_LOUDNESS)),
    (c(rf"{B}(?:spotify|youtube|streaming)\s+(?:loudness|level|levels|standard|volume){E}"),
     _loudness_preset(vocab.STREAMING_LOUDNESS)),
    (c(rf"{B}(?:loudness\s+)?normali[sz]\w*(?:\s+(?:the\s+)?(?:audio|volume|loudness|levels?|sound))?{E}|"
       rf"{B}(?:even\s+out|level|balance|equali[sz]e)\s+the\s+(?:volume|loudness|levels?){E}|"
       rf"{B}(?:consistent|even)\s+(?:volume|loudness){E}"), _normalize),
    (c(rf"{B}(?:make\s+it\s+|a\s+(?:bit|little)\s+|much\s+|slightly\s+)?(louder|quieter|softer){E}"),
     _loudness_step),
]

PURPOSES = [
    (c(rf"{B}(?:for|into|in)\s+(?:the\s+|a\s+)?(?:whisper|transcription|transcribing|speech[\s-]to[\s-]text|stt|"
       rf"speech\s+recognition|subtitling|dictation)(?:\s+(?:later|app|model))?{E}|"
       rf"{B}(?:voice[\s-]memo|speech|dictation)(?:\s+(?:quality|preset|only))?{E}|{B}voice\s+quality{E}"), _set("preset", "speech")),
    (c(rf"{B}(?:for\s+|as\s+|into\s+)?(?:an?\s+|my\s+)?(?:iphone\s+|android\s+|phone\s+|mobile\s+)?ringtone{E}"),
     _set("preset", "ringtone")),
    (c(rf"{B}(?:for\s+)?(?:burning\s+|burn\s+(?:it\s+)?|to\s+burn\s+)(?:onto\s+|to\s+|on\s+)?(?:an?\s+)?(?:audio\s+)?cd"
       rf"{E}|{B}for\s+(?:an?\s+)?(?:audio\s+)?cd(?:\s+player)?{E}|{B}red\s+book{E}"), _set("preset", "cd")),
    (c(rf"{B}(?:for|as)\s+(?:a\s+|my\s+|the\s+|our\s+)?podcasts?(?:\s+episode)?(?:\s+(?:on|in)\s+(?:spotify|apple"
       rf"(?:\s+podcasts)?))?{E}|{B}podcast\s+preset{E}"), _set("preset", "podcast")),
    (c(rf"{B}(?:for|on|in)\s+(?:spotify|youtube|soundcloud|streaming|apple\s+music|tidal|deezer){E}"),
     _set("preset", "streaming")),
    (c(rf"{B}for\s+(?:broadcast(?:ing)?|tv|television|radio|the\s+radio){E}"), _set("preset", "broadcast")),
    (c(rf"{B}(?:for\s+(?:an?\s+|my\s+)?)?audio\s*books?{E}|{B}for\s+(?:audible|acx){E}"), _set("preset", "audiobook")),
]

LEVELS = [
    (c(rf"{B}(?:sample\s*rate|sampling\s+rate|sampled\s+at)\s+(?:of\s+|at\s+|to\s+)?({NUM})\s*(khz|hz|k)?{E}"),
     _sample_rate),
    (c(rf"(?<![\w.])(16|24|32)[\s-]*bits?(?:\s+depth)?{E}|{B}bit[\s-]*depth\s+(?:of\s+)?(16|24|32){E}"),
     lambda r, m: r.set("sample_bits", int(first_group(m, 1, 2).group(1)), r.phrase(m))),
    (c(rf"(?<![\w.])({NUM})\s*(khz|hz|k)\s+(?:sample\s*rate|sampling(?:\s+rate)?){E}|"
       rf"(?<![\w.])({NUM})\s*(khz|hz){E}"),
     lambda r, m: _sample_rate(r, _pair(m))),
    (c(rf"(?<![\w.])(\d+\.\d+)\s*k{E}"), lambda r, m: r.set("sample_rate", round(float(m.group(1)) * 1000),
                                                            r.phrase(m))),
    (c(rf"{B}cd[\s-]quality{E}"), _cd_quality),
    (c(rf"{B}(mp3|aac|m4a|opus|ogg|vorbis)\s+(?:at\s+)?(\d{{2,3}}){E}(?!\s*(?:hz|khz|bit|%|lufs|s{E}|sec|"
       rf"min|m{E}|:|\.\d|k))"), _format_and_bitrate),
    (c(rf"{B}(?:bitrate|bit\s+rate)\s+(?:of\s+|at\s+|to\s+)?({NUM})\s*(k|kbps|kb/s)?{E}"), _bitrate),
    (c(rf"(?<![\w.])({NUM})\s*(k|kbps|kb/s|kbit/s|kbits?(?:/s)?|kilobits?(?:\s+per\s+second)?|"
       rf"mbps|mb/s|mbit/s){E}(?!/)"), _bitrate),
    (c(rf"{B}(?:mono(?:phonic)?|single[\s-]channel|one\s+channel|1\s+channel|down[\s-]?mix(?:ed)?\s+to\s+mono)"
       rf"{E}"), _set("channels", 1)),
    (c(rf"{B}(?:stereo(?:phonic)?|two\s+channels|2\s+channels|down[\s-]?mix(?:ed)?(?:\s+to\s+stereo)?){E}"),
     _set("channels", 2)),
]

QUALITY = [
    (c(rf"{B}(?:lossless(?:ly)?|no\s+quality\s+loss|without\s+(?:any\s+)?(?:quality\s+)?loss|"
       rf"original\s+quality|bit[\s-]?perfect){E}"), _set("quality", "lossless")),
    (c(rf"{B}(?:untouched|as[\s-]is|stream[\s-]copy|copy\s+the\s+(?:audio\s+)?stream|unchanged|just\s+copy(?:\s+it)?)"
       rf"{E}"), _set("quality", "copy")),
    (c(rf"{B}(?:the\s+)?(?:best|highest|maximum|max|top|high|great|excellent|studio)(?:\s+possible)?\s+"
       rf"(?:audio\s+|sound\s+)?quality(?:\s+possible)?{E}|{B}(?:hq|hi-?fi){E}"), _set("quality", "best")),
    (c(rf"{B}(?:as\s+)?small(?:er|est)?(?:\s+as\s+possible)?(?:\s+(?:files?|size|output))?(?:\s+size)?"
       rf"(?:\s+possible)?{E}|{B}(?:tiny|compact)(?:\s+files?)?{E}|{B}low(?:er)?\s+(?:quality|bitrate|bit\s+rate){E}|"
       rf"{B}for\s+(?:e-?mail|whatsapp|messaging){E}|{B}save\s+space{E}"), _set("quality", "small")),
]

FORMATS = [
    (c(rf"{B}(?:(?:as|to|in|into|an?)\s+(?:an?\s+)?)?\.?ogg\s+vorbis{E}"), _set("format", "ogg")),
    (c(rf"{B}(?:(?:as|to|in|into)\s+(?:an?\s+)?)?\.?({'|'.join(sorted(vocab.FORMAT_WORDS, key=len, reverse=True))})s?"
       rf"(?:\s+(?:format|file|audio|version))?{E}"), _format),
]


def _pair(m: re.Match):
    from extractor.words.patterns import Groups

    return Groups(m, (1, 2) if m.group(1) else (3, 4))
