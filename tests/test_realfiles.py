"""The classes of real files that were refused or came out different (issue 13, and the unusual-audio
and far-timestamp classes of issue 21), each rebuilt here from a small file with a known answer.

Answers are measured, not hard-coded: an output must decode to exactly the samples its source
decodes to (both through this PyAV), or to the length the source holds. The real-file corpus
(``fixtures/realfiles.py``) is tested too when VAX_REALFILES points at a laid-out folder.
"""

from __future__ import annotations

import itertools
import json
import os
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from fixtures.generate import Tone, make_media


def decoded(path) -> np.ndarray:
    """(samples, channels), as float: integer PCM scaled to -1..1."""
    blocks = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            array = frame.to_ndarray()
            channels = frame.layout.nb_channels
            array = array.T if frame.format.is_planar else array.reshape(-1, channels)
            if array.dtype.kind == "i":
                array = array / float(-np.iinfo(array.dtype).min)
            blocks.append(array)
    return np.concatenate(blocks) if blocks else np.zeros((0, 1))


def assert_same_audio(output, source, lsb: float = 0.0):
    """Same length and channels, and the same samples (within ``lsb`` for a 16-bit output of a float decode)."""
    ours, theirs = decoded(output), decoded(source)
    assert ours.shape == theirs.shape, f"{Path(output).name}: {ours.shape} against the source's {theirs.shape}"
    assert np.max(np.abs(ours - theirs), initial=0.0) <= lsb


PCM16 = 1 / 32768


def extract(run_vax, source, out, *args) -> dict:
    code, stdout, stderr = run_vax("extract", source, "-o", out, "--json", *args)
    assert code == 0, stderr
    return json.loads(stdout.splitlines()[0])


def _remux(source: Path, target: Path, fmt: str, options: dict | None = None, edit=None) -> Path:
    """Copy the audio of ``source`` into ``target`` with PyAV; ``edit(index, packet)`` may change packets."""
    with av.open(str(source)) as inp:
        stream = inp.streams.audio[0]
        with av.open(str(target), "w", format=fmt, options=options or {}) as out:
            copy = out.add_stream_from_template(stream)
            for index, packet in enumerate(p for p in inp.demux(stream) if p.size):
                if edit is not None:
                    edit(index, packet)
                packet.stream = copy
                out.mux(packet)
    return target


# -- wrong refusals --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mp3_in_mp4(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mp3")
    return make_media(folder / "mp3.mp4", duration=2, tones=[Tone(440, codec="libmp3lame", sample_rate=44100)],
                      video=None)


def test_mp3_without_a_xing_header_is_copied_and_decoded_whole(run_vax, mp3_in_mp4, tmp_path):
    bare = _remux(mp3_in_mp4, tmp_path / "bare.mp3", "mp3", {"write_xing": "0"})
    assert_same_audio(extract(run_vax, bare, tmp_path / "copy.mp3")["output"], bare)
    assert_same_audio(extract(run_vax, bare, tmp_path / "out.wav", "-f", "wav")["output"], bare, PCM16)


@pytest.mark.parametrize("rate", [24000, 11025])  # MPEG-2 and MPEG-2.5: 576-sample frames
def test_low_rate_mp3_with_a_lame_header_is_not_refused(run_vax, tmp_path, rate):
    source = make_media(tmp_path / "low.mp3", duration=2, tones=[Tone(440, codec="libmp3lame", sample_rate=rate)],
                        video=None)
    assert_same_audio(extract(run_vax, source, tmp_path / "copy.mp3")["output"], source)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _claim_more_on_last_page(path: Path, extra_samples: int) -> None:
    """Raise the granule position of an Ogg file's last page, as some real files have it."""
    data = bytearray(path.read_bytes())
    last = data.rfind(b"OggS")
    granule = struct.unpack_from("<q", data, last + 6)[0]
    struct.pack_into("<q", data, last + 6, granule + extra_samples)
    segments = data[last + 26]
    size = 27 + segments + sum(data[last + 27:last + 27 + segments])
    struct.pack_into("<I", data, last + 22, 0)
    struct.pack_into("<I", data, last + 22, _ogg_crc(bytes(data[last:last + size])))
    path.write_bytes(bytes(data))


def test_ogg_opus_whose_last_page_claims_more_is_not_refused(run_vax, tmp_path):
    source = make_media(tmp_path / "long.opus", duration=2, tones=[Tone(440, codec="libopus")], video=None)
    _claim_more_on_last_page(source, 48000)  # one second more than the pages hold
    with av.open(str(source)) as container:
        assert container.duration / 1e6 > 2.9  # the lie is in place
    assert_same_audio(extract(run_vax, source, tmp_path / "copy.opus")["output"], source)
    assert_same_audio(extract(run_vax, source, tmp_path / "out.flac", "-f", "flac")["output"], source, PCM16)


def test_audio_that_starts_before_the_video_is_kept_whole(run_vax, tmp_path):
    source = make_media(tmp_path / "early.mkv", duration=3, tones=[Tone(440, start=-0.3)])
    from extractor.api import probe

    assert probe(source).audio[0].offset < -0.25
    result = extract(run_vax, source, tmp_path / "out.flac", "-f", "flac")
    assert decoded(result["output"]).shape == decoded(source).shape  # nothing cut at the start
    assert any("before the video" in note for note in result["notes"])
    assert_same_audio(extract(run_vax, source, tmp_path / "copy.mka")["output"], source)


def test_an_apev2_tag_at_the_end_of_an_mp3_is_not_audio(run_vax, tmp_path):
    from mutagen.apev2 import APEv2

    source = make_media(tmp_path / "ape.mp3", duration=2, tones=[Tone(440, codec="libmp3lame", sample_rate=44100)],
                        video=None)
    tag = APEv2()
    tag["Title"] = "trailing tag"
    tag.save(str(source))
    assert source.read_bytes()[-32:].startswith(b"APETAGEX")
    assert_same_audio(extract(run_vax, source, tmp_path / "copy.mp3")["output"], source)
    assert_same_audio(extract(run_vax, source, tmp_path / "out.wav", "-f", "wav")["output"], source, PCM16)


def test_equal_consecutive_timestamps_are_not_damage(run_vax, tmp_path):
    source = make_media(tmp_path / "plain.mka", duration=2, tones=[Tone(440)], video=None)
    previous = {}

    def repeat_a_timestamp(index, packet):
        if index == 20:
            packet.pts = packet.dts = previous["dts"]
        previous["dts"] = packet.dts

    equal = _remux(source, tmp_path / "equal.mka", "matroska", edit=repeat_a_timestamp)
    with av.open(str(equal)) as container:
        dts = [p.dts for p in container.demux(container.streams.audio[0]) if p.size]
    assert any(a == b for a, b in itertools.pairwise(dts))
    # MP4's muxer is strict about equal timestamps: the copy must still go through.
    result = extract(run_vax, equal, tmp_path / "copy.m4a")
    assert decoded(result["output"]).shape == decoded(equal).shape


@pytest.mark.parametrize("samples", [1, 4])
@pytest.mark.parametrize("fmt", ["auto", "mp3", "flac"])  # a copy, and two encoders
def test_very_short_files_are_extracted(run_vax, tmp_path, samples, fmt):
    import soundfile

    source = tmp_path / f"short{samples}.wav"
    soundfile.write(str(source), np.full((samples, 2), 0.25), 48000, subtype="PCM_16")
    code, stdout, stderr = run_vax("extract", source, "-o", tmp_path / "out/", "-f", fmt, "--json")
    assert "--start" not in stderr
    assert code == 0, stderr
    assert json.loads(stdout.splitlines()[0])["verification"]["samples"] >= samples


def test_probe_never_shows_a_negative_duration(run_vax, tmp_path):
    # One sample of MP3: its LAME header's delay and padding exceed the one frame it has.
    source = tmp_path / "one.mp3"
    bare = tmp_path / "one.wav"
    import soundfile

    soundfile.write(str(bare), np.full((1, 1), 0.25), 24000, subtype="PCM_16")
    code, _, stderr = run_vax("extract", bare, "-o", source, "-f", "mp3")
    assert code == 0, stderr
    code, stdout, _ = run_vax("probe", source, "--json")
    assert code == 0
    track = json.loads(stdout)["audio"][0]
    assert track["duration"] is None or track["duration"] >= 0


def test_a_format_this_build_cannot_read_is_named(run_vax, tmp_path):
    old = tmp_path / "old.mpc"
    old.write_bytes(bytes([0xC1, 0x2F, 0x20, 0x00, 0xF2, 0x03, 0, 0]) + bytes(4096))  # Musepack SV5: no magic
    code, _, stderr = run_vax("extract", old, "-o", tmp_path / "out/")
    assert code == 4 and "Musepack" in stderr and "cannot read" in stderr and "Traceback" not in stderr


# -- copies exact where they can be ------------------------------------------------------------

@pytest.mark.parametrize("container", ["mp4", "mkv", "avi"])
def test_mp3_copied_out_of_a_video_container_decodes_like_the_source(run_vax, tmp_path, container):
    video = None if container != "avi" else __import__("fixtures.generate", fromlist=["Video"]).Video()
    source = make_media(tmp_path / f"src.{container}", duration=2,
                        tones=[Tone(440, codec="libmp3lame", sample_rate=44100)], video=video)
    result = extract(run_vax, source, tmp_path / "copy.mp3")
    assert result["mode"] == "copy" and result["plan"]["sample_exact"]
    assert_same_audio(result["output"], source)


def test_32_bit_float_stays_float(run_vax, tmp_path):
    # Over full scale on purpose: 32-bit integers would clip it.
    source = make_media(tmp_path / "float.mov", duration=1, tones=[Tone(440, codec="pcm_f32be", amplitude=1.5)],
                        video=None)
    result = extract(run_vax, source, tmp_path / "out.wav")
    assert result["plan"]["codec"] == "pcm_f32le" and "float" in result["explanation"]
    ours, theirs = decoded(result["output"]), decoded(source)
    assert np.abs(ours).max() > 1.4  # not clipped
    assert ours.shape == theirs.shape and np.array_equal(ours, theirs)


# -- issue 21: unusual but legal audio, timestamps far from zero ---------------------------------

@pytest.fixture(scope="module")
def surround(tmp_path_factory):
    folder = tmp_path_factory.mktemp("surround")
    return make_media(folder / "7.1.mp4", duration=1, tones=[Tone(440, codec="aac", layout="7.1")], video=None)


@pytest.mark.parametrize("fmt,channels", [("flac", 8), ("wav", 8), ("m4a", 8), ("mp3", 2), ("opus", 2)])
def test_7_1_sources_are_transcoded_without_a_crash(run_vax, surround, tmp_path, fmt, channels):
    result = extract(run_vax, surround, tmp_path / f"out.{fmt}", "-f", fmt, "--exact", "--start", "0.1")
    assert result["verification"]["channels"] == channels
    assert list(tmp_path.iterdir()) == [tmp_path / f"out.{fmt}"]  # no partial file left


@pytest.mark.parametrize("rate,fmt,planned", [(192000, "m4a", 96000), (8000, "opus", 48000), (96000, "mp3", 48000)])
def test_each_encoder_gets_a_rate_it_takes(run_vax, tmp_path, rate, fmt, planned):
    source = make_media(tmp_path / "src.flac", duration=1, tones=[Tone(440, codec="flac", sample_rate=rate)],
                        video=None)
    result = extract(run_vax, source, tmp_path / f"out.{fmt}", "-f", fmt)
    assert result["verification"]["sample_rate"] == planned
    assert any(str(planned) in note for note in result["plan"]["notes"])


def test_a_track_ten_hours_in_is_not_refused_or_padded(run_vax, tmp_path):
    plain = make_media(tmp_path / "plain.mka", duration=2, tones=[Tone(440)], video=None)
    hours = round(36000 / Fraction(1, 1000))  # Matroska ticks are milliseconds

    def ten_hours_on(index, packet):
        packet.pts += hours
        packet.dts += hours

    source = _remux(plain, tmp_path / "clock.mka", "matroska", edit=ten_hours_on)
    with av.open(str(source)) as container:
        assert container.streams.audio[0].start_time >= hours
    for fmt in ("auto", "flac"):
        result = extract(run_vax, source, tmp_path / f"out-{fmt}/", "-f", fmt)
        assert abs(result["verification"]["duration"] - 2.0) < 0.05  # the audio, no 10 hours of anything


def test_an_offset_longer_than_the_audio_is_reported_not_rendered(run_vax, tmp_path):
    import dataclasses

    from extractor.api import plan, probe
    from extractor.jobspec import JobSpec

    source = make_media(tmp_path / "src.mp4", duration=1, tones=[Tone(440)])
    info = probe(source)
    far = dataclasses.replace(info, audio=(dataclasses.replace(info.audio[0], offset=36000.0),))
    (planned,) = plan(JobSpec(input=str(source), format="flac"), info=far)
    assert planned.lead_silence == 0.0
    assert any("clock origin" in note for note in planned.notes)


# -- the real-file corpus, when present ------------------------------------------------------

CORPUS = os.environ.get("VAX_REALFILES")


@pytest.mark.skipif(not CORPUS or not Path(CORPUS).is_dir(),
                    reason="set VAX_REALFILES to a folder laid out by `python -m fixtures.realfiles layout`")
def test_corpus_copies_are_never_refused_where_ffmpeg_copies(tmp_path):
    import shutil

    from fixtures.realfiles import judge

    if shutil.which("ffmpeg") is None:
        pytest.skip("needs the ffmpeg CLI as the reference")
    rows = [judge(path, "copy", tmp_path / path.name) for path in sorted(Path(CORPUS).iterdir()) if path.is_file()]
    wrong = [r for r in rows if r["class"] == "refused" and r["ffmpeg_ok"] and r.get("exit_code") != 4]
    assert wrong == []
    assert not [r for r in rows if r.get("exit_code") in (70, 134, 139)]  # no crash, no internal error


def test_the_corpus_layout_reads_a_git_directory(tmp_path):
    import subprocess

    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    make_media(repo / "data" / "a.flac", duration=0.2, tones=[Tone(440, codec="flac")], video=None)
    (repo / "data" / "notes.txt").write_text("not media")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True)
    from fixtures.realfiles import layout

    written = layout(str(repo / ".git"), str(tmp_path / "corpus"), under="data")
    assert [p.name for p in written] == ["data__a.flac"]
    assert zlib.crc32(written[0].read_bytes()) == zlib.crc32((repo / "data" / "a.flac").read_bytes())


@pytest.mark.parametrize("codec,name,fmt", [("wmav2", "src.wma", "wav"), ("adpcm_ms", "src.wav", "flac")])
def test_sources_without_a_natural_container_keep_every_decoded_sample(run_vax, tmp_path, codec, name, fmt):
    # WMA's decoder stamps its first frame after its own delay (not an offset): no silence may be added.
    source = make_media(tmp_path / name, duration=1, tones=[Tone(440, codec=codec, sample_rate=44100, bitrate=128000)],
                        video=None, container="asf" if codec == "wmav2" else None)
    result = extract(run_vax, source, tmp_path / f"out.{fmt}", "-f", fmt)
    assert_same_audio(result["output"], source, PCM16)


def _mkv_with_the_lame_frame_as_a_packet(mp3: Path, target: Path) -> Path:
    """MP3 frames copied verbatim into Matroska, the LAME header frame included (as some tools do)."""
    data = mp3.read_bytes()
    start = 10 + int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big") if data[:3] == b"ID3" else 0
    with av.open(str(mp3)) as inp:
        stream = inp.streams.audio[0]
        first = next(p for p in inp.demux(stream) if p.size)
        header = data[start:first.pos]  # the frame the demuxer read as a header, not as audio
        tick = round(1152 / 44100 / stream.time_base)
        with av.open(str(target), "w", format="matroska") as out:
            copy = out.add_stream_from_template(stream)
            frame = av.Packet(header)
            frame.pts = frame.dts = 0
            frame.duration, frame.time_base, frame.stream = tick, stream.time_base, copy
            out.mux(frame)
            for packet in itertools.chain([first], (p for p in inp.demux(stream) if p.size)):
                packet.pts += tick
                packet.dts += tick
                packet.stream = copy
                out.mux(packet)
    return target


def test_mp3_carrying_its_lame_frame_in_matroska_is_copied_not_refused(run_vax, tmp_path):
    mp3 = make_media(tmp_path / "src.mp3", duration=1, tones=[Tone(440, codec="libmp3lame", sample_rate=44100)],
                     video=None)
    source = _mkv_with_the_lame_frame_as_a_packet(mp3, tmp_path / "verbatim.mkv")
    result = extract(run_vax, source, tmp_path / "copy.mp3")
    assert_same_audio(result["output"], mp3)  # the encoder's gapless audio, as the .mp3 it came from
    assert any("LAME header" in note for note in result["notes"])


def test_mp3_to_mp3_keeps_its_own_lame_header(run_vax, tmp_path):
    # An MP3 whose Info/LAME header LAME itself wrote (vax's MP3 encoder is lameenc's LAME). A new
    # header from the muxer would carry the delay but not the padding: the copy would gain it.
    wav = make_media(tmp_path / "src.wav", duration=1.3, tones=[Tone(440, codec="pcm_s16le", sample_rate=44100)],
                     video=None)
    source = Path(extract(run_vax, wav, tmp_path / "lame.mp3")["output"])
    result = extract(run_vax, source, tmp_path / "copy.mp3")
    assert_same_audio(result["output"], source)
    assert _header_frame(Path(result["output"])) == _header_frame(source)  # LAME's, not a new one


def _header_frame(mp3: Path) -> bytes:
    """The bytes between the ID3v2 tag and the first audio frame: the Xing/Info frame."""
    data = mp3.read_bytes()
    start = 10 + int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big") if data[:3] == b"ID3" else 0
    with av.open(str(mp3)) as container:
        first = next(p for p in container.demux(container.streams.audio[0]) if p.size)
    header = data[start:first.pos]
    assert b"Info" in header or b"Xing" in header
    return header
