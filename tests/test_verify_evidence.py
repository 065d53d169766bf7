"""Verification from evidence catches every fault of a written file, without decoding it all.

Each fault is made for real: the local engine writes the file and reports its evidence, then
the file is damaged (cut, a byte flipped, emptied), or the engine is made to carry out another
plan than the one verified (other codec, rate, channels, length). Each must be reported as a
verification failure (exit 10) and leave nothing behind.
"""

from __future__ import annotations

import os

import pytest

from backends import LocalBackend
from backends.mock import MockBackend
from extractor import JobSpec
from extractor.api import run_spec
from extractor.errors import VerificationFailed
from extractor.mediainfo import probe
from extractor.planner import plan_jobs

# (fixture, format, what writes it): a copy through an FFmpeg muxer, an FFmpeg encoder,
# libsndfile (WAV, FLAC) and LAME (MP3).
WRITERS = [
    ("mp4_aac", "auto", "copy into MP4"),
    ("mp4_aac", "aac", "copy into ADTS"),
    ("webm_opus", "opus", "copy into Ogg"),
    ("mp4_aac", "opus", "FFmpeg's Opus encoder"),
    ("mp4_aac", "wav", "libsndfile WAV"),
    ("mp4_aac", "flac", "libsndfile FLAC"),
    ("mp4_aac", "mp3", "LAME"),
]


def _damaging(change):
    """The real engine's work and evidence, then ``change(path)`` to the file it wrote."""
    local = LocalBackend()

    def handler(plan, destination):
        report = local.run(plan, destination)
        change(destination)
        return report

    return handler


def _cut(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) * 2 // 3)


def _flip_middle(path):
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x10]))


def _empty(path):
    with open(path, "r+b") as f:
        f.truncate(0)


def _carrying_out(**changes):
    """The real engine carrying out the plan for another request, reporting honest evidence of
    that other file: the evidence matches the file, the file does not match the plan."""
    local = LocalBackend()

    def handler(plan, destination):
        other = plan_jobs(plan.spec.replace(**changes), probe(plan.spec.input))[0]
        return local.run(other, destination)

    return handler


def _fails(media, tmp_path, name, fmt, handler) -> str:
    mock = MockBackend(handler)
    spec = JobSpec.build(str(media[name]), format=fmt, output=f"{tmp_path}/")
    with pytest.raises(VerificationFailed) as caught:
        run_spec(spec, backends={"local": mock})
    assert caught.value.exit_code == 10
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file
    return caught.value.one_line()


@pytest.mark.parametrize("name,fmt,writer", WRITERS, ids=[w[2] for w in WRITERS])
@pytest.mark.parametrize("fault", [_cut, _flip_middle, _empty], ids=["cut", "flipped byte", "empty"])
def test_a_damaged_file_is_caught_by_its_evidence(media, tmp_path, name, fmt, writer, fault):
    _fails(media, tmp_path, name, fmt, _damaging(fault))


@pytest.mark.parametrize("name,fmt,writer", WRITERS, ids=[w[2] for w in WRITERS])
def test_every_writer_is_proven_by_evidence(media, tmp_path, name, fmt, writer):
    spec = JobSpec.build(str(media[name]), format=fmt, output=f"{tmp_path}/")
    (proven,) = run_spec(spec, backends={"local": LocalBackend()})
    assert proven.verification.method == "evidence"
    (decoded,) = run_spec(spec.replace(verify="full", output=f"{tmp_path}/full/"), backends={"local": LocalBackend()})
    assert decoded.verification.method == "decode"
    # The length counted from the evidence is the length a decoder delivers.
    assert proven.verification.samples == decoded.verification.samples


CARRIED_OUT = [
    ("mp4_aac", "mka", {"sample_bits": 24}, "codec is flac, planned aac"),
    ("mp4_aac", "wav", {"sample_rate": 44100}, "sample rate is 44100 Hz"),
    ("mp4_aac", "flac", {"channels": 1}, "1 channels, planned 2"),
    ("mp4_aac", "mp3", {"channels": 1}, "1 channels, planned 2"),
    ("mp4_aac", "auto", {"duration": 2.0}, "duration is 2.0"),
    ("mp4_aac", "opus", {"duration": 2.0}, "duration is 2.0"),
]


@pytest.mark.parametrize("name,fmt,changes,message", CARRIED_OUT, ids=[c[3] for c in CARRIED_OUT])
def test_a_file_of_another_plan_is_caught(media, tmp_path, name, fmt, changes, message):
    assert message in _fails(media, tmp_path, name, fmt, _carrying_out(**changes))


def test_verify_full_decodes_and_is_part_of_the_spec(media, tmp_path):
    spec = JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/", verify="full")
    assert JobSpec.from_json(spec.to_json()).verify == "full"
    (result,) = run_spec(spec, backends={"local": LocalBackend()})
    assert result.verification.method == "decode"


def test_a_mock_engine_without_evidence_is_decoded(media, tmp_path):
    local = LocalBackend()

    def handler(plan, destination):
        report = local.run(plan, destination)
        report.evidence = None
        return report

    spec = JobSpec.build(str(media["mp4_aac"]), format="wav", output=f"{tmp_path}/")
    (result,) = run_spec(spec, backends={"local": MockBackend(handler)})
    assert result.verification.method == "decode"
    assert result.verification.peak_dbfs == pytest.approx(-6.0, abs=0.3)


def test_a_writer_that_rewrites_past_the_header_leaves_no_evidence(tmp_path):
    from backends.local.evidence import HEAD, HashingFile

    kept = HashingFile(tmp_path / "a.bin")
    kept.write(b"x" * (HEAD + 100))
    kept.seek(0)
    kept.write(b"header")  # inside the head: the usual rewrite on close
    kept.close()
    assert kept.evidence(samples=1).file_size == HEAD + 100

    broken = HashingFile(tmp_path / "b.bin")
    broken.write(b"x" * (HEAD + 100))
    broken.seek(HEAD + 10)
    broken.write(b"y")  # bytes already hashed: the CRC would be wrong, so there is none
    broken.close()
    assert broken.evidence(samples=1) is None


@pytest.mark.parametrize("fmt", ["flac", "m4a"])
def test_loudness_is_measured_during_the_encode(media, tmp_path, fmt):
    spec = JobSpec.build(str(media["mp4_aac"]), format=fmt, loudness=-20, output=f"{tmp_path}/")
    (metered,) = run_spec(spec, backends={"local": LocalBackend()})
    assert metered.verification.method == "evidence"
    (decoded,) = run_spec(spec.replace(verify="full", output=f"{tmp_path}/full/"), backends={"local": LocalBackend()})
    assert decoded.verification.method == "decode"
    assert abs(metered.verification.loudness_lufs + 20) <= 0.5
    # What was handed to the encoder is what a decode of the output measures, give or take the codec.
    assert metered.verification.loudness_lufs == pytest.approx(decoded.verification.loudness_lufs, abs=0.3)


@pytest.mark.parametrize(("codec", "layout"), [("pcm_s24le", "mono"), ("pcm_s24le", "stereo"), ("pcm_s16le", "stereo")])
def test_a_pcm_copy_counts_samples_by_their_stored_width(tmp_path, codec, layout):
    """24-bit PCM is stored in 3 bytes a sample but decodes to 32-bit ones: counted by the decoded
    width, an 8 s camera recording's copy "lasted" 6.17 s and was refused."""
    from fixtures.generate import Tone, make_media

    source = make_media(tmp_path / "cam.mov", duration=8.0, tones=[Tone(440, codec=codec, layout=layout, sample_rate=44100)])
    (result,) = run_spec(JobSpec.build(str(source), format="wav", output=f"{tmp_path}/out/"))
    assert result.plan.is_copy and result.verification.method == "evidence"
    assert result.verification.duration == pytest.approx(8.0, abs=1e-6)


def test_a_span_re_timed_by_the_muxer_is_still_the_written_one():
    """Files from other tools: an M4A whose first packet carries a composition offset (the MP4
    muxer then times the copy by decoding time: longer by that offset), and a Vorbis stream whose
    first packet lies before zero (the Ogg muxer's clock starts at zero: shorter by that much).
    Anything else off by more than the slack is still refused."""
    from backends.base import Evidence
    from extractor.proof import SPAN_SLACK, _same_span

    written = Evidence(span=3.685, lead=1024 / 44100)
    assert _same_span(3.685, written)
    assert _same_span(3.685 + 1024 / 44100, written)
    assert not _same_span(3.685 + 2048 / 44100, written)
    assert not _same_span(3.685 - 1024 / 44100, written)
    before = Evidence(span=0.4627, before_zero=128 / 48000)
    assert _same_span(0.4627 - 128 / 48000, before)
    assert not _same_span(0.4627 + 128 / 48000, before)
    assert not _same_span(0.4627 + 3 * SPAN_SLACK, Evidence(span=0.4627))


def test_an_mp3_whose_last_frame_holds_the_id3v1_tag_copies_without_it(tmp_path):
    """A last frame cut short by an ID3v1 tag (tag-library test files, old rips): FFmpeg's demuxer
    hands the tag over inside the last packet. The copy leaves it out of the audio; before, the
    output's tag writer rewrote it in place and the copy was refused (CRC-32 mismatch)."""
    import av

    from backends.local.mp3_header import frame_length
    from fixtures.generate import Tone, make_media

    source = make_media(tmp_path / "song.mp3", duration=2.0, video=None,
                        tones=[Tone(440, codec="libmp3lame", sample_rate=44100)])
    data = source.read_bytes()
    with av.open(str(source)) as c:
        packets = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
    last = data.rfind(packets[-1])
    assert frame_length(packets[-1]) == len(packets[-1])
    tag = b"TAG" + b"Old title".ljust(30, b"\0") + b"Old artist".ljust(30, b"\0") + b"\0" * 30 + b"1999" \
        + b"\0" * 30 + b"\x0c"
    cut = source.with_name("cut.mp3")
    cut.write_bytes(data[:last + len(packets[-1]) // 2] + tag)  # the last frame cut in half, then the tag
    with av.open(str(cut)) as c:
        assert bytes([p for p in c.demux(c.streams.audio[0]) if p.size][-1]).endswith(tag)
    (result,) = run_spec(JobSpec.build(str(cut), format="mp3", output=f"{tmp_path}/out/"))
    assert result.plan.is_copy
    with av.open(str(result.output)) as c:
        copied = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
    assert copied[-1] == packets[-1][:len(packets[-1]) // 2]
    assert copied[:-1] == packets[:-1]
    assert b"Old title" not in result.output.read_bytes()[-200:]


def test_a_full_frame_ending_in_tag_bytes_is_audio():
    from backends.local.mp3_header import trailing_id3v1

    header = bytes([0xFF, 0xFB, 0x90, 0x64])  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes
    frame = header + b"\0" * (417 - 4 - 128) + b"TAG" + b"\0" * 125
    assert not trailing_id3v1(frame)
    assert trailing_id3v1(frame[:300] + b"TAG" + b"\0" * 125)


@pytest.mark.parametrize("source_ext", ["aac", "ts"])
@pytest.mark.parametrize("fmt", ["aac", "m4a", "mka"])
def test_adts_aac_copies_verify_and_decode_like_the_source(tmp_path, source_ext, fmt):
    """AAC from an .aac file or an MPEG-TS recording carries an ADTS header on every frame, which
    the output's muxer takes off or writes anew: the evidence counts the frames without it.
    (Counted with it, every such copy was refused: 'its audio is 32321 bytes, 32986 were written'.)"""
    from fixtures.generate import Tone, Video, decode_track, make_media

    video = Video(codec="mpeg2video") if source_ext == "ts" else None
    source = make_media(tmp_path / f"rec.{source_ext}", duration=3.0, video=video, tones=[Tone(440, codec="aac")])
    (result,) = run_spec(JobSpec.build(str(source), format=fmt, output=f"{tmp_path}/out/"))
    assert result.plan.is_copy and result.verification.method == "evidence"
    ours, _ = decode_track(result.output)
    theirs, _ = decode_track(source)
    assert ours.shape == theirs.shape and (ours == theirs).all()
