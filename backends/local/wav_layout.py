"""The speaker layout of a multichannel WAV, written into its WAVE_FORMAT_EXTENSIBLE header.

libsndfile writes an extensible header for more than two channels but fills the channel mask
from the channel count alone: 8 channels become "7.1(wide)", 3 become "unknown", and a
5.1(side) film track is labelled 5.1 (back). Players then route channels to the wrong
speakers, and loudness meters weigh the wrong ones. So the sink names the layout it really
wrote, and the mask is set from it once libsndfile has written its final header.

FFmpeg orders a layout's channels by their mask bit, which is the order WAV requires, so the
mask of a layout is enough: the samples need no reordering.
"""

from __future__ import annotations

import struct

# The WAVE speaker positions (the dwChannelMask bits), by FFmpeg's channel names.
SPEAKER_BITS = {
    "FL": 0x1, "FR": 0x2, "FC": 0x4, "LFE": 0x8, "BL": 0x10, "BR": 0x20, "FLC": 0x40, "FRC": 0x80,
    "BC": 0x100, "SL": 0x200, "SR": 0x400, "TC": 0x800, "TFL": 0x1000, "TFC": 0x2000, "TFR": 0x4000,
    "TBL": 0x8000, "TBC": 0x10000, "TBR": 0x20000,
}
EXTENSIBLE = 0xFFFE
SEARCH = 512  # the fmt chunk comes first in libsndfile's WAV files; a little room for a JUNK chunk


def channel_mask(layout: str, channels: int) -> int:
    """The mask for a named FFmpeg layout, or 0 ("not assigned") when a channel has no WAV position
    or the names do not add up to the channel count."""
    import av

    try:
        names = [channel.name for channel in av.AudioLayout(layout).channels]
    except (ValueError, TypeError):
        return 0
    bits = [SPEAKER_BITS.get(name, 0) for name in names]
    if len(bits) != channels or 0 in bits or len(set(bits)) != channels:
        return 0
    mask = 0
    for bit in bits:
        mask |= bit
    return mask


def write_channel_mask(file, mask: int) -> bool:
    """Set the mask in the extensible fmt chunk of an open, seekable WAV file; False when the file
    has no such chunk where libsndfile puts it (then nothing is changed)."""
    file.seek(0)
    head = file.read(SEARCH)
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return False
    at = 12
    while at + 8 <= len(head):
        chunk, size = head[at:at + 4], struct.unpack_from("<I", head, at + 4)[0]
        if chunk == b"fmt ":
            body = at + 8
            if size < 40 or body + 24 > len(head) or struct.unpack_from("<H", head, body)[0] != EXTENSIBLE:
                return False
            file.seek(body + 20)  # wFormatTag, channels, rate, byte rate, align, bits, cbSize, valid bits
            file.write(struct.pack("<I", mask))
            return True
        at += 8 + size + (size & 1)
    return False
