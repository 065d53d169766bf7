"""Track selection: by number, language (3- and 2-letter), title, all tracks; clear errors otherwise."""

from __future__ import annotations

import pytest

from extractor import extract, probe
from extractor.errors import NoAudio, TrackNotFound
from fixtures.generate import TONES, decode_track, dominant_freq

MAIN, SPANISH, COMMENTARY = TONES["mkv_multi_main"], TONES["mkv_multi_spanish"], TONES["mkv_multi_commentary"]


def _tone_of(path) -> float:
    return dominant_freq(*decode_track(path))


@pytest.mark.parametrize("options,freq,ext", [
    ({}, MAIN, "m4a"),  # the default-flagged track
    ({"track": 1}, MAIN, "m4a"),
    ({"track": 2}, SPANISH, "ac3"),
    ({"track": 3}, COMMENTARY, "flac"),
    ({"lang": "spa"}, SPANISH, "ac3"),
    ({"lang": "es"}, SPANISH, "ac3"),
    ({"lang": "SPANISH"}, SPANISH, "ac3"),
    ({"lang": "en"}, MAIN, "m4a"),  # two English tracks: the first one
    ({"title": "comment"}, COMMENTARY, "flac"),
    ({"title": "Main"}, MAIN, "m4a"),
], ids=lambda v: repr(v) if isinstance(v, dict) else None)
def test_select_one_track(media, tmp_path, options, freq, ext):
    (result,) = extract(media["mkv_multi"], output=f"{tmp_path}/", **options)
    assert result.output.name == f"mkv_multi.{ext}"
    assert _tone_of(result.output) == pytest.approx(freq, abs=2)


def test_all_tracks_one_file_each_named_by_number_and_language(media, tmp_path):
    results = extract(media["mkv_multi"], all_tracks=True, output=f"{tmp_path}/")
    names = [r.output.name for r in results]
    assert names == ["mkv_multi.1-eng.m4a", "mkv_multi.2-spa.ac3", "mkv_multi.3-eng.flac"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert [_tone_of(r.output) for r in results] == pytest.approx([MAIN, SPANISH, COMMENTARY], abs=2)


def test_all_tracks_beside_the_input(media, tmp_path):
    source = tmp_path / "film.mkv"
    source.write_bytes(media["mkv_multi"].read_bytes())
    results = extract(source, all_tracks=True, format="mka")
    assert [r.output for r in results] == [tmp_path / "film.1-eng.mka", tmp_path / "film.2-spa.mka",
                                           tmp_path / "film.3-eng.mka"]


def test_an_untagged_track_is_named_und(media, tmp_path):
    (result,) = extract(media["mov_aac"], all_tracks=True, output=f"{tmp_path}/")
    assert result.output.name == "mov_aac.m4a"  # one track: no number suffix
    info = probe(media["mov_aac"])
    assert info.audio[0].language is None


@pytest.mark.parametrize("options,message", [
    ({"track": 4}, "no audio track 4; it has 3"),
    ({"lang": "fra"}, "no audio track in language 'fra' (languages: eng, spa)"),
    ({"lang": "de"}, "languages: eng, spa"),
    ({"title": "director"}, "'Main', 'Spanish', 'Commentary'"),
])
def test_missing_track_errors(media, tmp_path, options, message):
    with pytest.raises(TrackNotFound) as caught:
        extract(media["mkv_multi"], output=f"{tmp_path}/", **options)
    assert message in caught.value.one_line()
    assert caught.value.exit_code == 6
    assert not list(tmp_path.iterdir())


def test_video_without_audio(media, tmp_path):
    with pytest.raises(NoAudio, match="has no audio track"):
        extract(media["mp4_noaudio"], output=f"{tmp_path}/")
    assert not list(tmp_path.iterdir())
