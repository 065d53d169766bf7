"""Sync: a track that starts after the video keeps its offset unless told otherwise.

mp4_late: video 0-4 s, the tone from exactly 1.5 s. The AAC stream itself starts 1024 samples
earlier (1.47867 s): the mov muxer keeps the encoder's priming frame, which decodes to near-silence.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from extractor import extract, probe
from fixtures.generate import TONES, decode_track, dominant_freq

STREAM_START = 1.5 - 1024 / 48000
TONE_START = 1.5


def _first_loud_second(samples: np.ndarray, rate: int) -> float:
    return int(np.argmax(np.abs(samples[0]) > 0.25)) / rate


def test_probe_shows_the_offset(media):
    (track,) = probe(media["mp4_late"]).audio
    assert track.offset == pytest.approx(STREAM_START, abs=1e-3)
    assert "starts at +1.479s" in track.describe()
    assert probe(media["mp4_aac"]).audio[0].offset == 0


def test_copy_to_m4a_keeps_the_offset_as_a_container_delay(media, tmp_path):
    (result,) = extract(media["mp4_late"], output=f"{tmp_path}/")
    assert result.plan.mode == "copy" and result.output.suffix == ".m4a"
    with av.open(str(result.output)) as c:
        stream = c.streams.audio[0]
        assert float(stream.start_time * stream.time_base) == pytest.approx(STREAM_START, abs=1e-3)
        loud = next(f for f in c.decode(stream) if np.abs(f.to_ndarray()).max() > 0.25)
        assert float(loud.pts * loud.time_base) == pytest.approx(TONE_START, abs=1e-3)
    assert result.verification.start_offset == pytest.approx(STREAM_START, abs=1e-3)
    # The delay is not stored as samples: the decoded audio is the track itself.
    assert result.verification.duration == pytest.approx(4.0 - STREAM_START, abs=0.03)


def test_transcode_to_wav_pads_the_offset_with_silence(media, tmp_path):
    (result,) = extract(media["mp4_late"], format="wav", output=f"{tmp_path}/")
    samples, rate = decode_track(result.output)
    assert samples.shape[1] == 4 * rate  # lines up with the 4 s video from t=0
    assert result.plan.lead_silence == pytest.approx(STREAM_START, abs=1e-3)
    assert not samples[:, : int(STREAM_START * rate) - 1].any()  # digital silence up to the stream start
    assert _first_loud_second(samples, rate) == pytest.approx(TONE_START, abs=0.002)
    assert dominant_freq(samples[:, 2 * rate:], rate) == pytest.approx(TONES["mp4_late"], abs=2)


def test_drop_offset_starts_at_the_first_audio_sample(media, tmp_path):
    (wav,) = extract(media["mp4_late"], format="wav", keep_offset=False, output=f"{tmp_path}/")
    samples, rate = decode_track(wav.output)
    assert samples.shape[1] / rate == pytest.approx(4.0 - STREAM_START, abs=0.03)
    assert _first_loud_second(samples, rate) == pytest.approx(TONE_START - STREAM_START, abs=0.002)

    (m4a,) = extract(media["mp4_late"], keep_offset=False, output=f"{tmp_path}/")
    with av.open(str(m4a.output)) as c:
        stream = c.streams.audio[0]
        assert float((stream.start_time or 0) * stream.time_base) == pytest.approx(0, abs=1e-3)
    assert m4a.verification.start_offset == 0


def test_copy_into_a_container_without_a_delay_field_says_so(media, tmp_path):
    (result,) = extract(media["mp4_late"], format="aac", output=f"{tmp_path}/")
    assert any("cannot store that delay" in note for note in result.plan.notes)


def test_cli_drop_offset_flag(media, tmp_path, run_vax):
    code, _, err = run_vax("extract", media["mp4_late"], "-f", "wav", "--drop-offset", "-o", tmp_path / "x.wav")
    assert code == 0, err
    samples, rate = decode_track(tmp_path / "x.wav")
    assert _first_loud_second(samples, rate) < 0.05
