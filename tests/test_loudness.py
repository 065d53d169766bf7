"""Loudness normalisation (--loudness LUFS): EBU R128 two-pass in the local engine.

The fixtures are 440 Hz sines, where K-weighting is flat (+0.008 dB), so a test can
check the result's loudness independently of FFmpeg: BS.1770 loudness of a steady
signal is -0.691 + 10*log10(sum of the channels' mean squares).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from backends.local.loudness import TRUE_PEAK_LIMIT
from extractor.api import extract, plan
from extractor.jobspec import JobSpec
from extractor.measure import LoudnessMeter
from fixtures.generate import Tone, decode_track, dominant_freq, make_media

RATE = 48000
SECONDS = 4.0


def sine_loudness(samples: np.ndarray) -> float:
    """BS.1770 loudness of a steady 440 Hz signal, ignoring the first and last 0.4 s."""
    edge = int(0.4 * RATE)
    steady = samples[:, edge:-edge].astype(np.float64)
    return -0.691 + 10 * np.log10(np.sum(np.mean(steady ** 2, axis=1)))


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("loudness-sources")
    quiet = make_media(folder / "quiet.mp4", duration=SECONDS, tones=[Tone(440, amplitude=0.05)])
    loud = make_media(folder / "loud.wav", duration=SECONDS,
                      tones=[Tone(440, codec="pcm_s16le", amplitude=0.9)], video=None)
    # A quiet tone with two full-scale clicks: a plain gain up to -16 LUFS would clip,
    # so loudnorm must use its dynamic mode and true-peak limiter.
    n = np.arange(int(SECONDS * RATE))
    tone = 0.05 * np.sin(2 * np.pi * 440 * n / RATE)
    tone[RATE] = tone[3 * RATE] = 0.99
    peaky = folder / "peaky.wav"
    soundfile.write(peaky, np.stack([tone, tone], axis=1), RATE, subtype="PCM_16")
    silent = folder / "silent.wav"
    soundfile.write(silent, np.zeros((2 * RATE, 2)), RATE, subtype="PCM_16")
    return {"quiet": quiet, "loud": loud, "peaky": peaky, "silent": silent}


@pytest.mark.parametrize("target", [-16.0, -23.0])
@pytest.mark.parametrize("name,fmt", [("quiet", "mp3"), ("loud", "flac"), ("quiet", "m4a")])
def test_output_lands_within_one_lu_of_target(sources, tmp_path, name, fmt, target):
    source = sources[name]
    before, _ = decode_track(source)
    (result,) = extract(source, format=fmt, loudness=target, output=str(tmp_path / f"out.{fmt}"))

    measured = result.verification.loudness_lufs
    assert measured is not None and abs(measured - target) <= 1.0
    samples, rate = decode_track(result.output)
    assert abs(sine_loudness(samples) - target) <= 1.0  # independent of FFmpeg's meter
    assert abs(sine_loudness(before) - target) > 3.0  # the fixture really started elsewhere
    assert dominant_freq(samples, rate) == pytest.approx(440, abs=2)
    assert abs(result.verification.duration - SECONDS) <= result.plan.tolerance
    assert any("loudness: measured" in note for note in result.notes)


def test_pcm_in_pcm_out_keeps_every_sample(sources, tmp_path):
    (result,) = extract(sources["loud"], format="wav", loudness=-16, output=str(tmp_path / "out.wav"))
    before, _ = decode_track(sources["loud"])
    after, _ = decode_track(result.output)
    assert after.shape == before.shape
    # One constant gain (linear mode): the waveform keeps its shape exactly, only scaled.
    gain = np.max(np.abs(after)) / np.max(np.abs(before))
    assert np.max(np.abs(after - before * gain)) < 2e-4
    assert any("one gain of" in note for note in result.notes)


def test_trimmed_range_is_measured_and_sample_exact(sources, tmp_path):
    (result,) = extract(sources["loud"], format="flac", loudness=-23, start="0.5", end="3.25", exact=True,
                        output=str(tmp_path / "cut.flac"))
    samples, _ = decode_track(result.output)
    assert samples.shape[1] == round(2.75 * RATE)
    assert abs(result.verification.loudness_lufs + 23) <= 1.0


def test_peaks_force_dynamic_mode_under_the_true_peak_limit(sources, tmp_path):
    (result,) = extract(sources["peaky"], format="wav", loudness=-16, output=str(tmp_path / "peaky.wav"))
    samples, _ = decode_track(result.output)
    before, _ = decode_track(sources["peaky"])
    assert samples.shape == before.shape  # 192 kHz inside loudnorm, back to 48 kHz, no sample lost
    assert abs(result.verification.loudness_lufs + 16) <= 1.0
    assert 20 * np.log10(np.max(np.abs(samples))) <= TRUE_PEAK_LIMIT + 0.5
    assert any("normalised dynamically" in note for note in result.notes)


def test_silence_is_left_alone_with_a_note(sources, tmp_path):
    (result,) = extract(sources["silent"], format="flac", loudness=-16, output=str(tmp_path / "s.flac"))
    samples, _ = decode_track(result.output)
    assert samples.shape[1] == 2 * RATE and not samples.any()
    assert any("loudness left unchanged" in note for note in result.notes)


def test_progress_covers_both_passes_in_order(tmp_path):
    source = make_media(tmp_path / "long.wav", duration=12.0, tones=[Tone(440, codec="pcm_s16le")], video=None)
    seen: list[float] = []
    extract(source, format="wav", loudness=-20, output=str(tmp_path / "o.wav"),
            progress=lambda _plan, fraction: seen.append(fraction))
    assert seen == sorted(seen)
    assert any(0 < f < 0.5 for f in seen) and any(0.5 < f < 1.0 for f in seen) and seen[-1] == 1.0


@pytest.mark.parametrize("fmt", ["auto", "m4a", "mka"])
def test_loudness_turns_a_copy_into_a_transcode(sources, fmt):
    copy_plan = plan(JobSpec.build(str(sources["quiet"]), format=fmt))[0]
    loud_plan = plan(JobSpec.build(str(sources["quiet"]), format=fmt, loudness=-16))[0]
    assert copy_plan.mode == "copy"
    assert loud_plan.mode == "transcode" and "loudness" in loud_plan.explanation


def test_meter_agrees_with_the_sine_formula(sources):
    samples, _ = decode_track(sources["loud"])
    meter = LoudnessMeter()
    import av

    with av.open(str(sources["loud"])) as container:
        for frame in container.decode(audio=0):
            meter.add(frame)
    measured = meter.result()
    assert measured.integrated == pytest.approx(sine_loudness(samples), abs=0.1)
    assert measured.true_peak == pytest.approx(20 * np.log10(0.9), abs=0.2)


def test_cli_option_and_reports(sources, tmp_path, run_vax):
    out = tmp_path / "cli.mp3"
    code, stdout, stderr = run_vax("extract", sources["quiet"], "-f", "mp3", "--loudness", "-16", "-o", out)
    assert code == 0, stderr
    assert "LUFS" in stdout.split("verified:")[1].splitlines()[0]
    code, stdout, stderr = run_vax("extract", sources["quiet"], "-f", "mp3", "--loudness=-23", "--json",
                                   "-o", tmp_path / "cli2.mp3")
    assert code == 0, stderr
    loudness = json.loads(stdout)["verification"]["loudness_lufs"]
    assert abs(loudness + 23) <= 1.0
    code, _, stderr = run_vax("extract", sources["quiet"], "--loudness", "-99", "-o", tmp_path / "x.m4a")
    assert code == 2 and "out of range" in stderr


def test_plain_extraction_does_not_measure_loudness(sources, tmp_path):
    (result,) = extract(sources["quiet"], format="m4a", output=str(tmp_path / "plain.m4a"))
    assert result.verification.loudness_lufs is None


def test_downmix_is_measured_as_written(media, tmp_path):
    """A 5.1 track written as stereo MP3 is as loud as its downmix (louder than 0 LUFS here)."""
    (result,) = extract(media["mp4_51"], format="mp3", loudness=-16, output=str(tmp_path / "51.mp3"))
    assert result.verification.channels == 2
    assert abs(result.verification.loudness_lufs + 16) <= 1.0
