"""The words `vax do` knows, as data: formats, languages, numbers, presets and filler.

``extractor.words.rules`` holds the grammar (the patterns and what they set); this module holds
only vocabulary, so adding a language name or a filler word never touches the rules.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


# Words for formats -> the job spec's format name. "wave" and "vorbis" are what people type.
FORMAT_WORDS: dict[str, str] = {
    "mp3": "mp3", "wav": "wav", "wave": "wav", "flac": "flac", "m4a": "m4a", "aac": "aac",
    "opus": "opus", "ogg": "ogg", "vorbis": "ogg", "mka": "mka", "ac3": "ac3", "eac3": "eac3",
}
LOSSLESS_FORMATS = frozenset({"wav", "flac", "mka"})
LOSSY_FORMATS = frozenset({"mp3", "m4a", "aac", "opus", "ogg", "ac3", "eac3"})
FORMAT_LABELS: dict[str, str] = {
    "mp3": "MP3", "wav": "WAV", "flac": "FLAC", "m4a": "M4A (AAC)", "aac": "AAC", "opus": "Opus",
    "ogg": "Ogg Vorbis", "mka": "MKA", "ac3": "AC-3", "eac3": "E-AC-3",
}
CODEC_LABELS: dict[str, str] = {
    "aac": "AAC", "mp3": "MP3", "mp3float": "MP3", "ac3": "AC-3", "eac3": "E-AC-3", "opus": "Opus",
    "flac": "FLAC", "vorbis": "Vorbis", "alac": "ALAC", "dts": "DTS", "truehd": "TrueHD", "mp2": "MP2",
}

# "best quality" / "small file" with a lossy format: the bitrate they mean (bits/s).
BEST_BITRATE: dict[str, int] = {"mp3": 320_000, "m4a": 256_000, "aac": 256_000, "opus": 256_000,
                                "ogg": 320_000, "ac3": 640_000, "eac3": 640_000}
SMALL_BITRATE: dict[str, int] = {"mp3": 128_000, "m4a": 96_000, "aac": 96_000, "opus": 96_000,
                                 "ogg": 96_000, "ac3": 192_000, "eac3": 192_000}
SMALL_FORMAT = "opus"  # "small file" without a format: Opus is the best quality per bit here

# Loudness targets in LUFS.
DEFAULT_LOUDNESS = -16.0  # "normalize": the podcast / speech norm
PODCAST_LOUDNESS = -16.0
BROADCAST_LOUDNESS = -23.0  # EBU R128
STREAMING_LOUDNESS = -14.0  # Spotify / YouTube
LOUDER_STEP = 3.0  # "make it louder": +3 LU on the previous target
LOUDEST_TARGET = -9.0
QUIETEST_TARGET = -40.0
LOUDER_WITHOUT_PREVIOUS = STREAMING_LOUDNESS
QUIETER_WITHOUT_PREVIOUS = BROADCAST_LOUDNESS

# Language names and codes -> the ISO 639-2 code written into the spec (the planner matches
# 639-1 and 639-2 codes of the same language, so "spa" finds a track tagged "es").
LANGUAGES: dict[str, str] = {}
for _code, _names in {
    "eng": "english eng en 英语 英文",
    "spa": "spanish castilian español espanol spa es 西班牙语 西语",
    "fre": "french français francais fre fra fr 法语",
    "ger": "german deutsch ger deu de 德语",
    "ita": "italian italiano ita 意大利语",
    "por": "portuguese português portugues por pt 葡萄牙语",
    "jpn": "japanese jpn ja 日语 日文",
    "chi": "chinese mandarin chi zho zh 中文 汉语 国语 普通话",
    "kor": "korean kor ko 韩语",
    "rus": "russian rus ru 俄语",
    "dut": "dutch nld dut nl 荷兰语",
    "ara": "arabic ara 阿拉伯语",
    "hin": "hindi hin",
    "pol": "polish pol pl",
    "swe": "swedish swe sv",
    "tur": "turkish tur",
}.items():
    for _name in _names.split():
        LANGUAGES[_name] = _code
LANGUAGE_NAMES: dict[str, str] = {
    "eng": "English", "spa": "Spanish", "fre": "French", "ger": "German", "ita": "Italian",
    "por": "Portuguese", "jpn": "Japanese", "chi": "Chinese", "kor": "Korean", "rus": "Russian",
    "dut": "Dutch", "ara": "Arabic", "hin": "Hindi", "pol": "Polish", "swe": "Swedish", "tur": "Turkish",
}
ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6,
    "7th": 7, "8th": 8, "9th": 9, "10th": 10,
}
NUMBER_WORDS: dict[str, float] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirteen": 13, "fourteen": 14, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "half a": 0.5, "half an": 0.5,
}

# Track titles people ask for by name -> the text searched for in the track title.
TITLE_WORDS: dict[str, str] = {
    "commentary": "commentary", "director's commentary": "commentary", "directors commentary": "commentary",
    "narration": "narration", "narrator": "narrat", "audio description": "description",
    "descriptive audio": "descriptive", "karaoke": "karaoke", "instrumental": "instrumental",
    "dialogue": "dialog", "dialog": "dialog", "music only": "music", "isolated score": "score",
    "解说": "解说",
}
# What a track titled in another language calls the same thing ("the commentary" finds "Comentario").
TITLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "commentary": ("commentary", "comentario", "kommentar", "commentaire", "comentário", "解说", "评论", "コメンタリー"),
    "narrat": ("narrat", "narración", "narracion", "erzähl", "narration", "旁白"),
    "description": ("description", "descripción", "audiodeskription", "audiodescription", "descriptive", "口述"),
    "karaoke": ("karaoke", "卡拉ok"),
    "instrumental": ("instrumental", "伴奏"),
    "dialog": ("dialog", "diálogo", "dialogue"),
    "music": ("music", "música", "musik", "musique", "音乐"),
}
# "the X track": X words that say nothing about which track.
NOT_A_TITLE = frozenset({
    "audio", "sound", "whole", "entire", "same", "full", "this", "that", "video", "separate", "new",
    "complete", "other", "main", "default", "primary", "original", "only", "single", "one", "right",
    "last", "final", "next", "previous", "current", "first", "second", "third",
})

# Consumed silently wherever they are left over. Everything else left over is reported.
FILLER = frozenset(_words("""
please pls plz kindly thanks thank thx cheers hey hi hello ok okay so now then also just only simply
i i'd i'll im i'm me my mine we our us you your u can could would will shall should want wanna need
like love let's lets let to the a an this that these those it its it's them they their one ones some
of from for in into inside on onto at as with by and or but out over via within
audio audios sound sounds soundtrack soundtracks track tracks stream streams channel audiotrack
video videos movie movies film films clip clips recording recordings footage file files media
separate separately own standalone single version copy thing stuff content part dub dubbed dubbing
extract extracting extracted extraction rip ripping export exporting download downloading
send give get grab pull take save saving convert converting turn make create produce output
strip isolate separating demux dump
same again instead too as-is here there back new format quality
is are be was do does done did go keep put place bit yo lol asap basically really quick quickly
fancy nothing everything rest folder directory iphone android phone if advance real um uh erm hmm vid vids anyway maybe possibly hopefully mate bro guys folks section portion segment piece possible kind much

"""))
# Dropped from the end of an unknown phrase ("with reverb please" -> 'with reverb').
TRAILING_FILLER = frozenset({"please", "pls", "plz", "thanks", "thank", "you", "thx", "then", "now", "also", "too",
                             "and", "or", "the", "a", "an", "ok", "okay"})
# Words that can turn a request into its opposite: never dropped as filler when left over, so
# "everything but <something not understood>" is reported, not run as "<something>".
INVERTING = frozenset(_words("""
except not no without minus excluding exclude apart besides skip before after remove cut drop trim
delete don't dont never non unless
"""))
# Left at the front of an unknown phrase, because they carry its meaning ("with reverb").
BINDING_WORDS = frozenset({"with", "without", "in", "at", "on", "to", "by", "but", "for", "into", "no", "not"})

CJK_PUNCTUATION = "。、！？：；“”‘’《》…・「」"

# Every other word the rules read: typos are corrected towards these (and the filler above).
KEYWORDS = frozenset(_words("""
normalize normalise normalized normalised normalization normalisation loudness lufs louder quieter softer volume
level levels standard broadcast broadcasting podcast podcasts streaming spotify youtube apple ebu
seconds second secs sec minutes minute mins min hours hour milliseconds between until till through
starting start begin beginning end ending after before onwards first last final opening initial closing
whole entire full complete everything rest remove removing drop cut chop trim delete lose skip skipping
keep except without minus off leave exclude excluding not non don't dont never no
track stream language english commentary narration description karaoke instrumental dialogue music score
main default primary original other all every each both
lossless losslessly best highest maximum top high great excellent studio small smaller smallest tiny
compact low lower bitrate kbps khz sample rate sampling mono stereo channel channels bit bits depth
cd quality re-encode reencode encode encoding transcode transcoding copy untouched unchanged
call name rename named called titled save write store folder directory put place output
exact exactly precise accurate sample-accurate offset delay sync overwrite replace salvage recover
damaged broken corrupt corrupted truncated locally offline local cloud remotely upload status probe info
details credits balance show list display what which tracks streams languages apply others
whisper transcription transcribe transcript speech voice memo ringtone iphone android alarm
burning burn audiobook audible archive archiving editing email e-mail whatsapp
remote lost loss most fast test past fine mine line note more less long short song vocal plus once twice
"""))
# What vax does not do: named plainly instead of "did not understand" (see extractor.words.scope).
OUT_OF_SCOPE_WORDS = frozenset(_words("""
reverb echo denoise noise hiss hum translate translation translated subtitles subtitle captions lyrics
speed faster slower pitch autotune tempo bass treble equalizer eq fade mix merge combine concatenate join
vocals karaoke-version instrumental-version stems add boost enhance
"""))


def english_words() -> frozenset[str]:
    """The whole English vocabulary of the grammar (for the typo matcher and language guessing)."""
    return _ENGLISH


_ENGLISH = frozenset(
    FILLER | KEYWORDS | OUT_OF_SCOPE_WORDS | set(FORMAT_WORDS) | set(ORDINALS) | TRAILING_FILLER | BINDING_WORDS
    | {w for key in NUMBER_WORDS for w in key.split()} | {w for key in TITLE_WORDS for w in key.split()}
    | {name.lower() for name in LANGUAGE_NAMES.values()} | set(NOT_A_TITLE)
    | set(_words("twenty thirty forty fifty sixty seventy eighty ninety hundred half and bit possible pls")))
