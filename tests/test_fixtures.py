"""The fixture generator makes what STANDARD says it makes, and the tones are findable."""

from __future__ import annotations

import hashlib
import time

import av
import numpy as np
import pytest

from fixtures.generate import (
    STANDARD,
    TONES,
    Tone,
    Video,
    decode_track,
    dominant_freq,
    main,
    make_media,
    make_standard_set,
)

# Container format names as the demuxer reports them.
DEMUXER = {
    "mp4": "mov,mp4,m4a,3gp,3g2,mj2",
    "mov": "mov,mp4,m4a,3gp,3g2,mj2",
    "m4a": "mov,mp4,m4a,3gp,3g2,mj2",
    "mkv": "matroska,webm",
    "webm": "matroska,webm",
    "avi": "avi",
    "mp3": "mp3",
    "wav": "wav",
    "flac": "flac",
}

TRACKS = [(name, i) for name, spec in STANDARD.items() for i in range(len(spec["tracks"]))]


@pytest.fixture(scope="session")
def standard(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("standard")
    t0 = time.perf_counter()
    paths = make_standard_set(outdir)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10, f"standard set took {elapsed:.1f} s"
    return paths


def start_seconds(stream) -> float:
    return 0.0 if stream.start_time is None else float(stream.start_time * stream.time_base)


def test_frequencies_are_distinct_and_well_separated():
    freqs = sorted(TONES.values())
    assert min(np.diff(freqs)) >= 100
    used = sorted(t.freq for spec in STANDARD.values() for t in spec["tracks"])
    assert used == freqs


def test_set_makes_every_file(standard):
    assert set(standard) == set(STANDARD)
    for name, path in standard.items():
        assert path.name == STANDARD[name]["file"]
        assert path.stat().st_size > 0


@pytest.mark.parametrize("name", list(STANDARD))
def test_streams_as_described(standard, name):
    spec = STANDARD[name]
    with av.open(str(standard[name])) as c:
        assert c.format.name == DEMUXER[spec["file"].rsplit(".", 1)[1]]
        video = spec["video"]
        if video is None:
            assert len(c.streams.video) == 0
        else:
            (v,) = c.streams.video
            assert v.codec_context.codec.canonical_name == av.Codec(video.codec, "w").canonical_name
            assert (v.codec_context.width, v.codec_context.height) == (video.width, video.height)
            assert start_seconds(v) == 0
            assert v.frames in (0, round(spec["duration"] * video.fps))  # 0: not in the header (mkv)
        # Container duration: the longest stream, i.e. the video or audio plus codec padding.
        assert c.duration / av.time_base == pytest.approx(spec["duration"], abs=0.15)
        assert len(c.streams.audio) == len(spec["tracks"])
        for tone, a in zip(spec["tracks"], c.streams.audio):
            cc = a.codec_context
            assert cc.codec.canonical_name == av.Codec(tone.codec, "w").canonical_name
            assert cc.sample_rate == tone.sample_rate
            assert cc.channels == av.AudioLayout(tone.layout).nb_channels
            if tone.language is not None:
                assert a.metadata.get("language") == tone.language
            if tone.title is not None:
                assert a.metadata.get("title") == tone.title


@pytest.mark.parametrize("name,track", TRACKS)
def test_each_track_is_its_tone(standard, name, track):
    tone = STANDARD[name]["tracks"][track]
    with av.open(str(standard[name])) as c:
        index = c.streams.audio[track].index
    samples, sr = decode_track(standard[name], index)
    assert sr == tone.sample_rate
    assert samples.dtype == np.float32
    assert samples.shape[0] == av.AudioLayout(tone.layout).nb_channels
    # Length: the tone's span, give or take codec priming/padding (< 0.1 s).
    assert samples.shape[1] / sr == pytest.approx(STANDARD[name]["duration"] - tone.start, abs=0.1)
    assert dominant_freq(samples, sr) == pytest.approx(tone.freq, abs=2)
    # A tone, not silence and not clipping: RMS of a sine of peak A is A/sqrt(2).
    rms = np.sqrt(np.mean(samples[0, sr // 4 : -sr // 4] ** 2))
    assert rms == pytest.approx(tone.amplitude / np.sqrt(2), rel=0.1)


def test_mkv_multi_tracks(standard):
    with av.open(str(standard["mkv_multi"])) as c:
        got = [
            (a.codec_context.codec.canonical_name, a.metadata.get("language"), a.metadata.get("title"))
            for a in c.streams.audio
        ]
        defaults = [bool(a.disposition & av.stream.Disposition.default) for a in c.streams.audio]
    assert got == [("aac", "eng", "Main"), ("ac3", "spa", "Spanish"), ("flac", "eng", "Commentary")]
    assert defaults == [True, False, False]
    freqs = [dominant_freq(*decode_track(standard["mkv_multi"], i)) for i in (1, 2, 3)]
    assert freqs == pytest.approx(
        [TONES["mkv_multi_main"], TONES["mkv_multi_spanish"], TONES["mkv_multi_commentary"]], abs=2
    )


def test_mp4_late_audio_starts_after_video(standard):
    path = standard["mp4_late"]
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        offset = start_seconds(a) - start_seconds(v)
        # The stream starts with the AAC priming frame (1024 samples, kept by
        # the mov muxer), the tone itself at exactly 1.5 s.
        assert offset == pytest.approx(1.5 - 1024 / 48000, abs=1e-6)
        loud = next(f for f in c.decode(a) if np.abs(f.to_ndarray()).max() > 0.25)
        assert float(loud.pts * loud.time_base) == pytest.approx(1.5, abs=1e-6)
        assert float(c.duration / av.time_base) == pytest.approx(4.0, abs=0.05)


def test_mp4_51_has_six_channels(standard):
    with av.open(str(standard["mp4_51"])) as c:
        a = c.streams.audio[0]
        assert a.codec_context.channels == 6
        assert a.codec_context.layout.name == "5.1"
    samples, sr = decode_track(standard["mp4_51"])
    assert samples.shape[0] == 6
    # AAC low-passes the LFE channel (index 3) to silence at 1320 Hz; the
    # five full-range channels all carry the tone.
    for ch in (0, 1, 2, 4, 5):
        assert dominant_freq(samples[ch], sr) == pytest.approx(TONES["mp4_51"], abs=2)


def test_mp4_noaudio_has_only_video(standard):
    with av.open(str(standard["mp4_noaudio"])) as c:
        assert [s.type for s in c.streams] == ["video"]


def test_standard_set_is_deterministic(standard, tmp_path):
    again = make_standard_set(tmp_path)
    for name, path in standard.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == hashlib.sha256(again[name].read_bytes()).hexdigest(), name


def test_cli_prints_one_line_per_file(tmp_path, capsys):
    assert main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(STANDARD)
    assert {line.split("\t")[0] for line in lines} == set(STANDARD)
    assert all((tmp_path / spec["file"]).is_file() for spec in STANDARD.values())


def test_decode_track_rejects_video_stream(standard):
    with pytest.raises(ValueError):
        decode_track(standard["mp4_aac"], 0)


def test_dominant_freq_on_synthetic_signal():
    sr = 44100
    n = np.arange(2 * sr)
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 1234.5 * n / sr)] * 2)
    assert dominant_freq(stereo, sr) == pytest.approx(1234.5, abs=0.5)
    assert dominant_freq(stereo[0], sr) == pytest.approx(1234.5, abs=0.5)


@pytest.mark.parametrize(
    "filename,tone,video",
    [
        ("a.mkv", Tone(500.0, "eac3", layout="5.1"), Video()),
        ("a.ogg", Tone(510.0, "vorbis", sample_rate=44100), None),
        ("a.mov", Tone(520.0, "alac", layout="mono"), Video()),
        ("a.webm", Tone(530.0, "libopus", bitrate=64000), Video(codec="libvpx")),
        ("a.mka", Tone(540.0, "flac", start=0.5), None),
    ],
)
def test_make_media_other_codecs(tmp_path, filename, tone, video):
    path = make_media(tmp_path / filename, duration=2.0, tones=[tone], video=video, metadata={"title": "x"})
    with av.open(str(path)) as c:
        assert c.metadata.get("title") == "x" or c.streams.audio[0].metadata.get("title") == "x"
        assert start_seconds(c.streams.audio[0]) == pytest.approx(tone.start, abs=0.05)
    samples, sr = decode_track(path)
    assert samples.shape[0] == av.AudioLayout(tone.layout).nb_channels
    assert dominant_freq(samples, sr) == pytest.approx(tone.freq, abs=2)


def test_late_start_in_a_container_that_cannot_hold_it_fails(tmp_path):
    with pytest.raises(RuntimeError, match="late start"):
        tone = Tone(600.0, "pcm_s16le", start=1.0)
        make_media(tmp_path / "late.wav", duration=2.0, tones=[tone], video=None)
    assert not (tmp_path / "late.wav").exists()
