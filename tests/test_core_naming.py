"""Output names: beside the input, in a folder, at a path, from a template."""

from __future__ import annotations

import shutil

import pytest

from extractor import extract
from extractor.errors import UsageError


@pytest.fixture
def workdir(tmp_path, media):
    for name in ("mp4_aac", "mkv_multi", "mp3_audio", "wav_audio"):
        shutil.copy(media[name], tmp_path / media[name].name)
    return tmp_path


def test_beside_the_input(workdir):
    (result,) = extract(workdir / "mp4_aac.mp4")
    assert result.output == workdir / "mp4_aac.m4a"


def test_into_a_folder(workdir):
    (result,) = extract(workdir / "mp4_aac.mp4", output=str(workdir / "music") + "/")
    assert result.output == workdir / "music" / "mp4_aac.m4a"
    (again,) = extract(workdir / "mkv_multi.mkv", output=str(workdir / "music"))  # an existing folder, no slash
    assert again.output == workdir / "music" / "mkv_multi.m4a"


def test_an_explicit_path_and_one_without_extension(workdir):
    (result,) = extract(workdir / "mp4_aac.mp4", output=str(workdir / "talk.m4a"))
    assert result.output == workdir / "talk.m4a"
    (bare,) = extract(workdir / "mp4_aac.mp4", format="mp3", output=str(workdir / "talk"))
    assert bare.output == workdir / "talk.mp3"


def test_the_extension_of_the_output_picks_the_format(workdir):
    (result,) = extract(workdir / "mp4_aac.mp4", output=str(workdir / "talk.flac"))
    assert result.plan.format.name == "flac" and result.plan.mode == "transcode"


def test_an_output_name_that_contradicts_the_format(workdir):
    with pytest.raises(UsageError, match="does not match the requested format mp3"):
        extract(workdir / "mp4_aac.mp4", format="mp3", output=str(workdir / "talk.wav"))


def test_template(workdir):
    results = extract(workdir / "mkv_multi.mkv", all_tracks=True,
                      output=str(workdir / "out" / "{stem}-{lang}.{ext}"))
    names = [r.output.name for r in results]
    assert names[1] == "mkv_multi-spa.ac3"
    (one,) = extract(workdir / "mkv_multi.mkv", lang="spa", format="mka",
                     output=str(workdir / "out" / "{track}_{title}_{codec}"))
    assert one.output == workdir / "out" / "2_Spanish_ac3.mka"


def test_template_that_gives_two_tracks_one_name_is_refused_before_writing(workdir):
    out = workdir / "clash"
    for overwrite in (False, True):
        with pytest.raises(UsageError, match="same file") as caught:
            extract(workdir / "mkv_multi.mkv", all_tracks=True, format="mka", overwrite=overwrite,
                    output=str(out / "{stem}-{lang}.{ext}"))
        assert "{track}" in caught.value.one_line()
        assert not out.exists() or list(out.iterdir()) == []
    results = extract(workdir / "mkv_multi.mkv", all_tracks=True, format="mka",
                      output=str(out / "{stem}-{track}-{lang}.{ext}"))
    assert [r.output.name for r in results] == ["mkv_multi-1-eng.mka", "mkv_multi-2-spa.mka", "mkv_multi-3-eng.mka"]


def test_template_with_an_unknown_field(workdir):
    with pytest.raises(UsageError, match=r"unknown field\(s\) \{language\}"):
        extract(workdir / "mp4_aac.mp4", output="{stem}-{language}.{ext}")


def test_audio_file_in_its_own_format_gets_a_distinct_name(workdir):
    (result,) = extract(workdir / "mp3_audio.mp3")
    assert result.output == workdir / "mp3_audio.extracted.mp3"
    (wav,) = extract(workdir / "wav_audio.wav")
    assert wav.output == workdir / "wav_audio.extracted.wav"
    assert (workdir / "mp3_audio.mp3").stat().st_size > 0
