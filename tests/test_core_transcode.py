"""Transcodes: every output format decodes to what the plan promised, with the source's tone."""

from __future__ import annotations

import av
import pytest
import soundfile

from extractor import extract
from fixtures.generate import TONES, decode_track, dominant_freq

# (format, source fixture, codec FFmpeg reads back, demuxer that must read the file)
TRANSCODES = [
    ("m4a", "flac_audio", "aac", "mov,mp4,m4a,3gp,3g2,mj2"),
    ("aac", "wav_audio", "aac", "aac"),
    ("mp3", "mp4_aac", "mp3", "mp3"),
    ("flac", "mp4_aac", "flac", "flac"),
    ("opus", "mp4_aac", "opus", "ogg"),
    ("ogg", "avi_mp3", "vorbis", "ogg"),
    ("wav", "webm_opus", "pcm_s16le", "wav"),
    ("mka", "wav_audio", "flac", "matroska,webm"),  # PCM into .mka is a copy; force the FLAC encode
]


def _read_back(path):
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        ctx = stream.codec_context
        return c.format.name, ctx.codec.canonical_name, ctx.sample_rate, ctx.channels


@pytest.mark.parametrize("fmt,name,codec,demuxer", TRANSCODES, ids=[t[0] for t in TRANSCODES])
def test_transcode_to_each_format(media, tmp_path, fmt, name, codec, demuxer):
    options = {"sample_bits": 24} if fmt == "mka" else {}
    (result,) = extract(media[name], format=fmt, output=f"{tmp_path}/", **options)

    assert result.plan.mode == "transcode"
    assert result.output.suffix == f".{fmt}"
    assert result.plan.explanation.startswith("transcode:")
    got_demuxer, got_codec, rate, channels = _read_back(result.output)
    assert (got_demuxer, got_codec) == (demuxer, codec)
    source = result.plan.track
    assert rate == source.sample_rate
    assert channels == source.channels
    samples, sr = decode_track(result.output)
    freq = {"mkv_multi": TONES["mkv_multi_main"]}.get(name, TONES[name])
    assert dominant_freq(samples, sr) == pytest.approx(freq, abs=2)
    assert samples.shape[1] / sr == pytest.approx(3.0, abs=0.06)
    v = result.verification
    assert (v.codec, v.sample_rate, v.channels) == (codec, rate, channels)
    assert abs(v.difference) <= v.tolerance


def test_sample_rate_and_mono(media, tmp_path):
    (result,) = extract(media["mp4_aac"], format="mp3", sample_rate=22050, channels=1, output=f"{tmp_path}/")
    _, codec, rate, channels = _read_back(result.output)
    assert (codec, rate, channels) == ("mp3", 22050, 1)
    samples, sr = decode_track(result.output)
    assert dominant_freq(samples, sr) == pytest.approx(TONES["mp4_aac"], abs=2)
    assert samples.shape[1] / sr == pytest.approx(3.0, abs=0.06)


def test_options_that_need_a_reencode_turn_a_copy_into_a_transcode(media, tmp_path):
    (result,) = extract(media["mp4_aac"], sample_rate=44100, output=f"{tmp_path}/")
    assert result.plan.mode == "transcode" and result.output.suffix == ".m4a"
    assert _read_back(result.output)[2] == 44100
    assert "re-encode" in result.plan.explanation


@pytest.mark.parametrize("fmt,codec", [("wav", "pcm_s24le"), ("flac", "flac")])
def test_24_bit_lossless(media, tmp_path, fmt, codec):
    (result,) = extract(media["mp4_aac"], format=fmt, sample_bits=24, output=f"{tmp_path}/")
    with av.open(str(result.output)) as c:
        ctx = c.streams.audio[0].codec_context
        assert ctx.codec.canonical_name == codec
        assert ctx.format.name in ("s32", "s32p")  # 24-bit samples decode into 32-bit containers
    assert soundfile.info(str(result.output)).subtype == "PCM_24"
    assert "24-bit" in result.plan.explanation
    samples, sr = decode_track(result.output)
    assert dominant_freq(samples, sr) == pytest.approx(TONES["mp4_aac"], abs=2)


def test_surround_to_mp3_downmixes_to_stereo(media, tmp_path):
    (result,) = extract(media["mp4_51"], format="mp3", output=f"{tmp_path}/")
    _, codec, _, channels = _read_back(result.output)
    assert (codec, channels) == ("mp3", 2)
    assert any("downmixing 6 to 2" in note for note in result.plan.notes)
    samples, sr = decode_track(result.output)
    for channel in samples:
        assert dominant_freq(channel, sr) == pytest.approx(TONES["mp4_51"], abs=2)


def test_rate_the_encoder_cannot_hold_is_moved_to_one_it_can(media, tmp_path):
    (result,) = extract(media["avi_mp3"], format="opus", output=f"{tmp_path}/")  # 44.1 kHz source
    assert _read_back(result.output)[2] == 48000
    assert any("48000 Hz" in note for note in result.plan.notes)


def test_lossless_transcode_of_pcm_is_sample_identical(media, tmp_path):
    (result,) = extract(media["wav_audio"], format="flac", output=f"{tmp_path}/")
    source, _ = decode_track(media["wav_audio"])
    out, _ = decode_track(result.output)
    assert out.shape == source.shape
    assert (out == source).all()
