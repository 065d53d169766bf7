"""Turn a job spec and a probe into concrete plans, one per output file.

A plan says exactly what a backend must produce (copy or transcode, container, codec,
rate, channels, range, output path) and explains the choice in one sentence. Backends
never second-guess a plan; verification checks the result against it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NoAudio, TrackNotFound, UsageError
from .jobspec import JobSpec
from .mediainfo import AudioTrack, MediaInfo
from .naming import output_path_for
from .policy import FORMATS, PCM_CODECS, Format, canonical_codec, natural_format
from .portable import check_path_length, same_name_key
from .timeparse import format_time

# Samples per packet for the codecs whose copy cuts we describe to the user.
PACKET_SAMPLES = {"aac": 1024, "mp3": 1152, "ac3": 1536, "eac3": 1536, "opus": 960, "vorbis": 2048, "flac": 4096}
MAX_CHANNELS = {"libmp3lame": 2, "libopus": 2, "vorbis": 2, "ac3": 6, "eac3": 6}
LOSSY_SOURCE_BITS = 16
LOSSLESS_CODECS = PCM_CODECS | {"flac", "alac", "truehd", "mlp", "wavpack", "tta"}


@dataclass(frozen=True)
class Plan:
    spec: JobSpec
    source: MediaInfo
    track: AudioTrack
    mode: str  # "copy" or "transcode"
    format: Format
    output: Path
    codec: str  # the output's codec (the source's for a copy)
    sample_rate: int
    channels: int
    bitrate: int | None
    sample_bits: int | None  # PCM/FLAC depth for lossless transcodes
    start: float  # seconds on the source timeline (video t=0 when keeping the offset)
    end: float | None  # None: to the end of the track
    shift: float  # source-timeline seconds that become t=0 in the output
    lead_silence: float  # transcode: seconds of silence before the first sample
    expected_duration: float | None  # decoded duration the output should have
    tolerance: float  # how far the verified duration may stray from expected_duration
    sample_exact: bool  # decoded output equals the decoded source range, sample for sample
    tags: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    explanation: str = ""

    @property
    def is_copy(self) -> bool:
        return self.mode == "copy"

    def to_dict(self) -> dict:
        return {
            "input": self.source.path,
            "track": self.track.number,
            "stream_index": self.track.index,
            "mode": self.mode,
            "format": self.format.name,
            "output": str(self.output),
            "codec": canonical_codec(self.codec),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "bitrate": self.bitrate,
            "sample_bits": self.sample_bits,
            "start": self.start,
            "end": self.end,
            "lead_silence": self.lead_silence,
            "expected_duration": self.expected_duration,
            "sample_exact": self.sample_exact,
            "notes": list(self.notes),
            "explanation": self.explanation,
        }


def select_tracks(spec: JobSpec, info: MediaInfo) -> list[AudioTrack]:
    tracks = list(info.audio)
    if not tracks:
        video = f" ({len(info.video)} video stream{'s' if len(info.video) != 1 else ''} only)" if info.video else ""
        raise NoAudio(f"{info.path}: has no audio track{video}")
    sel = spec.tracks
    if sel.all:
        return tracks
    if sel.number is not None:
        if sel.number > len(tracks):
            raise TrackNotFound(
                f"{info.path}: there is no audio track {sel.number}; it has {len(tracks)}",
                hint="see `vax probe FILE`",
            )
        return [tracks[sel.number - 1]]
    if sel.language:
        wanted = _language_aliases(sel.language)
        found = [t for t in tracks if t.language and t.language.lower() in wanted]
        if not found:
            have = ", ".join(sorted({t.language for t in tracks if t.language})) or "none tagged"
            raise TrackNotFound(f"{info.path}: no audio track in language {sel.language!r} (languages: {have})")
        return found[:1]
    if sel.title:
        needle = sel.title.lower()
        found = [t for t in tracks if t.title and needle in t.title.lower()]
        if not found:
            have = ", ".join(repr(t.title) for t in tracks if t.title) or "no titles"
            raise TrackNotFound(f"{info.path}: no audio track titled like {sel.title!r} (titles: {have})")
        return found[:1]
    defaults = [t for t in tracks if t.default]
    return [defaults[0] if defaults else tracks[0]]


# ISO 639-1 / 639-2 B and T codes for the languages people most often ask for by name.
_LANGUAGE_GROUPS = [
    {"en", "eng", "english"}, {"es", "spa", "spanish", "español", "espanol"}, {"fr", "fre", "fra", "french"},
    {"de", "ger", "deu", "german"}, {"it", "ita", "italian"}, {"pt", "por", "portuguese"},
    {"ja", "jpn", "japanese"}, {"zh", "chi", "zho", "chinese", "cmn"}, {"ko", "kor", "korean"},
    {"ru", "rus", "russian"}, {"nl", "dut", "nld", "dutch"}, {"ar", "ara", "arabic"},
    {"hi", "hin", "hindi"}, {"pl", "pol", "polish"}, {"sv", "swe", "swedish"}, {"tr", "tur", "turkish"},
]


def _language_aliases(code: str) -> set[str]:
    code = code.strip().lower()
    for group in _LANGUAGE_GROUPS:
        if code in group:
            return group
    return {code}


def choose_format(spec: JobSpec, track: AudioTrack) -> Format:
    if spec.format != "auto":
        return FORMATS[spec.format]
    from_name = _format_from_output_name(spec.output)
    if from_name:
        return from_name
    return natural_format(track.codec)


def _format_from_output_name(output: str | None) -> Format | None:
    if not output or output.endswith(("/", "\\")) or "{ext}" in output:
        return None
    suffix = Path(output).suffix.lower().lstrip(".")
    for fmt in FORMATS.values():
        if suffix in (fmt.ext, fmt.name):
            return fmt
    return None


def plan_jobs(spec: JobSpec, info: MediaInfo) -> list[Plan]:
    tracks = select_tracks(spec, info)
    several = len(tracks) > 1
    plans = [plan_track(spec, info, track, several=several) for track in tracks]
    # A template without {track} can give two tracks one name: the second would fail half way
    # (or, with --overwrite, silently replace the first), so refuse before writing anything.
    # Names that differ only in case are one file on macOS and Windows: compared as such everywhere.
    keys = [same_name_key(p.output) for p in plans]
    for each, key in zip(plans, keys):
        if keys.count(key) > 1:
            raise UsageError(f"several tracks would be written to the same file {each.output}",
                             hint="put {track} in the output template")
        check_path_length(each.output)
    return plans


def plan_track(spec: JobSpec, info: MediaInfo, track: AudioTrack, *, several: bool = False) -> Plan:
    fmt = choose_format(spec, track)
    notes: list[str] = [n for n in (spec.preset_note(),) if n]
    if spec.output and "{" not in spec.output and _format_from_output_name(spec.output) not in (None, fmt):
        raise UsageError(f"output name {spec.output!r} does not match the requested format {fmt.name}")

    # PCM has no codec frames to respect, and its demuxer's packets are ~85 ms: a PCM range goes
    # through the sample-accurate path instead, which is just as lossless.
    pcm_cut = spec.trims and track.codec in PCM_CODECS
    copy = fmt.can_copy(track.codec) and not spec.wants_reencode and not pcm_cut
    mode = "copy" if copy else "transcode"
    span = _timeline(spec, track, mode, notes)

    if mode == "copy":
        codec, rate, channels, bitrate, bits = track.codec, track.sample_rate, track.channels, track.bit_rate, None
        exact, tolerance = _copy_exactness(spec, info, track, fmt, span, notes)
    else:
        codec, rate, channels, bitrate, bits = _encoder_settings(spec, fmt, track, notes)
        tolerance = _packet_seconds(track)
        if fmt.name == "aac":
            # Raw ADTS cannot mark the AAC encoder's priming (1024) and end padding (< 1024): they
            # decode as samples, which at low rates is more than one source packet (8 kHz: 0.26 s).
            tolerance = max(tolerance, 2048 / rate)
        # A lossless transcode of a lossless source at its own rate, width and channels keeps every sample.
        exact = (fmt.lossless and track.codec in LOSSLESS_CODECS and rate == track.sample_rate
                 and channels == track.channels and not spec.trims and spec.loudness is None
                 and (bits or 16) >= _source_bits(track))
    if spec.bitrate and (mode == "copy" or fmt.lossless):
        notes.append(f"--bitrate is ignored: {fmt.label} is {'a stream copy' if mode == 'copy' else 'lossless'}")

    output = output_path_for(spec, info, track, fmt, several=several)
    tags = {k: v for k, v in (("language", track.language), ("title", track.title)) if v}
    plan = Plan(
        spec=spec, source=info, track=track, mode=mode, format=fmt, output=output, codec=codec,
        sample_rate=rate, channels=channels, bitrate=bitrate, sample_bits=bits,
        start=span.start, end=span.end, shift=span.origin + span.start, lead_silence=span.lead,
        expected_duration=span.expected, tolerance=tolerance, sample_exact=exact, tags=tags, notes=tuple(notes),
    )
    return dataclasses.replace(plan, explanation=explain(plan))


@dataclass(frozen=True)
class _Span:
    """Where the output sits on the source: t=0, the range, the lead silence and the expected length."""

    offset: float  # the track's start after the video that the output keeps (0 with --drop-offset)
    origin: float  # source seconds that are t=0 of the timeline
    start: float
    end: float | None
    lead: float
    expected: float | None


def _timeline(spec: JobSpec, track: AudioTrack, mode: str, notes: list[str]) -> _Span:
    """The timeline keeps the track's offset from the video (t=0 lines up with the video), or,
    with keep_offset off, counts from the track's own first sample."""
    offset = _kept_offset(spec, track, notes)
    start = spec.start or 0.0
    end = spec.range_end
    track_end = offset + track.duration if track.duration is not None else None
    if spec.start and track_end is not None and start >= track_end - 1e-3:
        raise UsageError(
            f"--start {format_time(start)} is at or after the end of track {track.number} ({format_time(track_end)})")
    if end is not None and end <= offset:
        raise UsageError(f"the range ends at {format_time(end)}, before the audio starts at {format_time(offset)}")
    if end is not None and track_end is not None and end > track_end + 0.05:
        notes.append(f"the range runs past the end of the audio; the output stops at {format_time(track_end)}")
        end = None
    ends = [x for x in (end, track_end) if x is not None]
    content_end = min(ends) if ends else None
    expected = content_end - start if content_end is not None else None
    if end is None and not track.duration_exact:
        expected = None  # an estimated length: verify against what was actually read instead
    if mode == "copy" and expected is not None:
        expected -= max(0.0, offset - start)  # the offset is stored as a container delay, not as samples
    lead = max(0.0, offset - start) if mode == "transcode" else 0.0
    return _Span(offset=offset, origin=track.start - offset, start=start, end=end, lead=lead, expected=expected)


def _kept_offset(spec: JobSpec, track: AudioTrack, notes: list[str]) -> float:
    """The track's offset from the video that the output keeps.

    Audio that starts before the video is kept whole when no range is asked for: no output
    can start before its own t=0, and cutting the lead would lose real audio. An offset
    longer than the audio itself (camera timecode, a broadcast clock 10 hours in, against a
    video that starts at 0) is a timestamp origin, not a delay: rendering it would be hours
    of silence, so it is reported instead."""
    offset = track.offset if spec.keep_offset else 0.0
    if offset < 0 and not spec.trims:
        notes.append(f"the track starts {-offset:.3f}s before the video; it is kept whole, so it "
                     f"plays {-offset:.3f}s early against the video")
        return 0.0
    if offset > 0 and track.duration is not None and offset > max(track.duration, 1.0) and not spec.trims:
        notes.append(f"the track's timestamps start {format_time(offset)} after the video's, longer than the "
                     "audio itself: taken as a clock origin, not rendered as silence")
        return 0.0
    return offset


def _packet_seconds(track: AudioTrack) -> float:
    """The verification tolerance: one codec packet, and never under 50 ms."""
    return max(0.05, PACKET_SAMPLES.get(track.codec, 1024) / max(track.sample_rate, 1))


def _copy_exactness(spec: JobSpec, info: MediaInfo, track: AudioTrack, fmt: Format, span: _Span,
                    notes: list[str]) -> tuple[bool, float]:
    """Whether a copy decodes exactly like the source, and how much its length may differ."""
    packet = PACKET_SAMPLES.get(track.codec, 1024) / max(track.sample_rate, 1)
    tolerance = max(0.05, packet)
    exact = True
    caveat = fmt.copy_caveat(track.codec, info.container)
    if caveat:
        exact = False
        notes.append(caveat)
    if spec.trims:
        exact = False
        tolerance += 2 * packet
        notes.append(
            f"copy cuts land on packet boundaries ({packet * 1000:.1f} ms for {track.codec}); "
            "use --exact for a sample-accurate cut")
    late = span.offset - span.start
    if late > 0.002 and not fmt.holds_start_offset:
        notes.append(
            f"the track starts {late:.3f}s after the video, and .{fmt.ext} cannot store that delay: "
            "the copy starts at the first audio sample (use -f m4a or -f mka to keep it, or --exact to pad it)")
    return exact, tolerance


def _encoder_settings(spec: JobSpec, fmt: Format, track: AudioTrack, notes: list[str]):
    rate = spec.sample_rate or track.sample_rate or 48000
    if fmt.rates and rate not in fmt.rates:
        better = min((r for r in fmt.rates if r >= rate), default=max(fmt.rates))
        notes.append(f"{fmt.label} cannot hold {rate} Hz; resampling to {better} Hz")
        rate = better
    channels = spec.channels or track.channels or 2
    limit = MAX_CHANNELS.get(fmt.encoder)
    if limit and channels > limit:
        notes.append(f"{fmt.label} holds at most {limit} channels here; downmixing {channels} to {limit}")
        channels = limit
    bits = None
    codec = fmt.encoder
    if fmt.lossless:
        bits = spec.sample_bits or min(32, _source_bits(track))
        if fmt.name == "wav":
            codec = {16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}[bits]
            if track.codec.startswith("pcm_f") and not spec.sample_bits:
                # Float stays float: 32-bit integers would clip anything over full scale.
                codec = "pcm_f32le"
                if _source_bits(track) > 32:
                    notes.append("64-bit float is written as 32-bit float")
        elif bits == 32:
            notes.append("FLAC stores at most 24 bits here; writing 24-bit")
            bits = 24
    bitrate = None
    if not fmt.lossless:
        default = fmt.default_bitrate or 192_000
        # Defaults are for stereo: scale with the channel count (mono needs half, 5.1 three times).
        bitrate = spec.bitrate or max(64_000, default * channels // 2)
    return codec, rate, channels, bitrate, bits


def _source_bits(track: AudioTrack) -> int:
    if track.codec in PCM_CODECS:
        for bits in (24, 32, 64):
            if str(bits) in track.codec:
                return bits
        return 16
    # FFmpeg decodes FLAC/ALAC deeper than 16 bits into 32-bit samples (it sets no profile for depth).
    if track.codec in ("flac", "alac") and (track.sample_format or "").startswith("s32"):
        return 24
    return LOSSY_SOURCE_BITS


def explain(plan: Plan) -> str:
    fmt, track = plan.format, plan.track
    where = f"-> {plan.output.name}"
    if plan.is_copy:
        how = "lossless" if plan.sample_exact else "lossless audio data, not sample-exact (see notes)"
        text = f"stream copy: {track.codec.upper()} into .{fmt.ext}, {how}"
    else:
        quality = (f"{plan.bitrate // 1000} kb/s" if plan.bitrate
                   else f"{plan.sample_bits}-bit" + (" float" if plan.codec.startswith("pcm_f") else "")
                   if plan.sample_bits else "")
        reason = _transcode_reason(plan)
        text = (f"transcode: {track.codec.upper()} -> {fmt.label} {quality}, "
                f"{plan.sample_rate} Hz {plan.channels}ch ({reason})").replace("  ", " ")
        if plan.sample_exact:
            text += ", lossless"
    span = ""
    if plan.start or plan.end is not None:
        span = f", {format_time(plan.start)} to {format_time(plan.end) if plan.end is not None else 'end'}"
    return f"{text}{span} {where}"


def _transcode_reason(plan: Plan) -> str:
    spec, fmt, track = plan.spec, plan.format, plan.track
    if not fmt.can_copy(track.codec):
        return f".{fmt.ext} cannot hold {track.codec} as is"
    if spec.exact and spec.trims:
        return "--exact: sample-accurate cut"
    if spec.trims and track.codec in PCM_CODECS:
        return "PCM is cut sample-accurately, without loss"
    if spec.loudness is not None:
        return f"loudness normalisation to {spec.loudness:g} LUFS"
    return "the requested rate, channels, depth or bitrate need a re-encode"
