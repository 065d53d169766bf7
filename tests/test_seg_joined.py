"""A file joined from parts by stream copy, in parallel segments: the same output as serially.

Such a file keeps each part's AAC priming packet but squeezes its timestamp, so it holds more
samples than it declares and, from each join on, its timestamps lag behind the samples the
serial loop counts. The segments must place their samples by the count, not the timestamps,
and the last one must keep the audio past the declared end as the serial loop keeps it.

The parts are noise over a sweep, each with its own seed: a sample misplaced by any amount
changes the output. The threshold is forced low and the cores forced free so the parallel
path runs on a short file.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from backends.local import segment_steps, segments
from fixtures.joined import join_as_concat
from tests.local_runs import run_local

RATE = 48000
PART_SECONDS = 3.0


def _part(path, seed: int):
    rng = np.random.default_rng(seed)
    t = np.arange(int(PART_SECONDS * RATE)) / RATE
    sweep = 0.3 * np.sin(2 * np.pi * (200 * t + 3000 * t * t / PART_SECONDS))
    planes = np.stack([sweep + 0.05 * rng.standard_normal(len(t)),
                       0.7 * sweep + 0.05 * rng.standard_normal(len(t))]).astype(np.float32)
    with av.open(str(path), "w") as out:
        # Without noise substitution: its noise comes from a generator that runs on from the first
        # packet, so a decode that seeks never gives the serial decode's samples, joined file or not.
        stream = out.add_stream("aac", rate=RATE, options={"aac_pns": "0"})
        stream.layout, stream.bit_rate = "stereo", 128000
        for at in range(0, planes.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes[:, at:at + 1024]), format="fltp",
                                               layout="stereo")
            frame.sample_rate, frame.pts = RATE, at
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _joined(folder, count: int):
    """The parts' packets in a row as ffmpeg's concat demuxer times them: each part shifted by
    the parts' declared lengths before it, a timestamp that would go back bumped by one tick."""
    parts = [_part(folder / f"part{k}.m4a", seed=k) for k in range(count)]
    return join_as_concat(parts, folder / "joined.m4a", PART_SECONDS, RATE)


@pytest.fixture(scope="module")
def joined4(tmp_path_factory):
    return _joined(tmp_path_factory.mktemp("joined4"), 4)


def _decoded(path):
    with av.open(str(path)) as container:
        channels = container.streams.audio[0].codec_context.channels
        return np.concatenate([frame.to_ndarray().T if frame.format.is_planar
                               else frame.to_ndarray().reshape(-1, channels) for frame in container.decode(audio=0)])


def _declared(path) -> int:
    with av.open(str(path)) as container:
        return round(container.duration / 1e6 * RATE)


@pytest.fixture
def parallel(monkeypatch):
    monkeypatch.setattr(segments, "MIN_SECONDS", 1.0)
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)
    monkeypatch.setattr(segments, "workers", lambda: 3)  # seams after joins, where the timestamps lag


def _serial(source, folder, fmt, monkeypatch, **options):
    with monkeypatch.context() as m:
        m.setattr(segments, "cores_free", lambda: 0.0)
        result = run_local(source, folder, fmt, **options)
    assert not any("segments" in note for note in result.notes)
    return result


def test_the_index_says_how_far_the_timestamps_lag_at_every_frame(joined4):
    steps = segment_steps.read_steps(str(joined4), 0, RATE)
    assert steps is not None and steps.frame == 1024 and steps.runs
    counted = 0
    lags = set()
    with av.open(str(joined4)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            lag = steps.at(frame.pts, stream.time_base, RATE)
            assert lag == counted - frame.pts  # the serial count, from the timestamp
            assert steps.before(frame.pts) == lag
            lags.add(lag)
            counted += frame.samples
    assert len(lags) == 7  # two packets squeezed at each of the three joins


def test_an_unjoined_file_needs_no_correction(tmp_path):
    part = _part(tmp_path / "one.m4a", seed=9)
    steps = segment_steps.read_steps(str(part), 0, RATE)
    assert steps is not None and steps.runs == ()
    assert segment_steps.read_steps(str(part), 0, 44100) is None  # not the track's timescale
    assert segment_steps.read_steps(str(part), 1, RATE) is None  # no such track


def test_a_joined_wav_in_segments_is_the_serial_wav(joined4, tmp_path, monkeypatch, parallel):
    serial = _serial(joined4, tmp_path / "serial", "wav", monkeypatch)
    joined = run_local(joined4, tmp_path / "joined", "wav")
    assert "encoded in 3 segments on 3 cores" in joined.notes  # no serial run after the workers'
    assert serial.verification.samples > _declared(joined4) + 1024  # audio past the declared end, kept
    assert joined.verification.samples == serial.verification.samples
    assert joined.verification.method == "evidence"  # the header, size and CRC match what was written
    assert joined.output.read_bytes() == serial.output.read_bytes()


def test_a_joined_flac_in_segments_decodes_to_the_serial_samples(joined4, tmp_path, monkeypatch, parallel):
    import soundfile

    serial = _serial(joined4, tmp_path / "serial", "flac", monkeypatch)
    joined = run_local(joined4, tmp_path / "joined", "flac")
    assert "encoded in 3 segments on 3 cores" in joined.notes
    assert joined.verification.method == "evidence"
    expected, got = _decoded(serial.output), _decoded(joined.output)
    assert got.shape == expected.shape and len(got) == serial.verification.samples
    assert np.array_equal(got, expected)
    assert soundfile.info(str(joined.output)).frames == len(expected)  # STREAMINFO's total


def _snr(reference, decoded) -> float:
    error = decoded.astype(np.float64) - reference
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum(error ** 2)))


def test_a_joined_mp3_in_segments_has_the_serial_length_and_quality(joined4, tmp_path, monkeypatch, parallel):
    serial = _serial(joined4, tmp_path / "serial", "mp3", monkeypatch, bitrate="192k")
    joined = run_local(joined4, tmp_path / "joined", "mp3", bitrate="192k")
    assert "encoded in 3 segments on 3 cores" in joined.notes
    assert joined.verification.method == "evidence"
    source, expected, got = _decoded(joined4), _decoded(serial.output), _decoded(joined.output)
    assert got.shape == expected.shape == source.shape  # the LAME tag's length: the real one
    assert abs(_snr(source, got) - _snr(source, expected)) < 0.1


@pytest.mark.parametrize("workers", [2, 3])
def test_two_parts_in_segments_keep_what_the_serial_loop_keeps(tmp_path, monkeypatch, parallel, workers):
    # Two parts: past the declared end by more than a frame but under the tolerance; with two
    # workers the cut lies near the join.
    monkeypatch.setattr(segments, "workers", lambda: workers)
    source = _joined(tmp_path, 2)
    serial = _serial(source, tmp_path / "serial", "wav", monkeypatch)
    joined = run_local(source, tmp_path / "joined", "wav")
    assert f"encoded in {workers} segments on {workers} cores" in joined.notes
    assert joined.output.read_bytes() == serial.output.read_bytes()


def test_audio_past_the_end_of_an_index_not_read_runs_serially(joined4, tmp_path, monkeypatch, parallel):
    # Without the index the worker cannot tell where its samples belong: the serial loop decides.
    monkeypatch.setattr(segments, "read_steps", lambda *_: None)
    serial = _serial(joined4, tmp_path / "serial", "wav", monkeypatch)
    result = run_local(joined4, tmp_path / "parallel", "wav")
    assert not any("segments" in note for note in result.notes)
    assert result.output.read_bytes() == serial.output.read_bytes()


@pytest.mark.parametrize(("codec", "suffix", "fmt"), [("alac", "m4a", "flac"), ("pcm_s16be", "mov", "wav")])
def test_integer_samples_in_segments_are_the_serial_ones(tmp_path, monkeypatch, parallel, codec, suffix, fmt):
    # ALAC decodes to planar 32-bit integers (a 24-bit FLAC), big-endian PCM in MOV to packed 16-bit ones:
    # the blocks' other two shapes.
    rng = np.random.default_rng(3)
    samples = (rng.standard_normal((2, 5 * RATE)) * 3000).astype(np.int16)
    source = tmp_path / f"pcm.{suffix}"
    with av.open(str(source), "w") as out:
        stream = out.add_stream(codec, rate=RATE)
        stream.layout = "stereo"
        for at in range(0, samples.shape[1], 4096):
            part = np.ascontiguousarray(samples[:, at:at + 4096].T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(part, format="s16", layout="stereo")
            frame.sample_rate, frame.pts = RATE, at
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    serial = _serial(source, tmp_path / "serial", fmt, monkeypatch)
    joined = run_local(source, tmp_path / "joined", fmt)
    assert "encoded in 3 segments on 3 cores" in joined.notes
    if fmt == "wav":
        assert joined.output.read_bytes() == serial.output.read_bytes()
    else:
        expected, got = _decoded(serial.output), _decoded(joined.output)
        assert len(got) == 5 * RATE and np.array_equal(got, expected)
