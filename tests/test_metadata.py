"""File-level tags, cover art and chapters survive a copy and every transcode that can hold them;
--no-tags strips them; the JSON result says what was carried. Read back with PyAV (FFmpeg) and
mutagen, the way players read them, never by trusting what vax says it wrote."""

from __future__ import annotations

import json

import av
import pytest

from fixtures.generate import CHAPTERS, TAGS, Tone, make_tagged

# format -> (holds pictures, holds chapters)
FORMATS = {"m4a": (True, True), "mka": (True, True), "flac": (True, True), "mp3": (True, True),
           "opus": (True, True), "ogg": (True, True), "wav": (False, False)}


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    return make_tagged(tmp_path_factory.mktemp("tagged") / "song.m4a")


def _read_back(path):
    with av.open(str(path)) as container:
        tags = {k.lower(): v for k, v in container.metadata.items()}
        if container.format.name == "ogg":  # FFmpeg keeps Ogg comments on the stream
            tags.update({k.lower(): v for k, v in container.streams.audio[0].metadata.items()})
        pictures = [s for s in container.streams.video if s.disposition & av.stream.Disposition.attached_pic]
        return tags, len(pictures), container.chapters()


def _extract(run_vax, source, out, *args):
    code, stdout, stderr = run_vax("extract", source, "-o", out, "--json", *args)
    assert code == 0, stderr
    return json.loads(stdout.splitlines()[0])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_tags_cover_and_chapters_are_carried(run_vax, tagged, tmp_path, fmt):
    result = _extract(run_vax, tagged, tmp_path / f"out.{fmt}", "-f", fmt)
    tags, pictures, chapters = _read_back(tmp_path / f"out.{fmt}")
    for key in ("title", "artist", "album", "genre"):
        assert tags.get(key) == TAGS[key], (fmt, key, tags)
    holds_pictures, holds_chapters = FORMATS[fmt]
    assert pictures == (1 if holds_pictures else 0)
    titles = [c["metadata"].get("title") for c in chapters]
    assert titles == ([title for _, _, title in CHAPTERS] if holds_chapters else [])
    if holds_chapters:
        second = chapters[1]
        assert abs(float(second["start"] * second["time_base"]) - CHAPTERS[1][0]) < 0.01
    carried = result["metadata"]
    assert set(carried["tags"]) >= {"title", "artist", "album", "genre"}
    assert carried["pictures"] == pictures and carried["chapters"] == len(chapters)


def test_technical_tags_of_the_source_are_not_carried(run_vax, tmp_path):
    # iTunSMPB is the source AAC stream's gapless data: in an MP3 or FLAC it would lie.
    from mutagen.mp4 import MP4, MP4FreeForm

    source = make_tagged(tmp_path / "itunes.m4a", cover=False)
    audio = MP4(str(source))
    audio.tags["----:com.apple.iTunes:iTunSMPB"] = [MP4FreeForm(b" 00000000 00000840 000001C0")]
    audio.save()
    result = _extract(run_vax, source, tmp_path / "out.flac", "-f", "flac")
    assert "itunsmpb" not in {t.lower() for t in result["metadata"]["tags"]}
    assert not any("itunsmpb" in k.lower() for k in _read_back(tmp_path / "out.flac")[0])


def test_no_tags_strips_them(run_vax, tagged, tmp_path):
    result = _extract(run_vax, tagged, tmp_path / "out.m4a", "--no-tags")
    tags, pictures, chapters = _read_back(tmp_path / "out.m4a")
    assert "artist" not in tags and "album" not in tags
    assert pictures == 0 and chapters == []
    assert result["metadata"] == {"tags": [], "pictures": 0, "chapters": 0}


def test_chapters_follow_a_cut(run_vax, tagged, tmp_path):
    _extract(run_vax, tagged, tmp_path / "cut.flac", "--start", "1.5", "-f", "flac")
    _, _, chapters = _read_back(tmp_path / "cut.flac")
    # The range starts inside "Verse": only it remains, now at t=0.
    assert [c["metadata"]["title"] for c in chapters] == ["Verse"]
    assert float(chapters[0]["start"] * chapters[0]["time_base"]) == 0.0


@pytest.mark.parametrize("suffix", [".flac", ".mp3"])
def test_cover_art_is_not_a_video_track(run_vax, tmp_path, suffix):
    codec = {".flac": "flac", ".mp3": "libmp3lame"}[suffix]
    source = make_tagged(tmp_path / f"covered{suffix}", tone=Tone(440, codec=codec, sample_rate=44100))
    from extractor.api import probe

    info = probe(source)
    assert info.video == () and info.pictures == 1
    assert info.audio[0].offset == 0.0
    # A copy into its own format keeps the picture too.
    result = _extract(run_vax, source, tmp_path / f"copy{suffix}")
    assert result["mode"] == "copy" and result["metadata"]["pictures"] == 1
    assert _read_back(tmp_path / f"copy{suffix}")[1] == 1


def test_wav_info_chunk_is_readable_by_other_tools(run_vax, tagged, tmp_path):
    import soundfile

    _extract(run_vax, tagged, tmp_path / "out.wav", "-f", "wav")
    with soundfile.SoundFile(str(tmp_path / "out.wav")) as f:
        assert f.artist == TAGS["artist"] and f.frames > 0  # libsndfile reads the INFO chunk and the audio
