"""Codec -> container -> copy/transcode policy, as data.

Two tables, read by the planner:

* ``FORMATS``: every output format a user can ask for: its file extension, the FFmpeg muxer,
  which source codecs it can hold by stream copy (and whether that copy decodes
  sample-identically), and which encoder a transcode uses.
* ``NATURAL_FORMAT``: for ``-f auto``, the format a source codec is copied into.

Exactness notes come from measuring each copy on these machines (see the field notes): a
copy that cannot carry the source's gapless information is still a valid copy, but the plan
must say so instead of calling it lossless.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PCM_CODECS = frozenset({
    "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8",
    "pcm_s16be", "pcm_s24be", "pcm_s32be", "pcm_f32be",
})
# WAV only stores little-endian PCM; big-endian PCM (from MOV) is transcoded to its LE twin.
WAV_PCM = frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8"})


@dataclass(frozen=True)
class Format:
    name: str
    ext: str
    muxer: str
    label: str
    encoder: str  # PyAV encoder used for a transcode
    copy_codecs: frozenset[str] = frozenset()
    # source codec -> why a copy into this container is not sample-identical...
    inexact_copy: dict[str, str] = field(default_factory=dict)
    # ...unless the source already sits in this very kind of container (demuxer names)
    exact_from: frozenset[str] = frozenset()
    lossless: bool = False  # the transcode itself is lossless (FLAC, PCM)
    default_bitrate: int | None = None
    holds_start_offset: bool = False  # container can delay a track (edit list / timestamps)
    holds_stream_tags: bool = False  # per-track language/title survive
    encoder_options: dict[str, str] = field(default_factory=dict)
    rates: tuple[int, ...] | None = None  # rates the encoder accepts (None: any)

    def can_copy(self, codec: str) -> bool:
        return codec in self.copy_codecs

    def copy_caveat(self, codec: str, source_container: str) -> str | None:
        """Why a copy of ``codec`` from ``source_container`` will not decode sample-identically, if so."""
        if source_container in self.exact_from:
            return None
        if self.muxer == "mp3" and codec == "mp3":
            return None  # a Xing/LAME header carries the delay: see copy_muxer_options
        if self.muxer == "matroska" and codec == "mp3" and source_container in ("mp3", MOV_DEMUXER):
            return ("Matroska cannot take over the LAME header's (or edit list's) encoder delay by stream copy, "
                    "so about 1105 priming samples play as a short silence at the start (-f mp3 keeps it)")
        if self.muxer not in MOV_MUXERS and source_container == MOV_DEMUXER and codec in PRIMED_CODECS:
            # Measured: AAC, MP3 and AC-3 out of MP4 into .mka/.mp3/.ac3 gain their priming samples.
            return self.inexact_copy.get(codec) or (
                f"the source's edit list hides the {codec} encoder-priming samples and .{self.ext} cannot "
                "take it over by stream copy, so they play as a short near-silence at the start")
        return self.inexact_copy.get(codec)


MOV_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
MOV_MUXERS = frozenset({"ipod", "mp4", "mov"})
# Codecs whose encoders prime, and whose priming an MP4/MOV source hides with an edit list.
PRIMED_CODECS = frozenset({"aac", "mp3", "ac3", "eac3"})


# Opus encodes at 8-48 kHz but always decodes at 48 kHz, so a plan (and its verification) at
# another rate cannot hold: resample to 48 kHz, as ffmpeg's decoder will play it anyway.
_OPUS_RATES = (48000,)
# The AAC encoder's sampling-frequency table tops out at 96 kHz (192/384 kHz sources failed to open it).
_AAC_RATES = (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
_MP3_RATES = (44100, 48000, 32000, 22050, 24000, 16000, 11025, 12000, 8000)
_AC3_RATES = (48000, 44100, 32000)

# Measured with FFmpeg 8.1: Matroska and MP4 mark the AC-3 encoder's 256 priming samples
# (CodecDelay / edit list) and decoders skip them; a raw .ac3 stream has nowhere to say so.
_RAW_AC3_PRIMING = ("raw AC-3 cannot mark the encoder-priming samples the source container skips "
                    "(256 with FFmpeg's encoder), so they play as a short near-silence at the start")

FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("m4a", "m4a", "ipod", "AAC in MP4 audio (.m4a)", "aac",
               copy_codecs=frozenset({"aac", "alac"}), default_bitrate=192_000, rates=_AAC_RATES,
               holds_start_offset=True, holds_stream_tags=True),
        # An iPhone ringtone is AAC in the same MP4 audio container, under its own extension.
        Format("m4r", "m4r", "ipod", "iPhone ringtone (AAC, .m4r)", "aac",
               copy_codecs=frozenset({"aac"}), default_bitrate=192_000,
               holds_start_offset=True, holds_stream_tags=True),
        Format("aac", "aac", "adts", "raw AAC (ADTS)", "aac", copy_codecs=frozenset({"aac"}),
               inexact_copy={"aac": "raw ADTS has no edit list, so the 1024 encoder-priming samples "
                                    "play as a short silence at the start"},
               exact_from=frozenset({"aac"}), default_bitrate=192_000, rates=_AAC_RATES),
        Format("mp3", "mp3", "mp3", "MP3", "libmp3lame", copy_codecs=frozenset({"mp3"}),
               default_bitrate=192_000, rates=_MP3_RATES, encoder_options={}),
        Format("wav", "wav", "wav", "PCM WAV", "pcm_s16le", copy_codecs=WAV_PCM, lossless=True),
        Format("flac", "flac", "flac", "FLAC", "flac", copy_codecs=frozenset({"flac"}), lossless=True),
        Format("opus", "opus", "opus", "Opus in Ogg", "libopus", copy_codecs=frozenset({"opus"}),
               inexact_copy={"opus": "Ogg keeps the Opus pre-skip but not Matroska's end trim, so up to "
                                     "one packet of padding may follow the end"},
               exact_from=frozenset({"ogg"}), default_bitrate=128_000, rates=_OPUS_RATES, holds_stream_tags=True),
        Format("ogg", "ogg", "ogg", "Vorbis in Ogg", "vorbis",
               copy_codecs=frozenset({"vorbis", "opus", "flac"}),
               inexact_copy={"vorbis": "Ogg derives the end from granule positions, so the copy can end a "
                                       "few samples earlier than the source decodes"},
               exact_from=frozenset({"ogg"}), default_bitrate=192_000, holds_stream_tags=True,
               encoder_options={"strict": "experimental"}),
        Format("mka", "mka", "matroska", "Matroska audio (.mka)", "flac",
               copy_codecs=frozenset({"aac", "alac", "mp3", "mp2", "opus", "vorbis", "flac", "ac3", "eac3",
                                      "dts", "truehd", *PCM_CODECS}),
               lossless=True, holds_start_offset=True, holds_stream_tags=True),
        Format("ac3", "ac3", "ac3", "AC-3", "ac3", copy_codecs=frozenset({"ac3"}),
               inexact_copy={"ac3": _RAW_AC3_PRIMING}, exact_from=frozenset({"ac3"}),
               default_bitrate=448_000, rates=_AC3_RATES),
        Format("eac3", "eac3", "eac3", "E-AC-3", "eac3", copy_codecs=frozenset({"eac3"}),
               inexact_copy={"eac3": _RAW_AC3_PRIMING}, exact_from=frozenset({"eac3"}),
               default_bitrate=448_000, rates=_AC3_RATES),
    ]
}

# -f auto: the container a source codec is copied into. Anything else goes to .mka,
# which holds almost every codec unchanged.
NATURAL_FORMAT: dict[str, str] = {
    "aac": "m4a",
    "alac": "m4a",
    "mp3": "mp3",
    "opus": "opus",
    "vorbis": "ogg",
    "flac": "flac",
    "ac3": "ac3",
    "eac3": "eac3",
    **{codec: "wav" for codec in WAV_PCM},
    # Cameras write big-endian PCM in MOV; WAV cannot hold it as is, but the byte-swap is lossless.
    **{codec: "wav" for codec in PCM_CODECS - WAV_PCM},
}
FALLBACK_FORMAT = "mka"

# Formats a user can name with -f (ac3/eac3 are reachable through auto, and by name too).
USER_FORMATS = ("auto", "m4a", "aac", "mp3", "wav", "flac", "opus", "ogg", "mka", "ac3", "eac3", "m4r")

# Decoder names FFmpeg reports for a codec whose *encoder* name differs (mp3 decodes as mp3float).
# Encoder names map to the codec they produce, so a plan and a verification compare like with like.
CODEC_ALIASES = {"mp3float": "mp3", "aac_fixed": "aac", "ac3_fixed": "ac3", "libopus": "opus",
                 "libmp3lame": "mp3", "libvorbis": "vorbis", "flac": "flac"}

# Demuxers whose per-stream duration comes from an index or exact header (MP4 sample tables,
# Matroska DURATION tags, FLAC STREAMINFO, WAV data size). Others (AVI, MPEG-TS, raw ADTS, MP3
# without Xing) estimate it, so it cannot be used to detect a truncated input. Not Ogg: its
# duration is the last page's granule, which a real file can set past what its pages hold
# (mutagen's example.opus: 12.72 s declared, 11.35 s of packets), and a cut-off Ogg simply
# ends on an earlier page, so the granule never tells truncation anyway.
TRUSTED_DURATION_DEMUXERS = frozenset({
    "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "flac", "wav", "w64", "caf",
})


def copy_muxer_options(fmt: Format, *, decoder_skips: bool) -> dict[str, str]:
    """Muxer options for a stream copy.

    The mp3 muxer writes a Xing/LAME header carrying the delay and padding the source tells its
    decoder to skip (``decoder_skips``: the first packet carries skip-samples side data). MP4/MOV
    edit lists, Matroska's CodecDelay and an MP3's own LAME header say it, and with the header
    the copy decodes exactly like the source (measured: MP3 out of MP4 gained 1105 samples
    without it). AVI, TS, FLV and MP3s without a LAME header say nothing: the delay is part of
    the decoded audio there, and a header would make decoders drop 529 real samples.
    """
    if fmt.muxer == "mp3" and not decoder_skips:
        return {"write_xing": "0"}
    return {}


def canonical_codec(name: str | None) -> str:
    name = (name or "unknown").lower()
    return CODEC_ALIASES.get(name, name)


def natural_format(codec: str) -> Format:
    return FORMATS[NATURAL_FORMAT.get(canonical_codec(codec), FALLBACK_FORMAT)]


def copy_policy_rows() -> list[tuple[str, str, str]]:
    """(source codec, -f auto result, note) rows for the README's table."""
    rows = []
    for codec, fmt_name in NATURAL_FORMAT.items():
        if codec.startswith("pcm_") and codec not in ("pcm_s16le", "pcm_s16be"):
            continue
        fmt = FORMATS[fmt_name]
        if codec == "pcm_s16be":
            rows.append(("PCM (big-endian, cameras)", ".wav", "lossless byte-order conversion (a transcode)"))
            continue
        note = fmt.inexact_copy.get(codec, "bit-exact")
        rows.append((codec if codec != "pcm_s16le" else "PCM (little-endian)", f".{fmt.ext}", note))
    rows.append(("anything else", ".mka", "bit-exact"))
    return rows


# Formats vax recognises that the bundled FFmpeg cannot open (measured on real files): named
# in the error instead of "not a media file". Musepack SV4-SV6 has no magic number, so only
# its file name says what it is (SV7 "MP+" and SV8 "MPCK" open fine).
UNREADABLE_MAGIC = ((b"OFR ", "OptimFROG"), (b"ADIF", "AAC in ADIF (not ADTS)"), (b"LA04", "Lossless Audio (LA)"))
UNREADABLE_SUFFIXES = {".mpc": "Musepack (stream version 4 to 6)", ".mp+": "Musepack (stream version 4 to 6)",
                       ".mpp": "Musepack (stream version 4 to 6)", ".ofr": "OptimFROG", ".ofs": "OptimFROG"}
