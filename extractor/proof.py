"""Proving a written file from the engine's evidence, without decoding all of it.

What the engine wrote (``backends.base.Evidence``) is compared with the file as it now is:

- through an FFmpeg muxer: the file is demuxed to the end and its payloads must match the ones
  handed to the muxer in number, bytes and CRC-32, and their timestamps must span the same time
  (an MP4/M4A of AAC: the same figures, read from its sample index and the bytes it points at,
  see ``mp4index``: an hour is 170k packets, 0.3 s to demux, ~0.03 s this way);
- through a writer of our own (libsndfile, LAME): the file's size and the CRC-32 of its bytes
  past the rewritten header must match, and the header's declared length must be the number of
  samples handed to the encoder.

Either way the first and the last packets are decoded, so both ends of the file are known to
decode. A flipped byte, a cut, a lost or added packet changes the count, the size or the CRC;
the codec, rate and channels are checked by the caller (``verify``) as with a full decode.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass

from .mp4index import read_index, tiled_crc
from .policy import canonical_codec

# Muxers whose demuxer hands back exactly the payloads they were given. The others re-chunk
# (WAV's demuxer cuts PCM into its own packets) or add headers (ADTS): for those only the
# concatenated bytes count, after the header is taken off (see _payload).
SAME_PACKETS = frozenset({"ipod", "mp4", "mov", "matroska", "mp3", "ogg", "opus", "flac", "ac3", "eac3", "caf"})
PAYLOAD_FORMATS = SAME_PACKETS | {"adts", "wav", "w64"}
# Matroska moves a negative first timestamp (AAC priming) and may drop the last packet's
# duration; MP3's demuxer shifts by the encoder delay from the Info tag: their spans are not
# comparable to the ones written (their payloads still are).
SAME_SPAN = SAME_PACKETS - {"matroska", "mp3"}
TAIL_PACKETS = 4  # packets decoded at the end: enough for a decoder with state (MP3's bit reservoir)
FIXED_FRAME_DECODERS = frozenset({"aac", "mp3", "mp3float", "mp2", "mp2float", "ac3", "ac3_fixed", "eac3"})
SPAN_SLACK = 0.002  # seconds: timestamps rescaled into the output's time base may round
INDEX_MUXERS = frozenset({"ipod", "mp4", "mov"})  # the ones whose sample index mp4index reads
INDEX_MIN_PACKETS = 64  # fewer: demuxing costs nothing, and the last second may hold them all


@dataclass(frozen=True)
class Proven:
    codec: str
    sample_rate: int
    channels: int
    samples: int  # the output's length in samples, from the evidence checked against the file
    start: float  # the stream's start time in the file, seconds


def usable(plan, evidence) -> bool:
    """Whether ``evidence`` can prove this plan's file (else the caller decodes it all)."""
    if evidence is None:
        return False
    if evidence.tail_crc is not None:
        return evidence.samples is not None
    return plan.format.muxer in PAYLOAD_FORMATS and evidence.packets > 0 and evidence.span is not None


def prove(container, plan, evidence, path) -> tuple[Proven, list[str]]:
    """Check the open ``container`` (the file at ``path``) against ``evidence``: the figures and
    a list of problems (empty when the file is what the engine wrote)."""
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    rate = ctx.sample_rate
    if evidence.tail_crc is not None:
        problems = _check_bytes(path, evidence)
        problems += _check_declared_length(stream, evidence, rate, plan.tolerance)
        problems += _check_ends(container, stream)
        samples = evidence.samples
    else:
        checked = _check_index(container, stream, plan.format.muxer, evidence, path)
        if checked is None:
            checked = _check_packets(container, stream, plan.format.muxer, evidence)
        samples, problems = checked
        rate = ctx.sample_rate  # the decoder's, now that it decoded (HE-AAC doubles the header's)
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    figures = Proven(codec=canonical_codec(ctx.name), sample_rate=rate, channels=ctx.channels,
                     samples=samples, start=start)
    return figures, problems


def _check_bytes(path, evidence) -> list[str]:
    size = path.stat().st_size
    if size != evidence.file_size:
        return [f"it is {size} bytes long, {evidence.file_size} were written"]
    crc = 0
    with open(path, "rb") as f:
        f.seek(evidence.head)
        while block := f.read(1 << 20):
            crc = zlib.crc32(block, crc)
    if crc != evidence.tail_crc:
        return ["its bytes differ from the ones written (CRC-32 mismatch)"]
    return []


def _check_declared_length(stream, evidence, rate: int, tolerance: float) -> list[str]:
    """The header's length (WAV data size, FLAC STREAMINFO, MP3 Info tag) against the samples
    handed to the encoder: the header is the one part the byte check does not cover."""
    if stream.duration is None or not rate:
        return ["its header declares no length"]
    declared = float(stream.duration * stream.time_base)
    written = evidence.samples / rate
    if abs(declared - written) > tolerance:
        return [f"its header declares {declared:.3f}s, {written:.3f}s were encoded"]
    return []


def _payload(packet):
    """An ADTS frame without the header the muxer put in front of it."""
    data = memoryview(packet)
    if len(data) >= 7:
        return data[7 if data[1] & 1 else 9:]
    return data


class _Count:
    """Samples a decoder would deliver: the first and last packets decoded (the decoder applies
    priming and end trims there), the ones between counted: in packets for codecs of a fixed
    frame size, in bytes for PCM, else by their timestamps (not by their durations: Matroska
    rounds each to a millisecond, and the rounding would add up)."""

    def __init__(self, stream):
        self.decoder = stream.codec_context
        self.time_base = stream.time_base
        self.head = 0  # samples decoded from the first packets
        self.head_bytes = 0
        self.frame_samples = 0  # of the last frame decoded at the head
        self.tail: deque = deque(maxlen=TAIL_PACKETS)
        self.middle_start = None  # pts of the first packet after the head

    def add_head(self, packet) -> None:
        self.head_bytes += packet.size
        for frame in self.decoder.decode(packet):
            self.head += frame.samples
            self.frame_samples = frame.samples

    def finish(self, packets: int, size: int) -> int:
        """Decode the last packets and flush: the total, in samples, of ``packets`` and ``size`` bytes."""
        decoder = self.decoder
        tail = sum(frame.samples for packet in self.tail for frame in decoder.decode(packet))
        tail += sum(frame.samples for frame in decoder.decode(None))
        middle_packets = max(0, packets - TAIL_PACKETS - len(self.tail))
        if not middle_packets:
            return self.head + tail
        if decoder.name in FIXED_FRAME_DECODERS and self.frame_samples:
            return self.head + middle_packets * self.frame_samples + tail
        if decoder.name.startswith("pcm_") and decoder.format is not None:
            middle_bytes = size - self.head_bytes - sum(packet.size for packet in self.tail)
            # Bytes per sample as stored, from what the head decoded to: 24-bit PCM is stored in 3
            # bytes but decodes to 32-bit samples, so the decoded format's width would undercount.
            stored = self.head_bytes / self.head if self.head else decoder.format.bytes * decoder.channels
            return self.head + round(middle_bytes / stored) + tail
        if self.middle_start is None or self.tail[0].pts is None:
            return self.head + tail  # no timestamps to count by: the duration check will say so
        middle = self.tail[0].pts - self.middle_start
        return self.head + round(middle * self.time_base * decoder.sample_rate) + tail


def _check_index(container, stream, muxer: str, evidence, path) -> tuple[int, list[str]] | None:
    """An MP4/M4A of a fixed-frame codec (AAC) proven from its sample index instead of a demux:
    the index must list as many samples as were written, lying one after another over the whole
    media data, whose bytes must have the written CRC-32, and its durations must span the
    written time. The first and last packets are decoded as in ``_check_packets``; the samples
    between count a frame each. None: not such a file, or not one the index reader knows (the
    caller demuxes it all, which also names what is wrong)."""
    import av

    if muxer not in INDEX_MUXERS or stream.codec_context.name not in FIXED_FRAME_DECODERS or not stream.duration:
        return None
    index = read_index(path)
    if index is None or len(index.sizes) < INDEX_MIN_PACKETS or index.timescale != 1 / stream.time_base:
        return None
    tiled = tiled_crc(path, index)
    if tiled is None:
        return None
    count, (size, crc) = len(index.sizes), tiled
    problems: list[str] = []
    if count != evidence.packets:
        problems.append(f"it holds {count} packets, {evidence.packets} were written")
    if size != evidence.payload_bytes:
        problems.append(f"its audio is {size} bytes, {evidence.payload_bytes} were written")
    elif crc != evidence.payload_crc:
        problems.append("its audio differs from what was written (CRC-32 mismatch)")
    span = index.ticks / index.timescale
    if not _same_span(span, evidence):
        problems.append(f"its packets span {span:.3f}s, {evidence.span:.3f}s were written")
    try:
        return _count_at_ends(container, stream, count, size), problems
    except av.error.FFmpegError as exc:
        return 0, [*problems, f"it does not decode at both ends ({getattr(exc, 'strerror', None) or exc})"]


def _count_at_ends(container, stream, count: int, size: int) -> int:
    """Samples of ``count`` packets: the first ones decoded, then (seeking) the last ones."""
    counter = _Count(stream)
    head = 0
    for packet in container.demux(stream):
        if packet.size:
            counter.add_head(packet)
            head += 1
            if head == TAIL_PACKETS:
                break
    counter.decoder.flush_buffers()
    container.seek(max(0, stream.duration - round(1 / stream.time_base)), stream=stream)
    counter.tail.extend(packet for packet in container.demux(stream) if packet.size)
    return counter.finish(count, size)


def _check_packets(container, stream, muxer: str, evidence) -> tuple[int, list[str]]:
    """Demux every packet: count, bytes, CRC-32 and span against the evidence; decode both ends."""
    import av

    counter = _Count(stream)
    try:
        count, size, crc, first, end = _read_all(container.demux(stream), counter, muxer == "adts")
        samples = counter.finish(count, size)
    except av.error.FFmpegError as exc:
        return 0, [f"it does not read and decode to the end ({getattr(exc, 'strerror', None) or exc})"]
    problems: list[str] = []
    if count != evidence.packets and muxer in SAME_PACKETS:
        problems.append(f"it holds {count} packets, {evidence.packets} were written")
    if size != evidence.payload_bytes:
        problems.append(f"its audio is {size} bytes, {evidence.payload_bytes} were written")
    elif crc != evidence.payload_crc:
        problems.append("its audio differs from what was written (CRC-32 mismatch)")
    span = 0.0 if first is None else float((end - first) * stream.time_base)
    if muxer in SAME_SPAN and not _same_span(span, evidence):
        problems.append(f"its packets span {span:.3f}s, {evidence.span:.3f}s were written")
    return samples, problems


def _same_span(span: float, evidence) -> bool:
    """The file's span is the written one, or the written one as a muxer re-times its start:
    counted from the first packet's decoding time (Evidence.lead), or from zero (Evidence.before_zero)."""
    return any(abs(span - (evidence.span + shift)) <= SPAN_SLACK
               for shift in (0.0, evidence.lead, -evidence.before_zero))


def _read_all(packets, counter: _Count, adts: bool) -> tuple:
    """(packets, bytes, CRC-32, first tick, end tick) of every non-empty packet; the first
    TAIL_PACKETS decoded, the last ones kept in ``counter.tail``. The loop past the head runs
    once per packet of an hour-long file (170k): local names and integer ticks, nothing else."""
    count = size = crc = 0
    first = end = None
    for packet in packets:
        if packet.size == 0:
            continue
        payload = _payload(packet) if adts else packet
        count += 1
        size += len(payload) if adts else packet.size
        crc = zlib.crc32(payload, crc)
        first, end = _widen(first, end, packet)
        counter.add_head(packet)
        if count == TAIL_PACKETS:
            break
    if adts:  # re-framed payloads: the general loop
        for packet in packets:
            if packet.size:
                payload = _payload(packet)
                count += 1
                size += len(payload)
                crc = zlib.crc32(payload, crc)
                first, end = _widen(first, end, packet)
                _keep_tail(counter, packet, count)
        return count, size, crc, first, end
    crc32, keep = zlib.crc32, counter.tail.append
    for packet in packets:
        n = packet.size
        if not n:
            continue
        count += 1
        size += n
        crc = crc32(packet, crc)
        pts = packet.pts
        if pts is not None:
            stop = pts + (packet.duration or 0)
            if first is None or pts < first:
                first = pts
            if end is None or stop > end:
                end = stop
        if count == TAIL_PACKETS + 1:
            counter.middle_start = pts
        keep(packet)
    return count, size, crc, first, end


def _widen(first, end, packet) -> tuple:
    """The span so far (first tick, end tick) with ``packet`` in it."""
    pts = packet.pts
    if pts is None:
        return first, end
    stop = pts + (packet.duration or 0)
    return (pts if first is None or pts < first else first), (stop if end is None or stop > end else end)


def _keep_tail(counter: _Count, packet, count: int) -> None:
    if count == TAIL_PACKETS + 1:
        counter.middle_start = packet.pts
    counter.tail.append(packet)


def _decode_tail(decoder, tail) -> list[str]:
    import av

    try:
        frames = sum(len(decoder.decode(packet)) for packet in tail)
        frames += len(decoder.decode(None))
    except av.error.FFmpegError as exc:
        return [f"its last packets do not decode ({getattr(exc, 'strerror', None) or exc})"]
    if frames == 0:
        return ["its last packets decode to no audio"]
    return []


def _check_ends(container, stream) -> list[str]:
    """Decode the first packets, then (seeking) the last ones."""
    import av

    decoder = stream.codec_context
    try:
        frames = 0
        for count, packet in enumerate(container.demux(stream)):
            if packet.size:
                frames += len(decoder.decode(packet))
            if count >= TAIL_PACKETS:
                break
        if frames == 0:
            return ["its first packets decode to no audio"]
        if stream.duration:
            decoder.flush_buffers()
            container.seek(max(0, stream.duration - round(1 / stream.time_base)), stream=stream)
            tail = deque((p for p in container.demux(stream) if p.size), maxlen=TAIL_PACKETS)
            return _decode_tail(decoder, tail)
    except av.error.FFmpegError as exc:
        return [f"it does not decode at both ends ({getattr(exc, 'strerror', None) or exc})"]
    return []
