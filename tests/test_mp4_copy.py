"""The copy of an MP4 track by its sample index (``backends.local.mp4_copy``) against the packet
loop it stands in for: the same decoded samples, the same evidence, the same verification; it
declines (writing nothing) every file it does not take, and a fault in what it writes is caught."""

from __future__ import annotations

import struct
from array import array

import numpy as np
import pytest

from backends import LocalBackend
from backends.local import engine, mp4_copy
from extractor import JobSpec
from extractor.api import plan as plan_of
from extractor.api import run_spec
from extractor.errors import VerificationFailed
from extractor.mp4index import SampleIndex, read_index
from fixtures.generate import TAGS, Tone, decode_track, make_media


def _copy(source, tmp_path, folder, **options):
    spec = JobSpec.build(str(source), output=f"{tmp_path}/{folder}/", **options)
    (result,) = run_spec(spec, backends={"local": LocalBackend()})
    return result


def _both(source, tmp_path, monkeypatch, **options):
    """(index copy, packet-loop copy) of ``source``; asserts the index copy was the one taken."""
    taken = []
    real = mp4_copy.copy_by_index
    monkeypatch.setattr(engine, "copy_by_index", lambda *a: taken.append(1) or real(*a))
    by_index = _copy(source, tmp_path, "index", **options)
    assert taken == [1] and by_index.output.exists()
    monkeypatch.setattr(engine, "copy_by_index", lambda *a: None)
    by_loop = _copy(source, tmp_path, "loop", **options)
    return by_index, by_loop


@pytest.fixture(scope="module")
def alac(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("alac") / "alac.m4a", duration=2.0,
                      tones=[Tone(660, codec="alac")], video=None)


@pytest.mark.parametrize("name", ["mp4_aac", "mov_aac", "m4a_audio", "mp4_51"])
def test_the_index_copy_decodes_as_the_packet_loops_copy_and_the_source(media, tmp_path, monkeypatch, name):
    by_index, by_loop = _both(media[name], tmp_path, monkeypatch)
    ours, rate = decode_track(by_index.output)
    theirs, _ = decode_track(by_loop.output)
    source, _ = decode_track(media[name])
    assert ours.shape == theirs.shape == source.shape and rate == 48000
    assert np.array_equal(ours, theirs) and np.array_equal(ours, source)
    assert by_index.verification.method == "evidence"
    assert by_index.verification.samples == by_loop.verification.samples
    assert by_index.verification.duration == by_loop.verification.duration
    assert read_index(by_index.output) is not None  # an index the proof reads, not a demux
    assert _language(by_index.output) == _language(by_loop.output) == (_language(media[name]) or "und")


def _language(path):
    import av

    with av.open(str(path)) as container:
        return container.streams.audio[0].metadata.get("language")


def test_alac_is_copied_by_its_index_exactly(alac, tmp_path, monkeypatch):
    by_index, by_loop = _both(alac, tmp_path, monkeypatch)
    ours, _ = decode_track(by_index.output)
    assert np.array_equal(ours, decode_track(alac)[0]) and np.array_equal(ours, decode_track(by_loop.output)[0])


def test_its_evidence_is_the_packet_loops(media, tmp_path, monkeypatch):
    reports = {}
    real_run = LocalBackend.run

    def recording(self, plan, destination, progress=None):
        report = real_run(self, plan, destination, progress)
        reports[destination.parent.name] = report
        return report

    monkeypatch.setattr(LocalBackend, "run", recording)
    _both(media["mp4_aac"], tmp_path, monkeypatch)
    index, loop = reports["index"].evidence, reports["loop"].evidence
    assert (index.packets, index.payload_bytes, index.payload_crc) == (loop.packets, loop.payload_bytes,
                                                                     loop.payload_crc)
    assert index.span == pytest.approx(loop.span, abs=1e-6)
    assert index.before_zero == pytest.approx(loop.before_zero, abs=1e-6)
    assert reports["index"].written_duration == pytest.approx(reports["loop"].written_duration, abs=1e-6)


def test_file_tags_are_written_on_the_copy(tmp_path, monkeypatch):
    from mutagen.mp4 import MP4

    source = make_media(tmp_path / "tagged.mp4", duration=2.0, tones=[Tone(440)], metadata=TAGS)
    by_index, _ = _both(source, tmp_path, monkeypatch)
    tags = MP4(str(by_index.output)).tags
    assert tags["\xa9nam"] == [TAGS["title"]] and tags["\xa9ART"] == [TAGS["artist"]]
    assert by_index.verification.method == "evidence"


def _declines(source, tmp_path, **options) -> bool:
    spec = JobSpec.build(str(source), output=f"{tmp_path}/declined/", **options)
    (plan,) = plan_of(spec)
    destination = tmp_path / "declined.m4a"
    declined = mp4_copy.copy_by_index(plan, destination) is None
    assert not destination.exists() or not declined  # nothing written when it declines
    return declined


def test_it_declines_what_it_does_not_take(media, tmp_path):
    assert _declines(media["mp4_late"], tmp_path, format="m4a")  # an edit list that delays the track
    assert _declines(media["mp4_aac"], tmp_path, start=1.0)  # a cut: the packet loop's pre-roll rules
    assert _declines(media["mkv_multi"], tmp_path, format="m4a")  # no sample index to copy
    chaptered = make_media(tmp_path / "chapters.m4a", duration=3.0, tones=[Tone(440)], video=None,
                           chapters=((0.0, 1.0, "A"), (1.0, 3.0, "B")))
    assert _declines(chaptered, tmp_path)  # PyAV's muxer writes MP4 chapters
    fragmented = tmp_path / "fragmented.mp4"
    import av

    with av.open(str(media["m4a_audio"])) as source, \
            av.open(str(fragmented), "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov"}) as out:
        stream = out.add_stream_from_template(source.streams.audio[0])
        for packet in source.demux(source.streams.audio[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    assert _declines(fragmented, tmp_path, format="m4a")


def test_a_declined_file_is_still_copied_exactly(media, tmp_path):
    result = _copy(media["mp4_late"], tmp_path, "late", format="m4a")
    assert result.verification.method == "evidence"
    import av

    with av.open(str(result.output)) as copied:
        stream = copied.streams.audio[0]
        assert float(stream.start_time * stream.time_base) == pytest.approx(1.5, abs=0.03)  # the delay kept


@pytest.mark.parametrize("fault", ["flipped byte", "lost chunk"])
def test_a_fault_in_what_it_writes_fails_verification_and_leaves_nothing(media, tmp_path, monkeypatch, fault):
    real_copy, real_chunks = mp4_copy._copy_chunks, mp4_copy._new_chunks

    def flipping(plan, fd, out, offsets, lengths):
        crc = real_copy(plan, fd, out, offsets, lengths)
        out.flush()
        with open(out.name, "r+b") as again:
            again.seek(out.tell() - sum(lengths) // 2)  # a byte in the middle of the audio
            byte = again.read(1)[0]
            again.seek(-1, 1)
            again.write(bytes([byte ^ 0xFF]))
        return crc

    def losing(index, start):
        stsc, stco = real_chunks(index, start)
        count = struct.unpack(">I", stco[12:16])[0]
        return stsc, mp4_copy._box(b"stco", stco[8:12] + struct.pack(">I", count - 1) + stco[16:-4])

    if fault == "flipped byte":
        monkeypatch.setattr(mp4_copy, "_copy_chunks", flipping)
    else:
        monkeypatch.setattr(mp4_copy, "_new_chunks", losing)
    with pytest.raises(VerificationFailed):
        _copy(media["m4a_audio"], tmp_path, "faulty", format="m4a")
    assert not any((tmp_path / "faulty").glob("*.m4a"))


def test_chunks_past_4_gib_take_64_bit_offsets():
    sizes = array("I", [100] * 130)
    index = SampleIndex(sizes=sizes, chunks=[(0, 130)], ticks=130 * 1024, timescale=48000, data=(0, 13000))
    stsc, table = mp4_copy._new_chunks(index, 5 << 30)
    assert table[4:8] == b"co64"
    offsets = struct.unpack(">3Q", table[16:])
    assert offsets == (5 << 30, (5 << 30) + 6400, (5 << 30) + 12800)
    assert struct.unpack(">II6I", stsc[8:]) == (0, 2, 1, 64, 1, 3, 2, 1)
    _, small = mp4_copy._new_chunks(index, 40)
    assert small[4:8] == b"stco" and struct.unpack(">3I", small[16:]) == (40, 6440, 12840)


def test_fetching_only_the_audio_pages_writes_the_same_file(media, tmp_path, monkeypatch):
    (plan,) = plan_of(JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/x.m4a"))
    monkeypatch.setattr(mp4_copy, "_sparse", lambda offsets, ends: True)
    monkeypatch.setattr(mp4_copy, "_cached", lambda fd, offsets: False)  # the storage path, advice and all
    sparse = mp4_copy.copy_by_index(plan, tmp_path / "sparse.m4a")
    monkeypatch.setattr(mp4_copy, "_sparse", lambda offsets, ends: False)
    whole = mp4_copy.copy_by_index(plan, tmp_path / "whole.m4a")
    assert (tmp_path / "sparse.m4a").read_bytes() == (tmp_path / "whole.m4a").read_bytes()
    assert sparse.evidence == whole.evidence


def test_audio_spread_thinly_over_a_video_file_is_fetched_page_by_page():
    interleaved = [n * 16384 for n in range(1000)]  # 500 bytes of audio every 16 KB
    assert mp4_copy._sparse(interleaved, [offset + 500 for offset in interleaved])
    packed = [n * 600 for n in range(1000)]  # an audio-only file: chunk after chunk
    assert not mp4_copy._sparse(packed, [offset + 600 for offset in packed])


def test_the_page_cache_probe_says_cached_for_a_file_just_read(media):
    with open(media["mp4_aac"], "rb") as f:
        f.read()
        assert mp4_copy._cached(f.fileno(), [0, 4096, 8192])


def test_the_index_reader_takes_zero_composition_offsets_and_two_media_data_boxes(tmp_path):
    import io

    from extractor import mp4index

    zero = struct.pack(">II4I", 0, 2, 1, 0, 159, 0)
    priming = struct.pack(">II4I", 0, 2, 1, 1024, 159, 0)  # iTunes: the first sample shown later
    assert mp4index._no_offsets(zero, 0, len(zero))
    assert not mp4index._no_offsets(priming, 0, len(priming))
    boxes = [mp4_copy._box(kind, payload) for kind, payload in
             ((b"ftyp", b"M4A \0\0\0\0"), (b"mdat", b"a" * 10), (b"mdat", b"b" * 6), (b"moov", b""),
              (b"free", b""), (b"free", b""))]
    data = b"".join(boxes)
    top = mp4index._top_level(io.BytesIO(data), len(data))
    assert top[b"mdat"] == (24, 24 + 10 + 8 + 6)  # the first payload's start to the last one's end
    assert mp4index._top_level(io.BytesIO(data + boxes[3]), len(data) + 8) is None  # a second moov


def test_chunks_close_together_are_asked_for_in_one_range():
    far = mp4_copy.ADVICE_GAP + 1
    offsets = [0, 100, 110 + far, 120 + far]
    assert mp4_copy._advice(offsets, [10, 10, 10, 10]) == ([0, 2], [0, 110 + far], [110, 20])


@pytest.mark.parametrize("sparse", [False, True])
def test_a_source_that_shrinks_while_read_is_damage_and_leaves_nothing(media, tmp_path, monkeypatch, sparse):
    from extractor.errors import DamagedInput

    real = mp4_copy.os.pread
    monkeypatch.setattr(mp4_copy.os, "pread", lambda fd, length, offset: real(fd, length, offset)[:-1])
    monkeypatch.setattr(mp4_copy, "_sparse", lambda offsets, ends: sparse)
    with pytest.raises(DamagedInput, match="ends inside its audio data"):
        _copy(media["mp4_aac"], tmp_path, "shrunk")
    assert not any((tmp_path / "shrunk").glob("*"))  # no partial output, no temp file
