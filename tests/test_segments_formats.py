"""One long file on every core, for the encoded formats: a FLAC joined from segments decodes to
exactly the serial FLAC's samples; an MP3 joined from segments has the serial MP3's length and
its quality, overall and around each seam.

The input is a chirp plus noise (every frequency, no silence: a misplaced, doubled or missing
block shows in the comparison) long enough for a later segment's frame numbers to need two
bytes. The threshold is forced low and the cores forced free so the parallel path runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.local import segments
from tests.local_runs import run_local

SECONDS = 24.0
RATE = 48000


@pytest.fixture(scope="module")
def chirp_m4a(tmp_path_factory):
    return _chirp(tmp_path_factory.mktemp("segf") / "lecture.m4a", RATE, 2)


def _chirp(path, rate: int, channels: int):
    import av
    import numpy as np

    rng = np.random.default_rng(20)
    t = np.arange(int(SECONDS * rate)) / rate
    sweep = 0.3 * np.sin(2 * np.pi * (100 * t + 8000 * t * t / (2 * SECONDS)))
    planes = np.stack([sweep + 0.05 * rng.standard_normal(len(t)),
                       0.8 * sweep + 0.05 * rng.standard_normal(len(t))][:channels]).astype(np.float32)
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout, stream.bit_rate = layout, 128000
        for at in range(0, planes.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes[:, at:at + 1024]), format="fltp",
                                               layout=layout)
            frame.sample_rate, frame.pts = rate, at
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture
def parallel(monkeypatch):
    monkeypatch.setattr(segments, "MIN_SECONDS", 1.0)
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)


def _decoded(path):
    import av
    import numpy as np

    with av.open(str(path)) as container:
        channels = container.streams.audio[0].codec_context.channels
        return np.concatenate([frame.to_ndarray().reshape(-1, channels) if not frame.format.is_planar
                               else frame.to_ndarray().T for frame in container.decode(audio=0)])


def test_a_segmented_flac_decodes_to_the_serial_flacs_samples(chirp_m4a, tmp_path, monkeypatch, parallel):
    import numpy as np
    import soundfile

    monkeypatch.setattr(segments, "cores_free", lambda: 0.0)
    serial = run_local(chirp_m4a, tmp_path / "serial", "flac")
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)
    monkeypatch.setattr(segments, "workers", lambda: 3)  # three segments: two seams
    joined = run_local(chirp_m4a, tmp_path / "joined", "flac")
    assert not any("segments" in note for note in serial.notes)
    assert "encoded in 3 segments on 3 cores" in joined.notes
    assert joined.verification.method == "evidence"
    expected, got = _decoded(serial.output), _decoded(joined.output)
    assert got.shape == expected.shape == (round(SECONDS * RATE), 2)
    assert np.array_equal(got, expected)  # sample for sample
    read, rate = soundfile.read(str(joined.output), dtype="int16")  # libFLAC checks every frame's CRCs
    assert rate == RATE and np.array_equal(read, expected)
    info = soundfile.info(str(joined.output))
    assert info.frames == len(expected)
    # Renumbered frames are the serial frames, byte for byte: only STREAMINFO's MD5 differs (zeros).
    data, reference = joined.output.read_bytes(), serial.output.read_bytes()
    assert data[26:42] == bytes(16) and data[:26] + data[42:] == reference[:26] + reference[42:]


def test_renumbered_frame_headers_grow_and_keep_valid_crcs():
    from backends.local import segment_flac

    crc16 = segment_flac._Crc16()
    body = bytes(range(256)) * 7
    for number in (0, 127, 128, 2047, 2048, 65535, 65536, 1 << 30):
        coded = segment_flac._utf8_number(number)
        assert coded == (chr(number).encode("utf-8", "surrogatepass") if number < 0x110000 else coded)
        header = bytes([0xFF, 0xF8, 0xC9, 0x18]) + segment_flac._utf8_number(5)
        header += bytes([segment_flac._crc8(header)])
        frame = header + body + crc16.of(header + body).to_bytes(2, "big")
        moved = b"".join(segment_flac._renumbered_parts(memoryview(frame), number, crc16))
        new_header = moved[:4 + len(coded) + 1]
        assert moved[4:4 + len(coded)] == coded and segment_flac._crc8(new_header[:-1]) == new_header[-1]
        assert int.from_bytes(moved[-2:], "big") == crc16.of(moved[:-2])  # computed without reading the body


def test_an_interrupt_while_joining_leaves_no_segment_files(chirp_m4a, tmp_path, monkeypatch, parallel):
    from backends.local import segment_flac

    def interrupted(plan, destination, jobs, results):
        assert all(Path(part["path"]).exists() for part in results)  # the workers' files were there
        raise KeyboardInterrupt

    monkeypatch.setattr(segment_flac, "join", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_local(chirp_m4a, tmp_path / "out", "flac")
    assert list((tmp_path / "out").iterdir()) == []  # no output, no segment, no scratch file


def _snr(reference, decoded, window=None) -> float:
    import numpy as np

    if window is not None:
        reference, decoded = reference[window[0]:window[1]], decoded[window[0]:window[1]]
    error = decoded.astype(np.float64) - reference
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum(error ** 2)))


def test_a_segmented_mp3_has_the_serial_length_and_quality(chirp_m4a, tmp_path, monkeypatch, parallel):
    import numpy as np

    from backends.local import segment_mp3

    monkeypatch.setattr(segments, "cores_free", lambda: 0.0)
    serial = run_local(chirp_m4a, tmp_path / "serial", "mp3", bitrate="192k")
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)
    monkeypatch.setattr(segments, "workers", lambda: 3)
    seams = []
    real = segment_mp3._seam
    monkeypatch.setattr(segment_mp3, "_seam", lambda a, b: seams.append(real(a, b)) or seams[-1])
    joined = run_local(chirp_m4a, tmp_path / "joined", "mp3", bitrate="192k")
    assert "encoded in 3 segments on 3 cores" in joined.notes and len(seams) == 2 and None not in seams
    assert joined.verification.method == "evidence"
    source, expected, got = _decoded(chirp_m4a), _decoded(serial.output), _decoded(joined.output)
    assert got.shape == expected.shape == source.shape  # gapless: the tag's delay and padding are right
    assert abs(_snr(source, got) - _snr(source, expected)) < 0.1
    for seam in seams:
        at = seam * segment_mp3.FRAME - segment_mp3.DELAY
        # Two frames either side, where a reservoir or priming fault would show, and a second after.
        near, after = (at - 2 * segment_mp3.FRAME, at + 2 * segment_mp3.FRAME), (at, at + RATE)
        assert abs(_snr(source, got, near) - _snr(source, expected, near)) < 0.1
        assert abs(_snr(source, got, after) - _snr(source, expected, after)) < 0.1
    # With WARMUP frames of warm-up the later encoders reach the serial encoder's state: the
    # joined file decodes to exactly the serial samples (a shorter warm-up fails this).
    assert np.array_equal(got, expected)
    # Up to the first seam the joined stream is the serial encoder's, byte for byte (after the tag).
    data, reference = joined.output.read_bytes(), serial.output.read_bytes()
    frame = segment_mp3.frame_size(data[:4])  # 576 bytes at 192k, 48 kHz
    assert len(data) == len(reference)
    assert data[frame:seams[0] * frame] == reference[frame:seams[0] * frame]


def test_an_mp3_without_a_seam_where_the_reservoirs_fit_runs_serially(chirp_m4a, tmp_path, monkeypatch, parallel):
    from backends.local import segment_mp3

    monkeypatch.setattr(segment_mp3, "SEARCH", 0)  # no frame to try: no seam
    result = run_local(chirp_m4a, tmp_path, "mp3", bitrate="192k")
    assert not any("segments" in note for note in result.notes)
    assert result.verification.samples == round(SECONDS * RATE)
    assert [p.name for p in tmp_path.iterdir()] == ["lecture.mp3"]  # the segment files are gone


def test_a_segmented_mp3_at_44100_hz_mono_borrows_across_several_frames(tmp_path, monkeypatch, parallel):
    # At 128k mono a frame reads up to 511 reservoir bytes, more than one frame's data area
    # (397 bytes), and 44.1 kHz frames differ in size (padding): the seams copy across frames.
    from backends.local import segment_mp3

    source = _chirp(tmp_path / "mono.m4a", 44100, 1)
    monkeypatch.setattr(segments, "cores_free", lambda: 0.0)
    serial = run_local(source, tmp_path / "serial", "mp3", bitrate="128k")
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)
    seams = []
    real = segment_mp3._seam
    monkeypatch.setattr(segment_mp3, "_seam", lambda a, b: seams.append(real(a, b)) or seams[-1])
    joined = run_local(source, tmp_path / "joined", "mp3", bitrate="128k")
    assert "encoded in 2 segments on 2 cores" in joined.notes and None not in seams
    expected, got = _decoded(serial.output), _decoded(joined.output)
    reference = _decoded(source)[:len(expected)]
    assert got.shape == expected.shape == (round(SECONDS * 44100), 1)
    assert abs(_snr(reference, got) - _snr(reference, expected)) < 0.1
    at = seams[0] * segment_mp3.FRAME - segment_mp3.DELAY
    for window in ((at - 2 * segment_mp3.FRAME, at + 2 * segment_mp3.FRAME), (at, at + 44100)):
        assert abs(_snr(reference, got, window) - _snr(reference, expected, window)) < 0.1


def test_the_frame_index_of_a_segment_file_is_right_across_read_blocks(tmp_path, monkeypatch):
    # 44.1 kHz frames are 417 or 418 bytes: with small read blocks, headers and frames straddle them.
    from backends.local import segment_mp3

    sizes = [417, 418, 418, 417, 418, 417, 417, 418] * 40
    data = b"".join(bytes([0xFF, 0xFB, 0x90 | (2 if size == 418 else 0), 0xC4]) + bytes(size - 4) for size in sizes)
    path = tmp_path / "part.mp3"
    path.write_bytes(data)
    expected = [sum(sizes[:k]) for k in range(len(sizes) + 1)]
    for block in (1000, 417, 4, 1 << 20):
        monkeypatch.setattr(segment_mp3, "READ_BLOCK", block)
        assert list(segment_mp3._frame_offsets(str(path))) == expected
    path.write_bytes(data[:-3])  # a cut last frame is not a plain run of frames
    assert segment_mp3._frame_offsets(str(path)) is None
