"""A 24-bit lossless source keeps its depth when transcoded to WAV or FLAC."""

import av
import numpy as np
import soundfile

from extractor import extract, probe


def _flac24(path, rate=48000, seconds=1.0):
    out = av.open(str(path), "w")
    stream = out.add_stream("flac", rate=rate)
    stream.layout = "stereo"
    stream.format = "s32"
    n = int(rate * seconds)
    # Values that need all 24 bits: the low byte is not zero.
    tone = (np.sin(2 * np.pi * 440 * np.arange(n) / rate) * (2**23 - 1)).astype(np.int32) << 8
    frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]).T.reshape(1, -1).copy(), format="s32",
                                       layout="stereo")
    frame.sample_rate = rate
    frame.pts = 0
    for packet in stream.encode(frame):
        out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return tone


def test_24_bit_flac_to_wav_is_24_bit_and_lossless(tmp_path):
    source = tmp_path / "deep.flac"
    tone = _flac24(source)
    assert probe(source).audio[0].sample_format.startswith("s32")
    result = extract(source, format="wav", output=str(tmp_path / "deep.wav"))[0]
    assert result.plan.sample_bits == 24 and result.plan.sample_exact
    info = soundfile.info(str(result.output))
    assert info.subtype == "PCM_24"
    data, _ = soundfile.read(str(result.output), dtype="int32")
    assert np.array_equal(data[:, 0], tone)


def test_16_bit_source_stays_16_bit(media, tmp_path):
    result = extract(media["flac_audio"], format="wav", output=str(tmp_path / "plain.wav"))[0]
    assert result.plan.sample_bits == 16
    assert soundfile.info(str(result.output)).subtype == "PCM_16"
