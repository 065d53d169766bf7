"""A multichannel WAV names its speakers: the layout the source had is the layout a player reads."""

from __future__ import annotations

import io
import struct

import av
import pytest

from backends.local.wav_layout import channel_mask, write_channel_mask
from extractor import extract
from fixtures.generate import Tone, make_media


def _read_layout(path) -> str:
    with av.open(str(path)) as c:
        return c.streams.audio[0].codec_context.layout.name


def _mask_in_header(path) -> int:
    head = path.read_bytes()[:80]
    assert head[20:22] == b"\xfe\xff", "not an extensible WAV header"
    return struct.unpack_from("<I", head, 40)[0]


@pytest.mark.parametrize(("layout", "codec", "mask"), [
    ("5.1", "aac", 0x3F),
    ("5.1(side)", "flac", 0x60F),  # film tracks from AC-3/DTS are side-surround
    ("7.1", "flac", 0x63F),  # libsndfile alone labels 8 channels 7.1(wide)
    ("2.1", "pcm_s16le", 0x0B),  # and 3 channels "unknown"
    ("quad", "flac", 0x33),
])
def test_multichannel_wav_keeps_the_sources_speakers(tmp_path, layout, codec, mask):
    ext = {"aac": "m4a", "flac": "flac", "pcm_s16le": "wav"}[codec]
    source = make_media(tmp_path / f"src.{ext}", duration=2.0, video=None,
                        tones=[Tone(440, codec=codec, layout=layout)])
    out = tmp_path / "out.wav"
    extract(source, output=str(out))
    assert _mask_in_header(out) == mask
    assert _read_layout(out) == layout


def test_stereo_and_mono_wav_keep_the_plain_header(tmp_path):
    source = make_media(tmp_path / "src.flac", duration=1.0, video=None, tones=[Tone(440, codec="flac")])
    extract(source, output=str(tmp_path / "out.wav"))
    assert struct.unpack_from("<H", (tmp_path / "out.wav").read_bytes(), 20)[0] == 1  # WAVE_FORMAT_PCM


def test_a_downmix_is_labelled_with_the_layout_written(tmp_path):
    source = make_media(tmp_path / "src.flac", duration=1.0, video=None,
                        tones=[Tone(440, codec="flac", layout="7.1")])
    out = tmp_path / "out.wav"
    extract(source, output=str(out), channels=2)
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.channels == 2
    assert struct.unpack_from("<H", out.read_bytes(), 20)[0] == 1


def test_layouts_without_wav_positions_get_no_mask():
    assert channel_mask("5.1", 6) == 0x3F
    assert channel_mask("5.1", 5) == 0  # the names do not add up to the channel count
    assert channel_mask("not a layout", 2) == 0


def test_a_file_without_an_extensible_header_is_left_alone():
    plain = io.BytesIO(b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16))
    before = plain.getvalue()
    assert write_channel_mask(plain, 0x3) is False
    assert plain.getvalue() == before
    assert write_channel_mask(io.BytesIO(b"not a wav at all"), 0x3) is False
