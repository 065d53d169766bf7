"""The Python API: `from extractor import probe, extract` and the result objects."""

from __future__ import annotations

from pathlib import Path

import pytest

import extractor
from extractor import ExtractResult, JobSpec, extract, probe
from extractor.errors import InputNotFound, NotMedia, VaxError
from fixtures.generate import TONES, decode_track, dominant_freq


def test_probe_returns_media_info(media):
    info = probe(media["mkv_multi"])
    assert info.container == "matroska,webm"
    assert [(t.number, t.index, t.codec, t.language, t.title, t.default) for t in info.audio] == [
        (1, 1, "aac", "eng", "Main", True),
        (2, 2, "ac3", "spa", "Spanish", False),
        (3, 3, "flac", "eng", "Commentary", False),
    ]
    assert all(t.sample_rate == 48000 and t.channels == 2 for t in info.audio)
    assert [v.codec for v in info.video] == ["h264"]
    assert info.size == media["mkv_multi"].stat().st_size
    assert info.to_dict()["audio"][1]["codec"] == "ac3"

    (surround,) = probe(media["mp4_51"]).audio
    assert (surround.channels, surround.layout) == (6, "5.1")
    assert probe(media["avi_mp3"]).audio[0].duration_exact is False


def test_extract_returns_verified_results(media, tmp_path):
    results = extract(media["mp4_aac"], format="flac", output=f"{tmp_path}/")
    assert isinstance(results, list) and len(results) == 1
    result = results[0]
    assert isinstance(result, ExtractResult)
    assert result.output == tmp_path / "mp4_aac.flac" and isinstance(result.output, Path)
    assert result.backend == "local"
    assert result.backend_reason
    assert result.plan.mode == "transcode" and result.plan.format.name == "flac"
    assert result.verification.codec == "flac"
    assert result.verification.duration == pytest.approx(3.0, abs=0.05)
    assert result.elapsed > 0
    assert not result.lossless_copy
    record = result.to_dict()
    assert record["status"] == "ok" and record["output"] == str(result.output)
    assert dominant_freq(*decode_track(result.output)) == pytest.approx(TONES["mp4_aac"], abs=2)


def test_extract_takes_a_job_spec_and_pathlike(media, tmp_path):
    spec = JobSpec.build(media["mkv_multi"], lang="spa", output=str(tmp_path / "spanish.mka"))
    (result,) = extract(spec)
    assert result.output == tmp_path / "spanish.mka"
    (again,) = extract(spec, overwrite=True, format="mka")  # options on top of a spec
    assert again.plan.spec.overwrite


def test_progress_callback_reaches_one(media, tmp_path):
    seen = []
    extract(media["wav_audio"], format="flac", output=f"{tmp_path}/", progress=lambda plan, f: seen.append(f))
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)


def test_plan_without_running(media, tmp_path):
    (plan,) = extractor.plan(JobSpec.build(media["mp4_aac"], format="mp3", output=f"{tmp_path}/"))
    assert plan.mode == "transcode" and plan.output.name == "mp4_aac.mp3"
    assert list(tmp_path.iterdir()) == []


def test_errors_are_vax_errors_and_builtins(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        extract(tmp_path / "nope.mp4")
    assert isinstance(caught.value, InputNotFound) and isinstance(caught.value, VaxError)
    text = tmp_path / "text.mp4"
    text.write_text("hello")
    with pytest.raises(ValueError) as caught:
        probe(text)
    assert isinstance(caught.value, NotMedia)
