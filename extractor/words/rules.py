"""The patterns `vax do` reads, in order, and what each one sets (see ``extractor.request``).

Each rule is (compiled pattern, handler). A handler reads its match, records values in the
reader's slots (``reader.set(slot, value, phrase)``, which raises on a clash) and returns
None to consume the words, or False to leave them for later rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from extractor.errors import UsageError
from extractor.timeparse import parse_time
from extractor.words import vocab

if TYPE_CHECKING:  # pragma: no cover
    from extractor.words.interpret import _Reader

B = r"(?<![a-z0-9_'])"  # start of an ASCII word (works next to Chinese characters, unlike \b)
E = r"(?![a-z0-9_])"  # end of an ASCII word
NUM = r"\d+(?:\.\d+)?"
_WORDNUM = "|".join(sorted((re.escape(w) for w in vocab.NUMBER_WORDS), key=len, reverse=True))
_UNIT = r"(?:hours?|hrs?|h|minutes?|mins?|milliseconds?|ms|m|seconds?|secs?|s)(?![a-z0-9])"
_CLOCK = r"\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?"
_COMPACT = r"\d+h(?:\d+m)?(?:\d+(?:\.\d+)?s)?(?![a-z0-9])|\d+m\d+(?:\.\d+)?s?(?![a-z0-9])"
_QTY = rf"(?:{NUM}\s*|(?<![a-z])(?:{_WORDNUM})\s+){_UNIT}(?:\s*(?:and\s+)?{NUM}\s*{_UNIT})*"
DUR = rf"(?:{_CLOCK}|{_COMPACT}|{_QTY})"  # a time with a unit or a clock
POINT = rf"(?:{DUR}|{NUM}(?![\d.:a-z]))"  # a time that may be a bare number of seconds
SPAN = rf"(?:{DUR}|(?:hour|minute|second)(?![a-z]))"  # "the first minute" means one minute
_CN_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十]+)"
_CN_UNIT = r"(?:秒钟|秒|分钟|分|小时)"
NAME = r"(\"[^\"\x00]+\"|'[^'\x00]+'|[^\s\"',;!?\x00]+)"
_EXT_ALT = "|".join(e for e in vocab.FORMAT_WORDS if e not in ("wave", "vorbis"))
# "call it my talk.mp3": up to four words when the last one ends in an audio extension.
FILE_NAME = (rf"(\"[^\"\x00]+\"|'[^'\x00]+'|(?:[^\s\"',;!?\x00]+\s){{0,3}}?[^\s\"',;!?\x00]+\.(?:{_EXT_ALT})"
             rf"(?![a-z0-9])|[^\s\"',;!?\x00]+)")
AUDIO_EXTS = tuple(f".{ext}" for ext in vocab.FORMAT_WORDS if ext not in ("wave", "vorbis"))

_FORMAT_ALT = "|".join(sorted(vocab.FORMAT_WORDS, key=len, reverse=True))
_ASCII_LANGS = sorted((n for n in vocab.LANGUAGES if n.isascii() and len(n) > 2), key=len, reverse=True)
_SAFE_TWO_LETTER = sorted(n for n in vocab.LANGUAGES if n.isascii() and len(n) == 2)
_CJK_LANGS = sorted((n for n in vocab.LANGUAGES if not n.isascii()), key=len, reverse=True)
_ORDINAL_ALT = "|".join(sorted(vocab.ORDINALS, key=len, reverse=True))
_TITLE_ALT = "|".join(re.escape(t) for t in sorted(vocab.TITLE_WORDS, key=len, reverse=True) if t.isascii())
_TIME_KEYS = ("start", "end", "duration")


def _has_audio_suffix(output: str | None) -> bool:
    return bool(output) and output.lower().endswith(AUDIO_EXTS)


def _needs_reencode(options: dict) -> bool:
    trims = any(options.get(k) for k in _TIME_KEYS)
    return bool(options.get("bitrate") or options.get("sample_rate") or options.get("channels")
                or options.get("sample_bits")
                or options.get("loudness") is not None or options.get("exact") and trims)


# -- value readers ---------------------------------------------------------------------------

def _seconds(text: str) -> float:
    """'1 minute 30 seconds', 'ninety seconds', '1m30s', '01:30', 'minute', '90' -> seconds."""
    t = " ".join(text.lower().split())
    if re.fullmatch(r"(?:hour|minute|second)", t):
        t = "1 " + t
    for word in sorted(vocab.NUMBER_WORDS, key=len, reverse=True):
        t = re.sub(rf"(?<![a-z]){re.escape(word)}(?![a-z])", f"{vocab.NUMBER_WORDS[word]:g}", t)
    t = re.sub(r"\band\b", " ", t)
    t = re.sub(rf"({NUM})\s*(?:milliseconds?|ms)(?![a-z])", r"\1ms", t)
    t = re.sub(rf"({NUM})\s*(?:hours?|hrs?|h)(?![a-z])", r"\1h", t)
    t = re.sub(rf"({NUM})\s*(?:minutes?|mins?|m)(?![a-z0-9])", r"\1m", t)
    t = re.sub(rf"({NUM})\s*(?:seconds?|secs?|s)(?![a-z])", r"\1s", t)
    t = re.sub(r"\s+", "", t)
    value = parse_time(t)
    if value is None:
        raise UsageError(f"cannot read {text!r} as a time")
    return value


def _cn_seconds(number: str, unit: str) -> float:
    if number.replace(".", "").isdigit():
        value = float(number)
    else:  # 一..十, 十五, 二十, 三十
        digits = [vocab.CHINESE_NUMBERS[c] for c in number]
        if "十" in number:
            tens, _, ones = number.partition("十")
            value = (vocab.CHINESE_NUMBERS.get(tens, 1) if tens else 1) * 10 + (
                vocab.CHINESE_NUMBERS[ones] if ones else 0)
        else:
            value = digits[0]
    return value * {"秒": 1, "秒钟": 1, "分": 60, "分钟": 60, "小时": 3600}[unit]


def _clean_name(raw: str) -> str:
    name = raw.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name.rstrip(".,:;!?")


def _is_vocabulary(word: str) -> bool:
    word = word.lower().strip("\"'")
    return (word in vocab.FORMAT_WORDS or word in vocab.LANGUAGES or word in vocab.FILLER
            or word in vocab.ORDINALS or word in vocab.TITLE_WORDS)


def _looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or (len(name) > 1 and name[0] in ".~")


# -- rule handlers -----------------------------------------------------------------------------
# Each takes (reader, match); returning False leaves the words for later rules.

def _output_file(r: _Reader, m: re.Match):
    name = _clean_name(r.original[m.start(1):m.end(1)])
    if not name or _is_vocabulary(name):
        return False
    _set_output(r, name, r.phrase(m))


def _output_folder(r: _Reader, m: re.Match):
    name = _clean_name(r.original[m.start(1):m.end(1)])
    keyword = re.search(r"folder|directory|dir\b", m.group(0))
    if not name or not keyword and (_is_vocabulary(name) or not (_looks_like_path(name) or _has_audio_suffix(name))):
        return False
    if not _has_audio_suffix(name) and not name.endswith(("/", "\\")) and "{" not in name:
        name += "/"
    _set_output(r, name, r.phrase(m))


def _set_output(r: _Reader, name: str, phrase: str) -> None:
    r.set("output", name, phrase)
    if _has_audio_suffix(name):
        r.set("format", vocab.FORMAT_WORDS[name.rsplit(".", 1)[1].lower()], phrase)


def _negation(r: _Reader, m: re.Match):
    what = m.group(1)
    if re.match(r"normali|loudness|level", what):
        r.set("loudness", None, r.phrase(m))
    elif re.match(r"cloud|the cloud|upload", what):
        r.set("backend", "local", r.phrase(m))
    elif re.match(r"video|picture|image", what):
        return
    else:
        r.set("quality", "lossless", r.phrase(m))


def _loudness_value(r: _Reader, m: re.Match):
    number = re.search(NUM, m.group("lufs")).group()
    r.set("loudness", -abs(float(number)), r.phrase(m))


def _preset(value: float) -> Callable:
    def handler(r: _Reader, m: re.Match):
        r.set("loudness", value, r.phrase(m))
    return handler


def _normalize(r: _Reader, m: re.Match):
    # A bare "normalize" yields to any explicit target in the same request.
    r.slots.setdefault("loudness_generic", (vocab.DEFAULT_LOUDNESS, r.phrase(m)))


def _loudness_step(r: _Reader, m: re.Match):
    step = vocab.LOUDER_STEP if m.group(1) == "louder" else -vocab.LOUDER_STEP
    r.set("loudness_step", step, r.phrase(m))


def _bitrate(r: _Reader, m: re.Match):
    value, unit = float(m.group(1)), (m.group(2) or "k").lower()
    bits = value * (1_000_000 if unit.startswith("m") else 1000)
    r.set("bitrate", int(bits), r.phrase(m))


def _format_and_bitrate(r: _Reader, m: re.Match):
    r.set("format", vocab.FORMAT_WORDS[m.group(1)], r.phrase(m))
    r.set("bitrate", int(m.group(2)) * 1000, r.phrase(m))


def _sample_rate(r: _Reader, m: re.Match):
    value, unit = float(m.group(1)), (m.group(2) or "").lower()
    rate = value * 1000 if unit in ("khz", "k") or value < 1000 else value
    r.set("sample_rate", round(rate), r.phrase(m))


def _cd_quality(r: _Reader, m: re.Match):
    r.set("sample_rate", 44100, r.phrase(m))
    r.set("sample_bits", 16, r.phrase(m))


def _bits(r: _Reader, m: re.Match):
    r.set("sample_bits", int(m.group(1)), r.phrase(m))


def _channels(count: int) -> Callable:
    def handler(r: _Reader, m: re.Match):
        r.set("channels", count, r.phrase(m))
    return handler


def _quality(kind: str) -> Callable:
    def handler(r: _Reader, m: re.Match):
        r.set("quality", kind, r.phrase(m))
    return handler


def _all_tracks(r: _Reader, m: re.Match):
    r.set("track", ("all_tracks", True), r.phrase(m))


def _ordinal_track(r: _Reader, m: re.Match):
    r.set("track", ("track", vocab.ORDINALS[m.group(1)]), r.phrase(m))


def _numbered_track(r: _Reader, m: re.Match):
    number = m.group(1)
    value = int(number) if number.isdigit() else int(_cn_seconds(number, "秒"))
    r.set("track", ("track", value), r.phrase(m))


def _other_track(r: _Reader, m: re.Match):
    r.set("track", ("other", None), r.phrase(m))


def _default_track(r: _Reader, m: re.Match):
    r.set("track", ("default", None), r.phrase(m))


def _title_word(r: _Reader, m: re.Match):
    key = " ".join(m.group(1).split())
    r.set("track", ("title", vocab.TITLE_WORDS[key]), r.phrase(m))


def _titled(r: _Reader, m: re.Match):
    name = _clean_name(r.original[m.start(1):m.end(1)])
    if not name:
        return False
    r.set("track", ("title", name), r.phrase(m))


def _language(r: _Reader, m: re.Match):
    word = m.group(1)
    code = vocab.LANGUAGES.get(word) or vocab.AMBIGUOUS_LANGUAGE_CODES.get(word)
    if code is None:
        if not re.fullmatch(r"[a-z]{2,3}", word):
            return False
        code = word  # "lang xx": an ISO code we have no name for; the planner matches it as given
    r.set("track", ("lang", code), r.phrase(m))


def _generic_title(r: _Reader, m: re.Match):
    word = m.group(1)
    if word in vocab.NOT_A_TITLE or _is_vocabulary(word) or word.isdigit():
        return False
    r.set("track", ("title", r.original[m.start(1):m.end(1)]), r.phrase(m))


def _range(r: _Reader, m: re.Match):
    phrase = r.phrase(m)
    r.set("start", _seconds(m.group(1)), phrase)
    r.set("end", _seconds(m.group(2)), phrase)


def _first(r: _Reader, m: re.Match):
    phrase = r.phrase(m)
    r.set("start", 0.0, phrase)
    r.set("end", _seconds(m.group(1)), phrase)


def _last(r: _Reader, m: re.Match):
    r.set("from_end", _seconds(m.group(1)), r.phrase(m))


def _start(r: _Reader, m: re.Match):
    r.set("start", _seconds(m.group(1)), r.phrase(m))


def _end(r: _Reader, m: re.Match):
    r.set("end", _seconds(m.group(1)), r.phrase(m))


def _duration(r: _Reader, m: re.Match):
    r.set("duration", _seconds(next(g for g in m.groups() if g)), r.phrase(m))


def _whole(r: _Reader, m: re.Match):
    r.set("time_reset", True, r.phrase(m))


def _cn_first(r: _Reader, m: re.Match):
    phrase = r.phrase(m)
    r.set("start", 0.0, phrase)
    r.set("end", _cn_seconds(m.group(1), m.group(2)), phrase)


def _cn_last(r: _Reader, m: re.Match):
    r.set("from_end", _cn_seconds(m.group(1), m.group(2)), r.phrase(m))


def _format(r: _Reader, m: re.Match):
    r.set("format", vocab.FORMAT_WORDS[m.group(1)], r.phrase(m))


def _flag(slot: str, value: Any) -> Callable:
    def handler(r: _Reader, m: re.Match):
        r.set(slot, value, r.phrase(m))
    return handler


def _cloud(r: _Reader, m: re.Match):
    r.set("backend", "remote", r.phrase(m))
    r.set("allow_cloud", True, r.phrase(m))


def _intent(name: str) -> Callable:
    def handler(r: _Reader, m: re.Match):
        r.set("intent", name, r.phrase(m))
        if name == "upload":
            r.set("backend", "remote", r.phrase(m))
            r.set("allow_cloud", True, r.phrase(m))
    return handler


def _apply_all(r: _Reader, m: re.Match):
    r.set("apply_all", True, r.phrase(m))


def _silent(r: _Reader, m: re.Match):
    return None


def _c(pattern: str) -> re.Pattern:
    return re.compile(pattern)


_LANG_WORDS = "|".join(re.escape(n) for n in _ASCII_LANGS + _SAFE_TWO_LETTER)
_AMBIGUOUS = "|".join(vocab.AMBIGUOUS_LANGUAGE_CODES)
_TRACK_NOUN = r"(?:track|stream|dub|version|one|audio|sound|language)"
_CN_FILLER = "|".join(re.escape(w) for w in sorted(vocab.CHINESE_FILLER, key=len, reverse=True))

# Order matters: names first (they may contain anything), then negations, numbers with units
# (loudness, bitrate, rate, bits) before bare times, tracks before times ("the first track"),
# times before formats, and intents last.
_RULES: list[tuple[re.Pattern, Callable]] = [
    # -- output naming
    (_c(rf"{B}(?:track|stream)\s+(?:titled|called|named|labell?ed)\s+{NAME}"), _titled),
    (_c(rf"{B}(?:call|name|rename)\s+(?:it|them|this|that|the\s+(?:file|output|result|audio))\s+"
        rf"(?:as\s+|to\s+)?{FILE_NAME}"), _output_file),
    (_c(rf"{B}(?:save|write|export|store|output)\s+(?:it\s+|them\s+)?as\s+(?:a\s+file\s+)?(?:named\s+|called\s+)?"
        rf"{FILE_NAME}"), _output_file),
    (_c(rf"{B}(?:named|called)\s+{FILE_NAME}"), _output_file),
    (_c(rf"{B}(?:save|put|write|store|place|export|output|drop|move|send)\s+(?:it\s+|them\s+|everything\s+|"
        rf"the\s+(?:files?|outputs?|results?|audio)\s+)?(?:to|in|into|under|at)\s+(?:the\s+)?(?:my\s+)?"
        rf"(?:(?:folder|directory|dir)\s+)?{NAME}"), _output_folder),
    (_c(rf"{B}(?:in|into|to)\s+(?:the\s+)?(?:folder|directory|dir)\s+{NAME}"), _output_folder),
    (_c(rf"(?<![\w-])(?:-o|--output|output\s*[:=]|output\s+to)\s*{NAME}"), _output_folder),
    (_c(rf"{B}(?:to|into|as)\s+{NAME}"), _output_folder),
    # -- "show all tracks" is a question, not a track choice: read it before the track rules
    (_c(rf"{B}(?:show|list|display|what(?:'s|\s+is|\s+are)?|which)\s+(?:me\s+)?(?:the\s+|all\s+)?(?:the\s+)?"
        rf"(?:audio\s+)?(?:tracks|streams|languages)(?:\s+(?:are\s+)?(?:there|in\s+it))?{E}|"
        rf"{B}what'?s\s+in(?:side)?(?:\s+it)?{E}"), _intent("probe")),
    # -- negations, before the words they negate
    (_c(rf"{B}(?:don't|dont|do\s+not|no|without|never|not|skip|disable|(?:turn|switch)\s+off|remove|undo|"
        rf"no\s+more)\s+(?:any\s+)?(?:the\s+)?"
        rf"(normali[sz]\w*|loudness(?:\s+normali[sz]ation)?|level(?:l?ing)?|re-?encod\w*|transcod\w*|"
        rf"quality\s+loss|loss|cloud|upload\w*|video|picture|image){E}"), _negation),
    (_c(rf"{B}(normali[sz]\w*|loudness(?:\s+normali[sz]ation)?)\s+(?:turned\s+|switched\s+)?off{E}"),
     _negation),
    # -- loudness
    (_c(rf"{B}normali[sz]\w*\s+(?:the\s+\w+\s+|it\s+)?(?:to|at)\s+(?P<lufs>-?\s*{NUM})(?![\d.:])"
        rf"(?:\s*(?:lufs|lu|db))?{E}"),
     _loudness_value),
    (_c(rf"(?<![\w.])(?:(?:at|to)\s+)?(?:-|minus\s*)?\s*(?P<lufs>{NUM})\s*lufs{E}"), _loudness_value),
    (_c(rf"{B}(?:target\s+)?loudness\s+(?:of\s+|at\s+|to\s+)?(?P<lufs>-\s*{NUM}|minus\s*{NUM}){E}"),
     _loudness_value),
    (_c(rf"{B}(?:for\s+(?:a\s+)?)?podcasts?(?:\s+(?:loudness|level|levels|standard|volume))?{E}|"
        rf"{B}apple\s+podcasts?{E}"), _preset(vocab.PODCAST_LOUDNESS)),
    (_c(rf"{B}(?:for\s+)?broadcast(?:ing)?(?:\s+(?:loudness|level|levels|standard|volume))?{E}|"
        rf"{B}ebu(?:\s*r\s*128)?{E}|{B}r\s*128{E}"), _preset(vocab.BROADCAST_LOUDNESS)),
    (_c(rf"{B}(?:spotify|youtube|streaming)\s+(?:loudness|level|levels|standard|volume){E}|"
        rf"{B}for\s+(?:spotify|youtube|streaming){E}"), _preset(vocab.STREAMING_LOUDNESS)),
    (_c(rf"{B}(?:loudness\s+)?normali[sz]\w*(?:\s+(?:the\s+)?(?:audio|volume|loudness|levels?|sound))?{E}|"
        rf"{B}(?:even\s+out|level|balance|equali[sz]e)\s+the\s+(?:volume|loudness|levels?){E}|"
        rf"响度标准化|音量标准化|响度归一化|标准化|归一化"), _normalize),
    (_c(rf"{B}(?:make\s+it\s+|a\s+(?:bit|little)\s+|much\s+|slightly\s+)?(louder|quieter|softer){E}"),
     _loudness_step),
    # -- bit depth, sample rate, bitrate, channels
    (_c(rf"(?<![\w.])(16|24|32)[\s-]*bits?(?:\s+depth)?{E}|{B}bit[\s-]*depth\s+(?:of\s+)?(16|24|32){E}|"
        rf"(16|24|32)\s*位"), lambda r, m: _bits(r, _Groups(m, (next(i for i in (1, 2, 3) if m.group(i)),)))),
    (_c(rf"(?<![\w.])(\d+\.\d+)\s*k{E}"), lambda r, m: r.set("sample_rate", round(float(m.group(1)) * 1000),
                                                             r.phrase(m))),
    (_c(rf"(?<![\w.])({NUM})\s*(khz|hz|k)(?:\s+(?:sample\s*rate|sampling(?:\s+rate)?)){E}|"
        rf"(?<![\w.])({NUM})\s*(khz|hz){E}"),
     lambda r, m: _sample_rate(r, _Groups(m, (1, 2) if m.group(1) else (3, 4)))),
    (_c(rf"{B}(?:sample\s*rate|sampling\s+rate|sampled\s+at)\s+(?:of\s+|at\s+)?({NUM})\s*(khz|hz|k)?{E}"),
     _sample_rate),
    (_c(rf"{B}cd[\s-]quality{E}"), _cd_quality),
    (_c(rf"{B}(mp3|aac|m4a|opus|ogg|vorbis)\s+(?:at\s+)?(\d{{2,3}}){E}(?!\s*(?:hz|khz|bit|%|lufs|s{E}|sec|"
        rf"min|m{E}|:|\.\d|k))"), _format_and_bitrate),
    (_c(rf"(?<![\w.])({NUM})\s*(k|kbps|kb/s|kbit/s|kbits?(?:/s)?|kilobits?(?:\s+per\s+second)?|"
        rf"mbps|mb/s|mbit/s){E}(?!/)"), _bitrate),
    (_c(rf"{B}(?:bitrate|bit\s+rate)\s+(?:of\s+|at\s+)?({NUM})\s*(k|kbps|kb/s)?{E}"), _bitrate),
    (_c(rf"{B}(?:mono(?:phonic)?|single[\s-]channel|one\s+channel|1\s+channel|down[\s-]?mix(?:ed)?\s+to\s+mono)"
        rf"{E}|单声道"), _channels(1)),
    (_c(rf"{B}(?:stereo(?:phonic)?|two\s+channels|2\s+channels|down[\s-]?mix(?:ed)?(?:\s+to\s+stereo)?){E}|"
        rf"立体声|双声道"), _channels(2)),
    # -- quality words
    (_c(rf"{B}(?:lossless(?:ly)?|no\s+quality\s+loss|without\s+(?:any\s+)?(?:quality\s+)?loss|"
        rf"original\s+quality|bit[\s-]?perfect|untouched|as[\s-]is|stream[\s-]copy|"
        rf"copy\s+the\s+(?:audio\s+)?stream|unchanged){E}|无损|原音质"), _quality("lossless")),
    (_c(rf"{B}(?:the\s+)?(?:best|highest|maximum|max|top|high|great|excellent|studio)(?:\s+possible)?\s+"
        rf"(?:audio\s+|sound\s+)?quality{E}|{B}(?:hq|hi-?fi){E}|最高音质|高音质|最佳音质"), _quality("best")),
    (_c(rf"{B}(?:as\s+)?small(?:er|est)?(?:\s+as\s+possible)?(?:\s+(?:files?|size|output))?(?:\s+size)?{E}|"
        rf"{B}(?:tiny|compact)(?:\s+files?)?{E}|{B}low(?:er)?\s+(?:quality|bitrate|bit\s+rate){E}|"
        rf"{B}for\s+(?:e-?mail|whatsapp|messaging){E}|{B}save\s+space{E}|小文件"), _quality("small")),
    # -- tracks
    (_c(rf"{B}(?:all|every|each|both)\s+(?:of\s+)?(?:the\s+)?(?:audio\s+|sound\s+|language\s+)?"
        rf"(?:tracks?|streams?|languages?|dubs?){E}|(?:全部|所有)(?:音轨|语言)"), _all_tracks),
    (_c(rf"{B}(?:the\s+)?({_ORDINAL_ALT})\s+(?:audio\s+|sound\s+|language\s+)?(?:track|stream|one){E}"
        rf"(?!\s*(?:and\s+a\s+half|half|hours?|minutes?|mins?|seconds?|secs?){E})"),
     _ordinal_track),
    (_c(rf"{B}(?:audio\s+|sound\s+)?(?:track|stream)\s*(?:number\s*|no\.?\s*|#\s*)?(\d{{1,2}}){E}"
        rf"(?!\s*(?::|s{E}|sec|min|m{E}))|第\s*(\d+|[一二两三四五六七八九十])\s*(?:条|个|号)?\s*音轨|音轨\s*(\d+)"),
     lambda r, m: _numbered_track(r, _Groups(m, (next(i for i in (1, 2, 3) if m.group(i)),)))),
    (_c(rf"{B}(?:the\s+)?other\s+(?:audio\s+)?(?:track|stream|one|language){E}"), _other_track),
    (_c(rf"{B}(?:the\s+)?(?:main|default|primary|original)\s+(?:audio\s+)?(?:track|stream|language){E}"),
     _default_track),
    (_c(rf"{B}(?:the\s+)?({_TITLE_ALT})(?:\s+(?:track|stream|version|audio))?{E}"), _title_word),
    (_c(r"(解说)(?:音轨)?"), _title_word),
    (_c(rf"{B}(?:audio\s+)?lang(?:uage)?\s*(?:code\s*)?[:=]?\s*([a-z]{{2,3}}|{_LANG_WORDS}){E}"), _language),
    (_c(rf"{B}(?:the\s+)?({_AMBIGUOUS})\s+(?:audio\s+|language\s+)?(?:track|stream|dub|version){E}"),
     _language),
    (_c(rf"{B}(?:the\s+)?(?:in\s+)?({_LANG_WORDS})(?:\s+{_TRACK_NOUN})*{E}"), _language),
    (_c(rf"({'|'.join(re.escape(n) for n in _CJK_LANGS)})(?:音轨|配音|版本|版)?"), _language),
    (_c(rf"{B}the\s+([a-z][\w'-]*)\s+(?:audio\s+)?(?:track|stream){E}"), _generic_title),
    # -- time
    (_c(rf"{B}between\s+({POINT})\s+and\s+({POINT}){E}"), _range),
    (_c(rf"{B}(?:from|starting\s+(?:at|from)|start\s+at)\s+({POINT})\s*(?:to|until|till|through|thru|-|–|—)\s*"
        rf"({POINT}){E}"), _range),
    (_c(rf"(?<![\w.:])({DUR})\s*(?:to|until|till|-|–|—)\s*({DUR}){E}"), _range),
    (_c(rf"{B}skip(?:ping)?\s+(?:the\s+)?(?:first\s+)?({SPAN}){E}"), _start),
    (_c(rf"{B}(?:only\s+)?(?:the\s+)?(?:first|opening|initial)\s+({SPAN}){E}"), _first),
    (_c(rf"{B}(?:only\s+)?(?:the\s+)?(?:last|final|closing)\s+({SPAN}){E}"), _last),
    (_c(rf"{B}(?:starting|start(?:s|ing)?|begin(?:ning|s)?)\s+(?:at|from)\s+({POINT}){E}(?:\s+on(?:wards?)?{E})?|"
        rf"{B}(?:from|starting|after)\s+({DUR}){E}(?:\s+on(?:wards?)?{E})?"),
     lambda r, m: _start(r, _Groups(m, (1 if m.group(1) else 2,)))),
    (_c(rf"{B}(?:until|till|up\s+to|upto|ending\s+at|end(?:ing|s)?\s+at|stop(?:ping)?\s+at|to)\s+({DUR}){E}"),
     _end),
    (_c(rf"{B}(?:to|until|till|through)\s+the\s+(?:very\s+)?end{E}|"
        rf"{B}from\s+the\s+(?:very\s+)?(?:start|beginning){E}"), _silent),
    (_c(rf"{B}for\s+(?:the\s+next\s+)?({DUR}){E}|{B}({DUR})\s+long{E}|{B}(?:a\s+)?duration\s+(?:of\s+)?({DUR}){E}"),
     _duration),
    (_c(rf"{B}(?:the\s+)?(?:whole|entire|full|complete)\s+(?:thing|file|video|audio|track|length|duration|clip)"
        rf"{E}|完整"), _whole),
    (_c(rf"前\s*({_CN_NUM})\s*({_CN_UNIT})"), _cn_first),
    (_c(rf"(?:最后|后)\s*({_CN_NUM})\s*({_CN_UNIT})"), _cn_last),
    (_c(rf"从\s*({POINT})\s*(?:到|至)\s*({POINT})"), _range),
    # -- formats
    (_c(rf"{B}(?:(?:as|to|in|into|an?)\s+(?:an?\s+)?)?\.?ogg\s+vorbis{E}"), lambda r, m: r.set("format", "ogg",
                                                                                             r.phrase(m))),
    (_c(rf"{B}(?:(?:as|to|in|into)\s+(?:an?\s+)?)?\.?({_FORMAT_ALT})s?(?:\s+(?:format|file|audio|version))?{E}"),
     _format),
    # -- flags
    (_c(rf"{B}(?:sample|frame)[\s-]accurate(?:ly)?(?:\s+(?:cut|cuts|trim|trimming))?{E}|"
        rf"{B}(?:exact|precise)(?:ly)?(?:\s+(?:cut|cuts|trim|trimming|timing))?{E}"), _flag("exact", True)),
    (_c(rf"{B}(?:drop|remove|ignore|without|no|strip)\s+(?:the\s+)?(?:start\s+)?(?:offset|delay|leading\s+silence)"
        rf"{E}|{B}start\s+at\s+the\s+first\s+(?:audio\s+)?sample{E}"), _flag("keep_offset", False)),
    (_c(rf"{B}(?:keep\s+(?:the\s+)?(?:start\s+)?(?:offset|sync|delay)|in\s+sync\s+with\s+the\s+video|in\s+sync){E}"),
     _flag("keep_offset", True)),
    (_c(rf"{B}(?:(?:overwrite|overwriting|replace)(?:\s+(?:the\s+|any\s+)?(?:existing|old)(?:\s+(?:files?|ones?|"
        rf"outputs?))?)?|replace\s+it){E}|覆盖"), _flag("overwrite", True)),
    (_c(rf"{B}(?:salvage|recover|rescue|even\s+if\s+(?:it'?s\s+|it\s+is\s+)?(?:damaged|broken|corrupt(?:ed)?|"
        rf"truncated)|damaged|broken|corrupt(?:ed)?|truncated){E}"), _flag("salvage", True)),
    (_c(rf"{B}(?:allow|permit)\s+(?:the\s+)?cloud(?:\s+(?:fallback|backend|if\s+needed))?{E}|"
        rf"{B}(?:use\s+the\s+)?cloud\s+(?:if\s+(?:needed|necessary)|fallback){E}"), _flag("allow_cloud", True)),
    (_c(rf"{B}(?:locally|offline|on\s+this\s+(?:machine|computer)|local(?:\s+only)?){E}|本地"),
     _flag("backend", "local")),
    (_c(rf"{B}(?:in|on|via|using|use|with)\s+the\s+cloud{E}|{B}(?:nemovideo|cloud\s+backend|remotely){E}|云端"),
     _cloud),
    # -- intents
    (_c(rf"{B}(?:do\s+)?(?:the\s+)?same\s+(?:thing\s+)?(?:for|to|with)\s+(?:all|every|each|the\s+(?:rest|others))"
        rf"(?:\s+(?:of\s+them|the\s+(?:others|files|videos)|files|videos|others|one))?{E}|"
        rf"{B}apply\s+(?:it\s+|this\s+|that\s+)?to\s+(?:all|every|each)(?:\s+(?:of\s+them|files?|the\s+files|videos?))?"
        rf"{E}|{B}(?:for|to)\s+all\s+(?:of\s+)?(?:them|the\s+(?:files|videos)|files|videos|the\s+others){E}|"
        rf"全部(?:都)?一样|同样处理"), _apply_all),
    (_c(rf"{B}(?:status|probe|info(?:rmation)?|details){E}|状态|信息|音轨列表"), _intent("probe")),
    (_c(rf"{B}(?:how\s+many\s+)?(?:credits?|balance)(?:\s+(?:balance|left|remaining|do\s+i\s+have|i\s+have))*{E}|"
        rf"积分|余额|点数"), _intent("credits")),
    (_c(rf"{B}upload(?:ing|ed)?(?:\s+(?:it|them))?(?:\s+to\s+the\s+cloud)?{E}|上传"), _intent("upload")),
    (_c(r"提取音频|提取声音|提取|抽取音频|分离音频|导出|下载|转换"), _silent),
    # -- silent phrases
    (_c(rf"{B}(?:the\s+)?same\s+as\s+(?:before|last\s+time){E}|{B}(?:like|as)\s+before{E}|{B}keep\s+it{E}|"
        rf"{B}(?:audio|sound)\s+only{E}|{B}(?:as\s+)?(?:a\s+)?separate\s+(?:audio\s+)?file{E}"), _silent),
    (_c(rf"[{re.escape(vocab.CJK_PUNCTUATION)}]+|{_CN_FILLER}"), _silent),
]


class _Groups:
    """A match seen through a subset of its groups, so one handler serves several alternatives."""

    def __init__(self, match: re.Match, groups: tuple[int, ...]):
        self._m, self._g = match, groups

    def group(self, i: int = 0):
        return self._m.group(0) if i == 0 else self._m.group(self._g[i - 1])

    def start(self, i: int = 0):
        return self._m.start(0) if i == 0 else self._m.start(self._g[i - 1])

    def end(self, i: int = 0):
        return self._m.end(0) if i == 0 else self._m.end(self._g[i - 1])

    def groups(self):
        return tuple(self._m.group(g) for g in self._g)
