"""Default `-f auto` stream copies: the right container, the right track, and bit-exact samples.

"Bit-exact" means: the output, decoded by the same PyAV, gives exactly the samples the source
track gives. Where a target container cannot carry the source's gapless information, the plan
must say the copy is not sample-exact, and the difference must be exactly the documented one.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from extractor import extract
from fixtures.generate import STANDARD, TONES, decode_track, dominant_freq

# The policy table, written out independently of extractor.policy:
# source file -> (output extension, demuxer that must read the output, tone of the default track).
AUTO_COPY = {
    "mp4_aac": ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", TONES["mp4_aac"]),
    "mov_aac": ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", TONES["mov_aac"]),
    "avi_mp3": ("mp3", "mp3", TONES["avi_mp3"]),
    "webm_opus": ("opus", "ogg", TONES["webm_opus"]),
    "mkv_multi": ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", TONES["mkv_multi_main"]),
    "mp4_late": ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", TONES["mp4_late"]),
    "mp4_51": ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", TONES["mp4_51"]),
    "mp3_audio": ("mp3", "mp3", TONES["mp3_audio"]),
    "wav_audio": ("wav", "wav", TONES["wav_audio"]),
    "m4a_audio": ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", TONES["m4a_audio"]),
    "flac_audio": ("flac", "flac", TONES["flac_audio"]),
}


def test_every_standard_file_with_audio_is_covered():
    with_audio = {name for name, spec in STANDARD.items() if spec["tracks"]}
    assert set(AUTO_COPY) == with_audio


@pytest.mark.parametrize("name", sorted(AUTO_COPY))
def test_auto_copy_container_track_and_duration(media, tmp_path, name):
    ext, demuxer, freq = AUTO_COPY[name]
    (result,) = extract(media[name], output=f"{tmp_path}/")

    assert result.output == tmp_path / f"{media[name].stem}.{ext}"
    assert result.output.is_file()
    assert result.plan.mode == "copy"
    assert result.plan.explanation.startswith("stream copy:")
    with av.open(str(result.output)) as c:
        assert c.format.name == demuxer
    samples, rate = decode_track(result.output)
    assert dominant_freq(samples, rate) == pytest.approx(freq, abs=2)
    # The copy holds the whole track: its tone span, give or take codec priming/padding.
    tone = STANDARD[name]["tracks"][0]
    assert samples.shape[1] / rate == pytest.approx(STANDARD[name]["duration"] - tone.start, abs=0.06)
    assert result.verification.duration == pytest.approx(samples.shape[1] / rate, abs=1e-6)
    assert not list(tmp_path.glob("*.vax-part-*"))


def _source_and_copy(media, tmp_path, name, **options):
    (result,) = extract(media[name], output=f"{tmp_path}/", **options)
    source, source_rate = decode_track(media[name], result.plan.track.index)
    copied, copied_rate = decode_track(result.output)
    assert copied_rate == source_rate
    return result, source, copied


# (fixture, extract options, output extension)
BIT_EXACT = [
    ("mp4_aac", {}, "m4a"),
    ("mov_aac", {}, "m4a"),
    ("m4a_audio", {}, "m4a"),
    ("mp4_51", {}, "m4a"),
    ("mkv_multi", {}, "m4a"),
    ("mkv_multi", {"format": "mka"}, "mka"),
    ("mkv_multi", {"format": "mka", "lang": "spa"}, "mka"),
    ("mkv_multi", {"format": "mka", "title": "Commentary"}, "mka"),
    ("mkv_multi", {"title": "Commentary"}, "flac"),
    ("flac_audio", {}, "flac"),
    ("wav_audio", {}, "wav"),
    ("avi_mp3", {}, "mp3"),  # written without a LAME header (write_xing=0), else 529 samples go missing
    ("mp3_audio", {}, "mp3"),  # an MP3 file keeps its own header: also exact
]


@pytest.mark.parametrize("name,options,ext", BIT_EXACT, ids=[f"{n}-{e}-{'-'.join(o.values()) or 'default'}"
                                                              for n, o, e in BIT_EXACT])
def test_copy_is_bit_exact(media, tmp_path, name, options, ext):
    result, source, copied = _source_and_copy(media, tmp_path, name, **options)
    assert result.output.suffix == f".{ext}"
    assert result.plan.sample_exact and result.lossless_copy
    assert "lossless" in result.plan.explanation and "not sample-exact" not in result.plan.explanation
    assert copied.shape == source.shape
    assert np.array_equal(copied, source)


def _xing_tag(path) -> bytes:
    """The 4 bytes where the first MPEG-1 Layer III stereo frame keeps a Xing/Info (LAME) header."""
    data = path.read_bytes()[:8192]
    start = 0
    if data[:3] == b"ID3":  # skip the ID3v2 tag (sync-safe size)
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F))
    assert data[start] == 0xFF and data[start + 1] & 0xE0 == 0xE0, "no MPEG frame after the ID3 tag"
    return data[start + 36:start + 40]  # 4-byte header + 32 bytes of stereo side info


def test_mp3_out_of_avi_has_no_lame_header_but_an_mp3_file_keeps_one(media, tmp_path):
    (from_avi,) = extract(media["avi_mp3"], output=f"{tmp_path}/")
    (from_mp3,) = extract(media["mp3_audio"], output=f"{tmp_path}/")
    assert _xing_tag(from_avi.output) not in (b"Xing", b"Info")
    assert _xing_tag(from_mp3.output) in (b"Xing", b"Info")


def test_aac_to_raw_adts_keeps_the_priming_samples(media, tmp_path):
    result, source, copied = _source_and_copy(media, tmp_path, "mp4_aac", format="aac")
    assert result.output.suffix == ".aac"
    assert not result.plan.sample_exact and not result.lossless_copy
    assert "not sample-exact" in result.plan.explanation
    assert any("1024" in note and "priming" in note for note in result.plan.notes)
    # Documented difference: exactly 1024 priming samples (near-silent) in front, then the source.
    priming = 1024
    assert copied.shape[1] >= source.shape[1] + priming
    assert np.abs(copied[:, :priming]).max() < 0.05
    assert np.array_equal(copied[:, priming:priming + source.shape[1]], source)


def test_opus_to_ogg_keeps_samples_and_may_add_end_padding(media, tmp_path):
    result, source, copied = _source_and_copy(media, tmp_path, "webm_opus")
    assert result.output.suffix == ".opus"
    assert not result.plan.sample_exact
    assert "not sample-exact" in result.plan.explanation
    assert any("padding" in note for note in result.plan.notes)
    # Documented difference: the same samples, then at most one Opus packet (20 ms) of padding.
    extra = copied.shape[1] - source.shape[1]
    assert 0 <= extra <= 960
    assert np.array_equal(copied[:, :source.shape[1]], source)


def test_ac3_out_of_matroska_is_honest_about_priming(media, tmp_path):
    """Matroska marks the AC-3 encoder's 256 priming samples (CodecDelay); raw .ac3 cannot."""
    result, source, copied = _source_and_copy(media, tmp_path, "mkv_multi", lang="spa")
    assert result.output.suffix == ".ac3"
    assert dominant_freq(copied, 48000) == pytest.approx(TONES["mkv_multi_spanish"], abs=2)
    if np.array_equal(copied, source):  # a future FFmpeg that carries the delay: then it must say so
        assert result.plan.sample_exact
        return
    assert not result.plan.sample_exact
    assert "not sample-exact" in result.plan.explanation
    lead = copied.shape[1] - source.shape[1]
    assert lead > 0
    assert np.array_equal(copied[:, lead:], source)


def test_aac_out_of_mp4_into_mka_is_honest_about_priming(media, tmp_path):
    """MP4 marks AAC priming with an edit list, which Matroska cannot take over by stream copy."""
    result, source, copied = _source_and_copy(media, tmp_path, "mp4_aac", format="mka")
    assert result.output.suffix == ".mka"
    if np.array_equal(copied, source):
        assert result.plan.sample_exact
        return
    assert not result.plan.sample_exact
    assert "not sample-exact" in result.plan.explanation
    assert copied.shape[1] - source.shape[1] == 1024
    assert np.array_equal(copied[:, 1024:], source)


def test_copy_carries_language_and_title_where_the_container_holds_them(media, tmp_path):
    (result,) = extract(media["mkv_multi"], output=f"{tmp_path}/", format="mka", lang="spa")
    with av.open(str(result.output)) as c:
        tags = c.streams.audio[0].metadata
        assert tags.get("language") == "spa"
        assert tags.get("title") == "Spanish"
