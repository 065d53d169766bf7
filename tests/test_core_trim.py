"""Trimming: sample-accurate when transcoding; packet-aligned (and said so) when copying."""

from __future__ import annotations

import numpy as np
import pytest

from extractor import extract
from extractor.errors import UsageError
from fixtures.generate import decode_track

S16 = 1 / 32768


def _as_s16(samples: np.ndarray) -> np.ndarray:
    """What a float signal becomes in a 16-bit WAV, read back as float."""
    return np.clip(np.rint(samples * 32768), -32768, 32767) / 32768


@pytest.mark.parametrize("name,fmt,options", [
    ("wav_audio", "wav", {"exact": True}),  # PCM copy would cut at packets: --exact forces the transcode
    ("mp4_aac", "wav", {}),
    ("avi_mp3", "wav", {}),
    ("mkv_multi", "wav", {"lang": "spa"}),
    ("flac_audio", "flac", {"exact": True}),
])
def test_transcode_trim_is_sample_accurate(media, tmp_path, name, fmt, options):
    (result,) = extract(media[name], format=fmt, start="0.5", end="1.7", output=f"{tmp_path}/", **options)
    assert result.plan.mode == "transcode"
    source, rate = decode_track(media[name], result.plan.track.index)
    out, out_rate = decode_track(result.output)
    assert out_rate == rate
    first, count = round(0.5 * rate), round(1.2 * rate)
    assert out.shape[1] == count
    assert result.verification.samples == count
    # The content at the cut is the source's content at that time, sample for sample.
    expected = _as_s16(source[:, first:first + count])
    assert np.abs(out - expected).max() <= S16 + 1e-7


def test_duration_option_is_the_same_cut(media, tmp_path):
    (by_end,) = extract(media["wav_audio"], format="wav", exact=True, start="0.25", end="2",
                        output=str(tmp_path / "a.wav"))
    (by_duration,) = extract(media["wav_audio"], format="wav", exact=True, start="0.25", duration="1.75",
                             output=str(tmp_path / "b.wav"))
    a, _ = decode_track(by_end.output)
    b, _ = decode_track(by_duration.output)
    assert a.shape[1] == round(1.75 * 48000)
    assert np.array_equal(a, b)


def test_exact_forces_a_transcode_and_says_why(media, tmp_path):
    (result,) = extract(media["mp4_aac"], start="0.5", duration="1.2", exact=True, output=f"{tmp_path}/")
    assert result.plan.mode == "transcode" and result.output.suffix == ".m4a"
    assert "--exact" in result.plan.explanation
    assert result.verification.duration == pytest.approx(1.2, abs=result.plan.tolerance)


def _offset_of(segment: np.ndarray, source: np.ndarray) -> int:
    """Where ``segment`` (one channel, a few hundred samples) occurs in ``source``."""
    n = segment.size
    windows = np.lib.stride_tricks.sliding_window_view(source, n)
    return int(np.argmin(np.abs(windows - segment).max(axis=1)))


def test_copy_trim_cuts_at_a_packet_boundary_and_says_so(media, tmp_path):
    (result,) = extract(media["avi_mp3"], start="0.5", duration="1.2", output=f"{tmp_path}/")
    plan = result.plan
    assert plan.mode == "copy" and not plan.sample_exact
    assert any("packet boundaries" in note and "--exact" in note for note in plan.notes)
    assert "not sample-exact" in plan.explanation

    source, rate = decode_track(media["avi_mp3"])
    out, _ = decode_track(result.output)
    # Find where the copy starts in the source: well inside, away from the first (primed) frame.
    probe_at = 4 * 1152
    start = _offset_of(out[0, probe_at:probe_at + 256], source[0]) - probe_at
    assert start % 1152 == 0, "an MP3 copy starts on a packet (1152 samples)"
    assert round(0.5 * rate) - 2 * 1152 <= start <= round(0.5 * rate)
    # Once the decoder has warmed up (bit reservoir), the copied packets decode to the source's samples.
    n = out.shape[1]
    assert np.array_equal(out[:, probe_at:], source[:, start + probe_at:start + n])
    assert abs(n / rate - 1.2) <= plan.tolerance


def test_copy_trim_of_aac_into_m4a_is_close_to_the_requested_range(media, tmp_path):
    (result,) = extract(media["mp4_aac"], start="0.5", end="1.7", output=f"{tmp_path}/")
    assert result.plan.mode == "copy"
    assert result.verification.duration == pytest.approx(1.2, abs=result.plan.tolerance)


@pytest.mark.parametrize("options,message", [
    ({"start": "5"}, "at or after the end of track 1"),
    ({"start": "3.5", "format": "wav"}, "at or after the end"),
    ({"start": "2", "end": "1"}, "must be after --start"),
    ({"start": "1", "end": "1"}, "must be after --start"),
    ({"duration": "0"}, "more than zero"),
    ({"end": "1", "duration": "1"}, "either --end or --duration"),
])
def test_impossible_ranges(media, tmp_path, options, message):
    with pytest.raises(UsageError, match=message.replace("-", r"\-")) as caught:
        extract(media["mp4_aac"], output=f"{tmp_path}/", **options)
    assert caught.value.exit_code == 2
    assert not list(tmp_path.iterdir())


def test_range_past_the_end_stops_at_the_end_with_a_note(media, tmp_path):
    (result,) = extract(media["wav_audio"], format="wav", exact=True, start="2", end="10", output=f"{tmp_path}/")
    assert result.verification.samples == 48000
    assert any("runs past the end" in note for note in result.plan.notes)


@pytest.mark.parametrize("start,end", [(0.3, 0.6), (1.1, 2.95), (0.05, 1.0)])
def test_pcm_ranges_are_cut_exactly_without_exact(media, tmp_path, start, end):
    """WAV's packets are ~85 ms, far coarser than a codec frame: PCM ranges take the exact path."""
    (result,) = extract(media["wav_audio"], start=start, end=end, output=f"{tmp_path}/")
    assert result.plan.mode == "transcode" and result.output.suffix == ".wav"
    assert "PCM is cut sample-accurately" in result.plan.explanation
    source, rate = decode_track(media["wav_audio"])
    out, _ = decode_track(result.output)
    assert np.array_equal(out, source[:, round(start * rate):round(end * rate)])
