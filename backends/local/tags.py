"""Carry the source's file-level tags, cover art and chapters into the output (before it is verified).

Two steps, because neither library can do all of it alone:
- ``prepare_output``, on the PyAV output container before its header is written: chapters
  for MP4 and Matroska (mutagen cannot write MP4 chapters and has no Matroska support), and
  for Matroska the tags and the pictures (as attachments, which FFmpeg reads back as cover art).
- ``finish_output``, with mutagen on the closed file: tags and pictures for M4A (ilst, covr),
  FLAC (Vorbis comments, PICTURE blocks), Ogg Opus/Vorbis (comments, METADATA_BLOCK_PICTURE),
  MP3 (ID3v2.4 with APIC and CHAP/CTOC), and a LIST/INFO chunk for WAV. Those files are also
  written by libsndfile and LAME, which take no pictures or chapters, so one writer after
  muxing serves every engine path. Vorbis-comment containers get chapters as CHAPTERnnn
  comments, the form FFmpeg reads back.

Cover art and tags are a bonus on top of the audio: a tag library failing on a field is a
note, never a failed job.
"""

from __future__ import annotations

import base64
import struct
from fractions import Fraction
from pathlib import Path

from extractor.metadata import HOLDS, VORBIS_NAMES, Chapter, file_tags, output_chapters, read_pictures

_MS = Fraction(1, 1000)


class Carry:
    """What the plan's output will get from its source: tags, pictures, chapters."""

    def __init__(self, plan):
        holds = HOLDS.get(plan.format.name, frozenset()) if plan.spec.keep_tags else frozenset()
        source = plan.source
        self.tags = file_tags(source.tags) if "tags" in holds else {}
        if "tags" in holds and "track" in plan.tags:  # a piece of a split: its own title and number
            self.tags.update({k: plan.tags[k] for k in ("title", "track") if k in plan.tags})
        end = None if plan.end is None else plan.end
        self.chapters = output_chapters(source.chapters, plan.start, end) if "chapters" in holds else []
        self._want_pictures = "pictures" in holds and source.pictures > 0
        self._pictures = None
        self.path = source.path

    @property
    def pictures(self):
        if self._pictures is None:
            self._pictures = read_pictures(self.path) if self._want_pictures else []
        return self._pictures

    def summary(self) -> dict:
        return {"tags": sorted(self.tags), "pictures": len(self.pictures), "chapters": len(self.chapters)}


def prepare_output(output, plan, carry: Carry | None = None) -> None:
    """Header-time metadata on a PyAV output container (see the module docstring)."""
    carry = carry or Carry(plan)
    muxer = plan.format.muxer
    if muxer not in ("ipod", "mp4", "matroska"):
        return
    if carry.chapters:
        output.set_chapters([
            {"id": n, "start": round(c.start * 1000), "end": round(c.end * 1000), "time_base": _MS,
             "metadata": {"title": c.title}} for n, c in enumerate(carry.chapters, start=1)])
    if muxer != "matroska":
        return
    for key, value in carry.tags.items():
        output.metadata[key] = value
    for number, picture in enumerate(carry.pictures, start=1):
        ext = picture.mime.split("/")[-1].replace("jpeg", "jpg")
        output.add_attachment(f"cover.{ext}" if number == 1 else f"picture{number}.{ext}", picture.mime, picture.data)


def finish_output(plan, path: Path, carry: Carry | None = None) -> dict:
    """Write what mutagen writes after muxing; return what was carried (for the JSON result)."""
    carry = carry or Carry(plan)
    writer = _WRITERS.get(plan.format.name)
    if writer is not None and (carry.tags or carry.pictures or carry.chapters):
        from mutagen import MutagenError

        try:
            writer(path, carry)
        except (MutagenError, ValueError, struct.error) as exc:
            # The audio is fine; a tag the library refuses must not cost the user the file.
            return {"tags": [], "pictures": 0, "chapters": 0, "error": f"tags not written: {exc}"}
    return carry.summary()


# -- MP4 / M4A ---------------------------------------------------------------------------
_MP4_KEYS = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "album_artist": "aART", "date": "\xa9day",
             "genre": "\xa9gen", "comment": "\xa9cmt", "composer": "\xa9wrt", "copyright": "cprt",
             "lyrics": "\xa9lyr", "grouping": "\xa9grp", "description": "desc"}


def _write_mp4(path: Path, carry: Carry) -> None:
    from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

    audio = MP4(str(path))
    if audio.tags is None:
        audio.add_tags()
    for key, value in carry.tags.items():
        if key in ("track", "disc"):
            pair = _number_pair(value)
            if pair:
                audio.tags["trkn" if key == "track" else "disk"] = [pair]
        elif key in _MP4_KEYS:
            audio.tags[_MP4_KEYS[key]] = [value]
        else:
            audio.tags[f"----:com.apple.iTunes:{key}"] = [MP4FreeForm(value.encode("utf-8"))]
    covers = [MP4Cover(p.data, MP4Cover.FORMAT_PNG if p.mime == "image/png" else MP4Cover.FORMAT_JPEG)
              for p in carry.pictures if p.mime in ("image/png", "image/jpeg")]
    if covers:
        audio.tags["covr"] = covers
    audio.save()


def _number_pair(value: str) -> tuple[int, int] | None:
    number, _, total = value.partition("/")
    try:
        return int(number), int(total or 0)
    except ValueError:
        return None


# -- Vorbis comments: FLAC, Ogg Opus, Ogg Vorbis --------------------------------------------
def _vorbis_fields(carry: Carry) -> dict[str, str]:
    fields = {VORBIS_NAMES.get(k, k.upper()): v for k, v in carry.tags.items()}
    for n, chapter in enumerate(carry.chapters, start=1):
        fields[f"CHAPTER{n:03d}"] = _clock(chapter.start)
        fields[f"CHAPTER{n:03d}NAME"] = chapter.title
    return fields


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _flac_picture(picture):
    from mutagen.flac import Picture

    made = Picture()
    made.type, made.mime, made.desc, made.data = 3, picture.mime, picture.description, picture.data  # 3: front cover
    return made


def _write_flac(path: Path, carry: Carry) -> None:
    from mutagen.flac import FLAC

    audio = FLAC(str(path))
    if audio.tags is None:
        audio.add_tags()
    for key, value in _vorbis_fields(carry).items():
        audio[key] = value
    for picture in carry.pictures:
        audio.add_picture(_flac_picture(picture))
    audio.save()


def _write_ogg(path: Path, carry: Carry) -> None:
    import mutagen

    audio = mutagen.File(str(path))
    if audio is None:
        return
    for key, value in _vorbis_fields(carry).items():
        audio[key] = value
    if carry.pictures:
        audio["METADATA_BLOCK_PICTURE"] = [
            base64.b64encode(_flac_picture(p).write()).decode("ascii") for p in carry.pictures]
    audio.save()


# -- MP3: ID3v2.4 ------------------------------------------------------------------------
_ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "album_artist": "TPE2", "date": "TDRC",
               "genre": "TCON", "composer": "TCOM", "track": "TRCK", "disc": "TPOS", "copyright": "TCOP",
               "publisher": "TPUB", "grouping": "TIT1", "bpm": "TBPM"}


def _write_id3(path: Path, carry: Carry) -> None:
    from mutagen import id3

    try:
        tags = id3.ID3(str(path))
    except id3.ID3NoHeaderError:
        tags = id3.ID3()
    for key, value in carry.tags.items():
        if key in _ID3_FRAMES:
            tags.add(getattr(id3, _ID3_FRAMES[key])(encoding=3, text=[value]))
        elif key == "comment":
            tags.add(id3.COMM(encoding=3, lang="XXX", desc="", text=[value]))
        elif key == "lyrics":
            tags.add(id3.USLT(encoding=3, lang="XXX", desc="", text=value))
        else:
            tags.add(id3.TXXX(encoding=3, desc=key, text=[value]))
    for picture in carry.pictures:
        tags.add(id3.APIC(encoding=3, mime=picture.mime, type=3, desc=picture.description, data=picture.data))
    ids = [f"chp{n}" for n in range(1, len(carry.chapters) + 1)]
    for element, chapter in zip(ids, carry.chapters):
        tags.add(id3.CHAP(element_id=element, start_time=round(chapter.start * 1000),
                          end_time=round(chapter.end * 1000),
                          sub_frames=[id3.TIT2(encoding=3, text=[chapter.title])]))
    if ids:
        tags.add(id3.CTOC(element_id="toc", flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                          child_element_ids=ids, sub_frames=[]))
    tags.save(str(path), v2_version=4)


# -- WAV: LIST/INFO ----------------------------------------------------------------------
_INFO_IDS = {"title": b"INAM", "artist": b"IART", "album": b"IPRD", "date": b"ICRD", "genre": b"IGNR",
             "comment": b"ICMT", "copyright": b"ICOP", "track": b"ITRK", "composer": b"IMUS"}
_RIFF_LIMIT = 0xFFFFFFFF


def _write_wav(path: Path, carry: Carry) -> None:
    """Append a LIST/INFO chunk and grow the RIFF size: the audio bytes are not touched."""
    body = b"INFO"
    for key, value in carry.tags.items():
        if key in _INFO_IDS:
            text = value.encode("utf-8") + b"\0"
            body += _INFO_IDS[key] + struct.pack("<I", len(text)) + text + (b"\0" if len(text) % 2 else b"")
    if body == b"INFO":
        return
    chunk = b"LIST" + struct.pack("<I", len(body)) + body
    with open(path, "r+b") as f:
        head = f.read(12)
        size = f.seek(0, 2)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE" or size + len(chunk) + 1 > _RIFF_LIMIT:
            return  # RF64 or a 4 GB file: its size field cannot grow; the tags are left out
        if size % 2:
            f.write(b"\0")  # chunks start on even offsets
            size += 1
        f.write(chunk)
        f.seek(4)
        f.write(struct.pack("<I", size + len(chunk) - 8))


_WRITERS = {"m4a": _write_mp4, "flac": _write_flac, "opus": _write_ogg, "ogg": _write_ogg, "mp3": _write_id3,
            "wav": _write_wav}

__all__ = ["Carry", "Chapter", "finish_output", "prepare_output"]
