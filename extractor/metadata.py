"""File-level metadata: tags, attached pictures (cover art) and chapters, and which output
containers hold which of them.

The probe reads tags and chapters (cheap: FFmpeg parsed them while opening); pictures are
read only when a job will write them (``read_pictures``), since their bytes come from the
packet FFmpeg queues for each attached-picture stream.

Goal: at least what ``ffmpeg -map 0:a:0 -map 0:v? -c copy`` keeps (global tags, chapters,
and cover art wherever the output container can hold a picture).
"""

from __future__ import annotations

from dataclasses import dataclass

# What each output format (policy.FORMATS name) can hold. Raw ADTS/AC-3 hold nothing; WAV's
# LIST/INFO chunk holds a handful of text fields and no pictures or chapters.
HOLDS: dict[str, frozenset[str]] = {
    "m4a": frozenset({"tags", "pictures", "chapters"}),
    "mka": frozenset({"tags", "pictures", "chapters"}),
    "flac": frozenset({"tags", "pictures", "chapters"}),
    "opus": frozenset({"tags", "pictures", "chapters"}),
    "ogg": frozenset({"tags", "pictures", "chapters"}),
    "mp3": frozenset({"tags", "pictures", "chapters"}),
    "wav": frozenset({"tags"}),
}

# Tags that describe the old file's encoding, not the recording: carrying them would lie
# (iTunSMPB is gapless information for the *source's* AAC stream; encoder names the old tool).
TECHNICAL_TAGS = frozenset({
    "major_brand", "minor_version", "compatible_brands", "encoder", "encoded_by", "handler_name", "vendor_id",
    "itunsmpb", "duration", "creation_time", "language", "encoder_options", "lame", "waveformatextensible_channel_mask",
})

# FFmpeg's generic names for the usual fields, and their Vorbis-comment spelling.
VORBIS_NAMES = {"track": "TRACKNUMBER", "disc": "DISCNUMBER", "album_artist": "ALBUMARTIST", "date": "DATE"}


@dataclass(frozen=True)
class Chapter:
    start: float  # seconds on the source timeline
    end: float
    title: str


@dataclass(frozen=True)
class Picture:
    mime: str
    data: bytes
    description: str = ""


def file_tags(raw: dict) -> dict[str, str]:
    """The recording's tags under FFmpeg's generic lower-case names, technical ones left out."""
    tags: dict[str, str] = {}
    for key, value in raw.items():
        name = key.lower()
        if not isinstance(value, str) or not value or name in TECHNICAL_TAGS or name.startswith("id3v2_"):
            continue
        name = {"tracknumber": "track", "discnumber": "disc", "albumartist": "album_artist"}.get(name, name)
        tags.setdefault(name, value)
    return tags


def container_tags(container) -> dict[str, str]:
    """The file's tags as FFmpeg read them (all of them: ``file_tags`` picks the recording's)."""
    tags = {k: v for k, v in container.metadata.items() if isinstance(v, str)}
    if container.format.name == "ogg" and container.streams.audio:
        # FFmpeg keeps Ogg's comments (the file's tags) on the stream they were found in.
        for key, value in container.streams.audio[0].metadata.items():
            tags.setdefault(key, value)
    return tags


def chapters_of(container) -> tuple[Chapter, ...]:
    """The container's chapters in seconds; an unreadable list is no chapters, never an error."""
    try:
        raw = container.chapters()
    except (AttributeError, ValueError):
        return ()
    found = []
    for number, each in enumerate(raw, start=1):
        base = each.get("time_base")
        if not base:
            continue
        title = (each.get("metadata") or {}).get("title") or f"Chapter {number}"
        found.append(Chapter(float(each["start"] * base), float(each["end"] * base), title))
    return tuple(found)


def is_attached_picture(stream) -> bool:
    """A "video" stream that is one still image: cover art, not a video track."""
    import av

    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except (AttributeError, TypeError):
        return False


_MIME = {"mjpeg": "image/jpeg", "png": "image/png", "bmp": "image/bmp", "gif": "image/gif", "webp": "image/webp"}


def read_pictures(path: str) -> list[Picture]:
    """The attached pictures of ``path``, each from the one packet FFmpeg queues for it at open."""
    import av

    found: dict[int, Picture] = {}
    try:
        with av.open(path, metadata_errors="replace") as container:
            streams = [s for s in container.streams.video if is_attached_picture(s)]
            if not streams:
                return []
            # One pass over all of them (no seek: some files refuse one): each stream's first packet.
            for packet in container.demux(*streams):
                index = packet.stream.index
                if packet.size and index not in found:
                    stream = packet.stream
                    codec = stream.codec_context.name if stream.codec_context else ""
                    found[index] = Picture(_MIME.get(codec, "image/jpeg"), bytes(packet),
                                           stream.metadata.get("comment", "") or stream.metadata.get("title", ""))
                if len(found) == len(streams):
                    break
    except (av.error.FFmpegError, OSError, ValueError):
        pass  # cover art is a bonus: never fail a job over it
    return [found[index] for index in sorted(found)]


def output_chapters(chapters, start: float, end: float | None) -> list[Chapter]:
    """Chapters on the output's timeline (t=0 at the range start), cut to the range."""
    placed = []
    for chapter in chapters:
        if end is not None and chapter.start >= end:
            continue
        if chapter.end <= start:
            continue
        stop = chapter.end if end is None else min(chapter.end, end)
        placed.append(Chapter(max(0.0, chapter.start - start), max(0.0, stop - start), chapter.title))
    return placed
