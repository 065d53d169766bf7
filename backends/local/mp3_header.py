"""A Xing/Info (LAME) header frame found inside an MP3 stream's packets.

MP3 muxed into Matroska or AVI by tools that copy the file's frames verbatim keeps the LAME
header frame as the first packet. In the source container it decodes as one frame of silence;
in an .mp3 copy it is a header again, and decoders drop the frame, the encoder delay and the
padding it declares. The copy then plays the audio the encoder meant (gapless), but shorter
than the source container's duration: the check must expect that, not call it truncation.
"""

from __future__ import annotations

DECODER_DELAY = 529  # samples the MP3 decoder itself adds, which LAME's delay field leaves out


def embedded_header_skip(frame: bytes) -> tuple[int, int] | None:
    """(samples dropped at the start, at the end) when ``frame`` is a Xing/Info frame with a LAME
    tag, as FFmpeg's mp3 demuxer drops them (the header frame itself, delay + 529, padding - 529)."""
    tag_at = _tag_offset(frame)
    if tag_at is None:
        return None
    mpeg1 = (frame[1] >> 3) & 3 == 3
    flags = int.from_bytes(frame[tag_at + 4:tag_at + 8], "big")
    lame = tag_at + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    field = frame[lame + 21:lame + 24]
    if len(field) < 3 or frame[lame:lame + 4] not in (b"LAME", b"Lavf", b"Lavc"):
        return None
    delay = (field[0] << 4) | (field[1] >> 4)
    padding = ((field[1] & 0x0F) << 8) | field[2]
    samples = 1152 if mpeg1 else 576
    return samples + delay + DECODER_DELAY, max(0, padding - DECODER_DELAY)


def source_header_frame(path: str, first_audio_at: int) -> bytes | None:
    """The Xing/Info frame an MP3 file starts with (after any ID3v2 tag), which FFmpeg's demuxer
    reads as a header and never returns as a packet; None when there is none.
    ``first_audio_at``: the byte position of the first audio packet (where the header ends)."""
    with open(path, "rb") as f:
        head = f.read(max(0, min(first_audio_at, 1 << 20)))
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        start = 10 + int.from_bytes(bytes(b & 0x7F for b in head[6:10]), "big") + (10 if head[5] & 0x10 else 0)
    frame = head[start:]
    if not frame or _tag_offset(frame) is None:
        return None
    return frame


def _tag_offset(frame: bytes) -> int | None:
    if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
        return None
    mpeg1 = (frame[1] >> 3) & 3 == 3
    mono = frame[3] >> 6 == 3
    at = 4 + (17 if mono else 32) if mpeg1 else 4 + (9 if mono else 17)
    return at if frame[at:at + 4] in (b"Xing", b"Info") else None


ID3V1_SIZE = 128
_BITRATES = {  # Layer III, kbit/s by index: MPEG-1, then MPEG-2 and 2.5
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def frame_length(header: bytes) -> int | None:
    """The byte length a Layer III frame header announces; None for anything else (free format,
    other layers, no header)."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or (header[1] >> 1) & 3 != 1:
        return None
    version, rate_index, bitrate_index = (header[1] >> 3) & 3, (header[2] >> 2) & 3, header[2] >> 4
    if version not in _RATES or rate_index == 3 or bitrate_index in (0, 15):
        return None
    mpeg1 = version == 3
    rate, kbps = _RATES[version][rate_index], _BITRATES[mpeg1][bitrate_index]
    return (144000 if mpeg1 else 72000) * kbps // rate + ((header[2] >> 1) & 1)


def trailing_id3v1(packet: bytes) -> bool:
    """Whether an MP3 packet ends in the file's ID3v1 tag: FFmpeg's demuxer hands over a last frame
    cut short by the tag with the tag inside it. A frame of the length its header announces is
    audio, even if its last 128 bytes happen to start with "TAG"."""
    return (len(packet) > ID3V1_SIZE and packet[-ID3V1_SIZE:-ID3V1_SIZE + 3] == b"TAG"
            and frame_length(packet) != len(packet))
