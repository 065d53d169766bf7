"""Look inside a media file: container, streams, durations, start offsets.

``open_media`` is the one place that turns "cannot open this" into a vax error, so the
probe, the local engine and verification all report the same one-line messages.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .boxes import refuse_cut_index
from .errors import DamagedInput, InputNotFound, InputUnreadable, NotMedia, UsageError
from .metadata import Chapter, chapters_of, container_tags, is_attached_picture
from .policy import MOV_DEMUXER, TRUSTED_DURATION_DEMUXERS, canonical_codec
from .sniff import aac_object_type, has_complete_header, looks_like_unfinished_mp4, unreadable_format

# Below this, a start difference between audio and video is timestamp noise, not an offset.
OFFSET_EPSILON = 0.002
PRIMING_MAX = 0.1
# MP4/MOV, WAV and FLAC headers hold every stream's parameters, so FFmpeg's stream analysis
# (it decodes frames, the video's included) only costs time: 3-min 1080p MP4 23 ms -> 1 ms,
# 3-min WAV 25 ms -> 0.5 ms. probe() still checks the result before trusting it.
QUICK_OPEN = {"analyzeduration": "0", "probesize": "32"}
# Large reads: with the kernel's read-ahead the page cache holds the video between the audio
# chunks anyway, so small reads only add system calls. A 1.3 GB 720p MP4 (audio every few KB),
# audio demuxed on a cold cache: 4 KB reads 1.7-2.0 s and 1.1-1.4 s of CPU, 256 KB reads
# 1.4-2.0 s and 0.55-0.78 s of CPU; warm, a 3-minute file needs 1142 reads instead of 6042.
READ_OPTIONS = {"blocksize": "262144"}
_QUICK_DEMUXERS = frozenset({MOV_DEMUXER, "wav", "flac"})
_QUICK_CODECS = frozenset({"aac", "alac", "flac"})


@dataclass(frozen=True)
class AudioTrack:
    number: int  # 1-based among audio tracks: what --track takes
    index: int  # the container's stream index
    codec: str
    codec_long: str
    profile: str | None
    sample_rate: int
    channels: int
    layout: str
    bit_rate: int | None
    language: str | None
    title: str | None
    start: float  # seconds, the container's own start time for this stream
    offset: float  # seconds after the video (or the file) starts; > 0 means the audio starts late
    duration: float | None
    default: bool
    decodable: bool  # the bundled FFmpeg has a decoder for it
    duration_exact: bool = True  # the container indexes the duration (False: an estimate, e.g. AVI)
    sample_format: str | None = None  # the decoder's sample format (s16, s32, fltp, ...): FLAC/ALAC depth

    def describe(self) -> str:
        parts = [f"track {self.number} (stream #{self.index})", self.codec + (f" {self.profile}" if self.profile else "")]
        parts.append(f"{self.sample_rate} Hz {self.layout or str(self.channels) + 'ch'}")
        if self.bit_rate:
            parts.append(f"{self.bit_rate // 1000} kb/s")
        if self.language:
            parts.append(self.language)
        if self.title:
            parts.append(repr(self.title))
        if self.duration is not None:
            parts.append(f"{self.duration:.3f}s")
        if abs(self.offset) >= OFFSET_EPSILON:
            parts.append(f"starts at +{self.offset:.3f}s" if self.offset > 0 else f"starts at {self.offset:.3f}s")
        if self.default:
            parts.append("default")
        if not self.decodable:
            parts.append("NO LOCAL DECODER")
        return ", ".join(parts)


@dataclass(frozen=True)
class VideoTrack:
    index: int
    codec: str
    width: int
    height: int
    fps: float | None
    duration: float | None
    start: float

    def describe(self) -> str:
        fps = f" {self.fps:.3g} fps" if self.fps else ""
        dur = f", {self.duration:.3f}s" if self.duration is not None else ""
        return f"video stream #{self.index}: {self.codec} {self.width}x{self.height}{fps}{dur}"


@dataclass(frozen=True)
class MediaInfo:
    path: str
    container: str
    container_long: str
    size: int
    duration: float | None
    bit_rate: int | None
    audio: tuple[AudioTrack, ...]
    video: tuple[VideoTrack, ...]
    other_streams: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    chapters: tuple[Chapter, ...] = ()
    pictures: int = 0  # attached pictures (cover art): streams FFmpeg lists as video, but not video

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_input_path(path: str | os.PathLike) -> Path:
    """Fail early, with a plain message, on paths that are not readable regular files."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputNotFound(f"{p}: no such file") from None
    except PermissionError:
        raise InputUnreadable(f"{p}: permission denied") from None
    except OSError as exc:  # ELOOP for symlink loops, ENAMETOOLONG, ...
        raise InputNotFound(f"{p}: cannot open ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{p} is a folder, not a file", hint="give the files inside it, or use a glob")
    if not stat.S_ISREG(st.st_mode):
        raise NotMedia(f"{p}: not a regular file")
    if not os.access(p, os.R_OK):
        raise InputUnreadable(f"{p}: permission denied")
    if st.st_size == 0:
        raise NotMedia(f"{p}: the file is empty (0 bytes)")
    return p


def open_media(path: str | os.PathLike, **options):
    """av.open for reading, with errors turned into vax errors."""
    import av  # imported here so `vax --help` stays fast

    p = check_input_path(path)
    options.setdefault("metadata_errors", "replace")  # a tag that is not UTF-8 must not stop the job
    try:
        return av.open(str(p), mode="r", **options)
    except av.error.InvalidDataError:
        if looks_like_unfinished_mp4(p):
            raise DamagedInput(
                f"{p}: an MP4/MOV without its index (moov): the recording was cut off before it was finished",
                hint="vax cannot rebuild a missing index; a repair tool such as untrunc can") from None
        _raise_if_known(p)
        raise NotMedia(f"{p}: not a media file vax can read (no known container format found)") from None
    except PermissionError:
        raise InputUnreadable(f"{p}: permission denied") from None
    except FileNotFoundError:
        raise InputNotFound(f"{p}: no such file") from None
    except av.error.FFmpegError as exc:
        _raise_if_known(p)
        raise NotMedia(f"{p}: cannot be opened as media ({_ffmpeg_reason(exc)})") from None


def _raise_if_known(path: Path) -> None:
    """A format we recognise but the bundled FFmpeg cannot read: name it, instead of "not media"."""
    name = unreadable_format(path)
    if name is not None:
        raise NotMedia(f"{path}: this is {name}, a format the FFmpeg bundled with this build of vax cannot read",
                       hint="decode it to WAV or FLAC with the format's own tool first")


def _ffmpeg_reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc).split(":")[0]


# Containers a probe opened with the engine's own options, kept for the engine of the same job
# so that the input is opened once (id of the MediaInfo -> open container); see take_kept_open.
_KEPT: dict[int, object] = {}


def probe(path: str | os.PathLike, *, keep_open: bool = False) -> MediaInfo:
    """What is in the file. ``keep_open``: keep the container for this job's engine where it
    was opened exactly as the engine would open it (the pipeline releases it afterwards)."""
    container, reusable = _open_for_probe(path)
    try:
        info = describe_container(container, str(path))
    except BaseException:
        container.close()
        raise
    if keep_open and reusable:
        _KEPT[id(info)] = container
    else:
        container.close()
    return info


def take_kept_open(info: MediaInfo):
    """The container the probe of ``info`` kept open, handed over once (None if there is none)."""
    return _KEPT.pop(id(info), None)


def release_kept_open(info: MediaInfo) -> None:
    container = _KEPT.pop(id(info), None)
    if container is not None:
        container.close()


def _open_for_probe(path):
    """open_media, skipping stream analysis where the header already says everything.
    Returns (container, whether the engine may reuse it)."""
    check_input_path(path)  # first: reading a FIFO's head to sniff it would block
    refuse_cut_index(Path(path))
    if has_complete_header(path):
        container = open_media(path, options={**QUICK_OPEN, **READ_OPTIONS})
        if container.format.name in _QUICK_DEMUXERS and all(map(_known_from_header, container.streams.audio)):
            return container, container.format.name == MOV_DEMUXER
        container.close()
    return open_media(path), False


def _known_from_header(stream) -> bool:
    """Whether the header alone gives this track's true rate and channels. Not for HE-AAC: its
    header may give the core rate (half) and mono for parametric stereo; only decoding tells."""
    ctx = stream.codec_context
    if ctx is None or not ctx.sample_rate or not ctx.channels:
        return False
    if ctx.name == "aac":
        return ctx.sample_rate > 24000 and aac_object_type(ctx.extradata) == 2  # AAC-LC
    return ctx.name in _QUICK_CODECS or ctx.name.startswith("pcm_")


def describe_container(container, path: str) -> MediaInfo:
    # Cover art is listed as a video stream: it must not count as the video that audio lines up with.
    pictures = [s.index for s in container.streams.video if is_attached_picture(s)]
    videos = tuple(_video_track(s) for s in container.streams.video if s.index not in pictures)
    # The reference "t=0" an editor lines the audio up against: the video's start, else the audio's.
    starts = [v.start for v in videos]
    audio_streams = list(container.streams.audio)
    if not starts:
        starts = [_seconds(s.start_time, s.time_base) or 0.0 for s in audio_streams]
    reference = min(starts) if starts else 0.0
    audio = tuple(_audio_track(n, s, reference, container) for n, s in enumerate(audio_streams, start=1))
    duration = container.duration / 1_000_000 if container.duration and container.duration > 0 else None
    size = os.path.getsize(path) if os.path.exists(path) else 0
    return MediaInfo(
        path=path,
        container=container.format.name,
        container_long=container.format.long_name,
        size=size,
        duration=duration,
        bit_rate=container.bit_rate or None,
        audio=audio,
        video=videos,
        other_streams=len(container.streams) - len(audio) - len(videos) - len(pictures),
        tags=container_tags(container),
        chapters=chapters_of(container),
        pictures=len(pictures),
    )


def _seconds(value, time_base) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


_HMS = re.compile(r"^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


def stream_duration(stream, container) -> float | None:
    """A stream's duration: its own field, else Matroska's DURATION tag, else the container's."""
    own = _seconds(stream.duration, stream.time_base)
    if own is not None and own < 0:
        # A header whose delay and padding exceed its frames (a 1-sample LAME file): unknown, not negative.
        return None
    if own:
        return own
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if tag:
        match = _HMS.match(tag.strip())
        if match:
            h, m, s = match.groups()
            end = int(h) * 3600 + int(m) * 60 + float(s)
            # FFmpeg's Matroska muxer writes the track's end timestamp there, not its length:
            # a track starting 10 h in (or 0.5 s late) is that much shorter than the tag says.
            start = _seconds(stream.start_time, stream.time_base) or 0.0
            return end - start if end - start > 0 else end
    # Only trust the container's duration when this is its only stream with timing.
    if container.duration and len(container.streams) == 1:
        return container.duration / 1_000_000 if container.duration > 0 else None
    if container.duration and not container.streams.video and len(container.streams.audio) == 1:
        return container.duration / 1_000_000 if container.duration > 0 else None
    return None


def _audio_track(number: int, stream, reference: float, container) -> AudioTrack:
    ctx = stream.codec_context
    params = getattr(stream, "codec_parameters", None) if ctx is None else None
    start = _seconds(stream.start_time, stream.time_base) or 0.0
    offset = start - reference
    # Small negative offsets are codec priming (Opus pre-skip, AAC delay), not audio before the video.
    if abs(offset) < OFFSET_EPSILON or -PRIMING_MAX < offset < 0:
        offset = 0.0
    metadata = stream.metadata
    if ctx is not None:
        codec = canonical_codec(ctx.name)
        codec_long = ctx.codec.long_name
        rate, channels = ctx.sample_rate, ctx.channels
        layout = _layout_name(ctx)
        profile = ctx.profile
        if not profile and codec == "aac" and aac_object_type(ctx.extradata) == 2:
            profile = "LC"  # what stream analysis would have said: a quick open skipped it
        bit_rate = ctx.bit_rate or getattr(stream, "bit_rate", None)
    else:
        codec = canonical_codec(getattr(params, "name", None) or metadata.get("codec") or "unknown")
        codec_long = "no decoder in the bundled FFmpeg"
        rate = getattr(params, "sample_rate", 0) or 0
        channels = getattr(params, "channels", 0) or 0
        layout, profile, bit_rate = "", None, None
    return AudioTrack(
        number=number,
        index=stream.index,
        codec=codec,
        codec_long=codec_long,
        profile=profile if profile and profile != "unknown" else None,
        sample_rate=rate or 0,
        channels=channels or 0,
        layout=layout,
        bit_rate=bit_rate or None,
        language=_clean_language(metadata.get("language")),
        title=_title(metadata),
        start=round(start, 6),
        offset=round(offset, 6),
        duration=stream_duration(stream, container),
        default=_is_default(stream),
        decodable=ctx is not None,
        duration_exact=container.format.name in TRUSTED_DURATION_DEMUXERS,
        sample_format=ctx.format.name if ctx is not None and ctx.format is not None else None,
    )


_GENERIC_HANDLERS = {"soundhandler", "sound media handler", "core media audio", "videohandler", ""}


_PLAIN_LAYOUTS = {1: "mono", 2: "stereo"}


def _layout_name(ctx) -> str:
    """FFmpeg says "1 channels" for an unlabelled layout; people say mono."""
    name = ctx.layout.name if ctx.layout else ""
    if not name or name.endswith("channels"):
        return _PLAIN_LAYOUTS.get(ctx.channels, name)
    return name


def _title(metadata) -> str | None:
    """Matroska/Ogg keep a "title"; MP4/MOV store it as the track "name" (handler name)."""
    for key in ("title", "name"):
        if metadata.get(key):
            return metadata[key]
    handler = (metadata.get("handler_name") or "").strip()
    generic = handler.lower() in _GENERIC_HANDLERS or handler.lower().startswith(
        ("isomedia", "apple", "gpac", "mainconcept", "l-smash", "mp4v2"))
    return None if generic else handler


def _clean_language(lang: str | None) -> str | None:
    if not lang or lang.lower() in ("und", "unknown", "none"):
        return None
    return lang


def _is_default(stream) -> bool:
    disposition = getattr(stream, "disposition", None)
    if disposition is None:
        return False
    try:
        import av

        return bool(disposition & av.stream.Disposition.default)
    except (AttributeError, TypeError):
        return False


def _video_track(stream) -> VideoTrack:
    ctx = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate
    return VideoTrack(
        index=stream.index,
        codec=ctx.name if ctx is not None else "unknown",
        width=ctx.width if ctx is not None else 0,
        height=ctx.height if ctx is not None else 0,
        fps=float(rate) if rate else None,
        duration=_seconds(stream.duration, stream.time_base),
        start=_seconds(stream.start_time, stream.time_base) or 0.0,
    )
