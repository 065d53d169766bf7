"""Creator features on media with known answers: chapters at known times, tones with silences
of known length, tones of known level; presets; the report, the picture, the source's times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from extractor.api import extract, plan
from extractor.errors import JobTimedOut, UsageError
from extractor.jobspec import JobSpec
from extractor.levels import measure_levels
from extractor.mediainfo import probe
from extractor.pieces import parse_split_at
from extractor.presets import PRESETS
from extractor.silence import find_silences
from fixtures.generate import decode_track

RATE = 48000
AMPLITUDE = 0.3  # a sine at 0.3: peak -10.46 dBFS, RMS -13.47 dBFS
VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]


def _tones(seconds: float, silences=(), amplitude: float = AMPLITUDE) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = amplitude * np.sin(2 * np.pi * 440.0 * t)
    for a, b in silences:
        x[int(a * RATE):int(b * RATE)] = 0.0
    return np.stack([x, x]).astype(np.float32)


def _write(path: Path, audio: np.ndarray, *, codec: str = "pcm_s16le", fmt: str | None = None,
           chapters=(), extra_tracks=()) -> Path:
    """Audio (and optional further tracks) with chapters [(start, end, title)] in seconds."""
    out = av.open(str(path), "w", format=fmt)
    if chapters:
        out.set_chapters([{"id": n, "start": round(a * 1000), "end": round(b * 1000), "time_base": Fraction(1, 1000),
                           "metadata": {"title": title}} for n, (a, b, title) in enumerate(chapters, start=1)])
    tracks = [audio, *extra_tracks]
    streams = []
    for _ in tracks:
        stream = out.add_stream(codec, rate=RATE)
        stream.layout = "stereo"
        streams.append(stream)
    for stream, data in zip(streams, tracks):
        fmt_name = "fltp" if codec == "aac" else "s16"
        for i in range(0, data.shape[1], 1024):
            part = np.ascontiguousarray(data[:, i:i + 1024])
            if fmt_name == "s16":
                part = np.ascontiguousarray((np.clip(part, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(part, format=fmt_name, layout="stereo")
            frame.sample_rate = RATE
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
    for stream in streams:
        for packet in stream.encode(None):
            out.mux(packet)
    out.close()
    return path


@pytest.fixture(scope="module")
def chaptered(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("chapters")
    return _write(folder / "talk.m4a", _tones(12.0), codec="aac", fmt="ipod",
                  chapters=[(0, 4, "Intro"), (4, 9.5, "Main: part/1"), (9.5, 12, "Outro")])


@pytest.fixture(scope="module")
def pauses(tmp_path_factory) -> Path:
    """1 s of silence, tone, 1.5 s pause at 4-5.5, tone, 2 s of silence at the end: 12 s."""
    folder = tmp_path_factory.mktemp("pauses")
    return _write(folder / "pauses.wav", _tones(12.0, silences=[(0, 1), (4, 5.5), (10, 12)]))


def _seconds(path: Path) -> float:
    samples, rate = decode_track(path)
    return samples.shape[1] / rate


# -- presets ------------------------------------------------------------------------------

def test_every_preset_is_a_valid_spec_fragment(tmp_path):
    for name, preset in PRESETS.items():
        spec = JobSpec.build("in.mp4", preset=name)
        assert spec.preset == name
        for key, value in preset.options.items():
            assert getattr(spec, key) == value, (name, key)


def test_options_given_beside_a_preset_win_and_the_plan_says_so(pauses, tmp_path):
    spec = JobSpec.build(str(pauses), preset="podcast", bitrate="192k", output=str(tmp_path / "ep.mp3"))
    assert spec.bitrate == 192_000 and spec.loudness == -16.0 and spec.format == "mp3"
    (only,) = plan(spec)
    note = next(n for n in only.notes if n.startswith("preset podcast"))
    assert "--bitrate 192k won over the preset" in note and "--loudness -16" in note


def test_unknown_preset_is_refused():
    with pytest.raises(UsageError, match="unknown preset 'radio'"):
        JobSpec.build("in.mp4", preset="radio")


def test_speech_preset_gives_16k_mono_16_bit_wav_levelled(pauses, tmp_path):
    (result,) = extract(pauses, preset="speech", output=str(tmp_path / "for-whisper.wav"))
    v = result.verification
    assert (v.codec, v.sample_rate, v.channels) == ("pcm_s16le", 16000, 1)
    assert abs(v.loudness_lufs - (-20.0)) <= 1.0


def test_ringtone_is_cut_to_thirty_seconds(tmp_path):
    src = _write(tmp_path / "song.wav", _tones(40.0))
    (result,) = extract(src, preset="ringtone", output=str(tmp_path / "ring.m4r"))
    assert result.output.suffix == ".m4r"
    assert 29.95 <= result.verification.duration <= 30.03


# -- chapters and times --------------------------------------------------------------------

def test_split_by_chapters_writes_one_file_per_chapter_named_and_tagged(chaptered, tmp_path):
    results = extract(chaptered, split="chapters", format="flac", output=f"{tmp_path}/")
    names = [r.output.name for r in results]
    assert names == ["talk - 01 - Intro.flac", "talk - 02 - Main_ part_1.flac", "talk - 03 - Outro.flac"]
    lengths = [_seconds(r.output) for r in results]
    assert lengths == pytest.approx([4.0, 5.5, 2.5], abs=0.03)
    assert [r.plan.tags["track"] for r in results] == ["1/3", "2/3", "3/3"]
    assert results[1].plan.tags["title"] == "Main: part/1"
    import mutagen

    tags = mutagen.File(results[1].output)
    assert tags["title"] == ["Main: part/1"] and tags["tracknumber"] == ["2/3"]


def test_split_by_chapters_in_copy_mode_says_it_cuts_at_packets(chaptered, tmp_path):
    plans = plan(JobSpec.build(str(chaptered), split="chapters", output=f"{tmp_path}/"))
    assert all(p.is_copy for p in plans)
    assert all(any("packet boundaries" in n for n in p.notes) for p in plans)


def test_a_file_without_chapters_is_a_clear_error(pauses, tmp_path):
    with pytest.raises(UsageError, match="has no chapters"):
        plan(JobSpec.build(str(pauses), split="chapters", output=f"{tmp_path}/"))


def test_split_at_a_pasted_description(pauses, tmp_path):
    description = tmp_path / "description.txt"
    description.write_text("Timestamps:\n00:00 Welcome\n0:03 The middle bit\n(0:08) - The end\n")
    points = parse_split_at(str(description))
    assert points == ((0.0, "Welcome"), (3.0, "The middle bit"), (8.0, "The end"))
    results = extract(pauses, split="times", split_points=points, output=f"{tmp_path}/out/", format="wav")
    assert [_seconds(r.output) for r in results] == pytest.approx([3.0, 5.0, 4.0], abs=1e-3)
    assert results[1].output.name == "pauses - 02.wav"


# -- silence -------------------------------------------------------------------------------

def test_silences_are_found_where_they_are(pauses):
    info = probe(pauses)
    spans, length = find_silences(info, info.audio[0])
    assert length == pytest.approx(12.0, abs=1e-3)
    found = [edge for s in spans for edge in (s.start, s.end)]
    assert found == pytest.approx([0.0, 1.0, 4.0, 5.5, 10.0, 12.0], abs=0.02)


def test_trim_silence_removes_both_ends_to_the_sample(pauses, tmp_path):
    (result,) = extract(pauses, trim_silence=True, format="wav", output=str(tmp_path / "trimmed.wav"))
    assert _seconds(result.output) == pytest.approx(9.0, abs=0.02)  # 1 s .. 10 s
    samples, _ = decode_track(result.output)
    assert abs(samples[0, :48]).max() > 0.01  # starts on the tone, not on silence


def test_split_on_silence_cuts_in_the_middle_of_each_pause(pauses, tmp_path):
    results = extract(pauses, split="silence", format="wav", output=f"{tmp_path}/")
    # Leading and trailing silences stay with their pieces; the one pause inside is cut at 4.75 s.
    assert [_seconds(r.output) for r in results] == pytest.approx([4.75, 7.25], abs=0.02)


def test_split_on_silence_honours_the_longest_piece(pauses, tmp_path):
    results = extract(pauses, split="silence", piece_max=3.0, format="wav", output=f"{tmp_path}/")
    lengths = [_seconds(r.output) for r in results]
    assert max(lengths) <= 3.0 + 0.02 and sum(lengths) == pytest.approx(12.0, abs=0.02)


# -- the loudness report -------------------------------------------------------------------

def test_loudness_report_measures_every_track_in_one_pass(tmp_path):
    quiet = _tones(5.0, amplitude=0.03)
    src = _write(tmp_path / "two.mka", _tones(5.0), fmt="matroska", extra_tracks=[quiet, np.zeros_like(quiet)])
    loud, soft, silent = measure_levels(src)
    assert loud.peak_dbfs == pytest.approx(20 * np.log10(AMPLITUDE), abs=0.1)
    assert loud.rms_dbfs == pytest.approx(20 * np.log10(AMPLITUDE / np.sqrt(2)), abs=0.1)
    assert soft.integrated_lufs == pytest.approx(loud.integrated_lufs - 20.0, abs=0.3)
    assert silent.silent and silent.integrated_lufs is None and not loud.silent


def test_vax_loudness_json(pauses):
    proc = subprocess.run(VAX + ["loudness", "--json", str(pauses)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (track,) = json.loads(proc.stdout)["tracks"]
    assert track["duration"] == pytest.approx(12.0, abs=1e-3) and track["silent"] is False


# -- source times, time limits, the waveform picture -----------------------------------------

def test_keep_mtime_gives_the_output_the_sources_time(pauses, tmp_path):
    os.utime(pauses, (1_500_000_000, 1_500_000_000))
    (result,) = extract(pauses, format="flac", keep_mtime=True, output=str(tmp_path / "kept.flac"))
    assert result.output.stat().st_mtime == pytest.approx(1_500_000_000, abs=1e-3)


def test_timeout_stops_a_job_with_its_own_error_and_leaves_nothing(tmp_path):
    src = _write(tmp_path / "long.wav", _tones(120.0))
    with pytest.raises(JobTimedOut, match="--timeout"):
        extract(src, format="mp3", timeout=0.2, output=str(tmp_path / "out.mp3"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.wav"]


def test_waveform_picture_from_the_command_line(pauses, tmp_path):
    picture = tmp_path / "wave.png"
    proc = subprocess.run(VAX + ["extract", str(pauses), "-f", "flac", "-o", str(tmp_path / "a.flac"),
                                 "--waveform", str(picture)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 200


# -- every track in one read ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["auto", "flac"])
def test_all_tracks_in_one_read_equal_one_track_at_a_time(tmp_path, fmt):
    from fixtures.generate import Tone, make_media

    src = make_media(tmp_path / "obs.mkv", duration=3.0,
                     tones=[Tone(330.0, "aac"), Tone(550.0, "aac", language="spa"), Tone(770.0, "flac")])
    together = extract(src, all_tracks=True, format=fmt, output=f"{tmp_path}/all/")
    assert {r.backend_reason for r in together} == {"local engine, every track in one read"}
    for number, result in enumerate(together, start=1):
        (alone,) = extract(src, track=number, format=fmt, output=f"{tmp_path}/one{number}/")
        a, _ = decode_track(result.output)
        b, _ = decode_track(alone.output)
        assert a.shape == b.shape and np.array_equal(a, b), number


# -- a downmix never clips ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "m4a"])
def test_a_stereo_to_mono_downmix_keeps_the_level_and_never_clips(tmp_path, fmt):
    """FFmpeg's float resampler adds L and R at -3 dB each: a correlated stereo track came out
    3 dB hotter and clipped. The mono mix of identical channels must equal either channel."""
    src = _write(tmp_path / "loud.wav", _tones(2.0, amplitude=0.9))
    (result,) = extract(src, format=fmt, channels=1, output=str(tmp_path / f"mono.{fmt}"))
    samples, _ = decode_track(result.output)
    steady = samples[:, RATE // 10:-RATE // 10]  # a lossy encoder overshoots on the tone's abrupt first edge
    peak = float(np.abs(steady).max())
    assert 0.85 <= peak <= 0.95, peak
