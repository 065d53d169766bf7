"""MP3 through LAME from the lameenc wheel: the same MP3 the FFmpeg encoder would make, gapless."""

from __future__ import annotations

import numpy as np
import pytest

from backends.local.mp3_lame import LameSink, _lame, lame_can_encode
from backends.local.sinks import EncoderSink
from backends.local.writers import open_sink
from extractor import JobSpec, extract
from extractor.api import plan as make_plans
from fixtures.generate import decode_track, dominant_freq

pytestmark = pytest.mark.skipif(
    _lame() is None, reason="lameenc is not installed or does not export LAME's API"
)


def _lame_tag(path) -> tuple[bytes, int, int]:
    """(tag id, encoder delay, padding) from the Info/LAME tag in the first frame."""
    head = path.read_bytes()[:1200]
    at = max(head.find(b"Info"), head.find(b"Xing"))
    delays = int.from_bytes(head[at + 120 + 21 : at + 120 + 24], "big")
    return head[at : at + 4], delays >> 12, delays & 0xFFF


@pytest.mark.parametrize(
    "name,options,rate,channels",
    [
        ("mp4_aac", {}, 48000, 2),
        ("mp4_51", {"channels": 1, "sample_rate": 44100, "bitrate": "128k"}, 44100, 1),
    ],
)
def test_lame_mp3_decodes_to_the_source_length_with_its_tone(media, tmp_path, name, options, rate, channels):
    (result,) = extract(media[name], format="mp3", output=f"{tmp_path}/", **options)
    samples, sr = decode_track(result.output)
    assert (sr, samples.shape[0]) == (rate, channels)
    # The LAME tag tells decoders to drop the priming and padding: exactly the planned length.
    assert samples.shape[1] == round(result.plan.expected_duration * rate)
    source, source_rate = decode_track(media[name])
    assert abs(dominant_freq(samples, sr) - dominant_freq(source, source_rate)) < 5
    tag, delay, padding = _lame_tag(result.output)
    assert tag == b"Info" and delay == 576 and 0 < padding < 2 * 1152


def test_lame_output_lines_up_with_the_source_sample_for_sample(media, tmp_path):
    (result,) = extract(media["mp4_aac"], format="mp3", bitrate="256k", output=f"{tmp_path}/")
    out, _ = decode_track(result.output)
    source, _ = decode_track(media["mp4_aac"])
    window = slice(48000, 96000)
    errors = {
        lag: float(np.mean((out[0, window] - np.roll(source[0], -lag)[window]) ** 2)) for lag in range(-3, 4)
    }
    assert min(errors, key=errors.get) == 0


def test_rates_lame_cannot_take_keep_the_ffmpeg_encoder(media, tmp_path):
    (mpeg2,) = make_plans(
        JobSpec.build(str(media["mp4_aac"]), format="mp3", sample_rate=22050, output=f"{tmp_path}/")
    )
    (mpeg1,) = make_plans(JobSpec.build(str(media["mp4_aac"]), format="mp3", output=f"{tmp_path}/"))
    assert not lame_can_encode(mpeg2) and lame_can_encode(mpeg1)
    first, second = open_sink(mpeg2, tmp_path / "a.mp3"), open_sink(mpeg1, tmp_path / "b.mp3")
    try:
        assert isinstance(first, EncoderSink) and isinstance(second, LameSink)
    finally:
        first.abort()
        second.abort()
