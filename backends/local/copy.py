"""Stream copy: the planned track's packets, unchanged, into the output container.

A plain loop over packets (``copy_track``); ``_CopyState`` holds what the loop has seen so
far (the first kept packet, the end of the last one, holes, drops), one decision per method.
"""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

from backends.base import ProgressFn, RunReport
from extractor.errors import DamagedInput, UnsupportedCodec
from extractor.policy import copy_muxer_options

from .evidence import PacketWitness
from .mp3_header import ID3V1_SIZE, embedded_header_skip, source_header_frame, trailing_id3v1
from .source import (
    PREROLL_SECONDS,
    PROGRESS_EVERY,
    FrameGuard,
    check_complete,
    decode_errors,
    demux_errors,
    open_audio_only,
    packet_time,
    packets,
    raise_no_audio,
    read_failed,
    seek,
)
from .tags import prepare_output


def copy_track(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    import av

    report = RunReport(backend="local")
    container, stream = open_audio_only(plan)
    try:
        state = _CopyState(plan, stream, report)
        if plan.start:
            seek(container, stream, plan.shift - PREROLL_SECONDS)
        demuxed = container.demux(stream)
        source = packets(container, stream, plan, report, demuxed)
        # The first packet says whether the source tells its decoder to skip priming (MP3 muxer options).
        first = next(source, None)
        skips = first is not None and _skip_samples(first, ends_trimmed=True) > 0
        own_header = _own_mp3_header(plan, first)
        output = av.open(str(destination), mode="w", format=plan.format.muxer,
                         options=copy_muxer_options(plan.format, decoder_skips=skips and own_header is None))
        witness = PacketWitness(adts=state.adts)  # what verification checks the file against
        try:
            out_stream = _output_stream(output, stream, plan)
            prepare_output(output, plan)
            if own_header is not None:
                _mux_before(output, out_stream, own_header, first)
            if first is not None and _take_one(state, witness, output, out_stream, first, progress) \
                    and state.plain():
                _copy_plain(state, witness, output, out_stream, demuxed, progress)
            else:
                for packet in source:
                    if not _take_one(state, witness, output, out_stream, packet, progress):
                        break
        except av.error.FFmpegError as exc:
            if isinstance(exc, OSError):  # a write failure: the caller reports it as an output error
                raise
            raise DamagedInput(f"{plan.source.path}: the audio cannot be copied as it is ({exc.strerror or exc})",
                               hint="--salvage, or a transcode such as -f flac, may recover it") from None
        finally:
            output.close()
    finally:
        container.close()
    state.finish()
    report.evidence = witness.result()
    return report


def _take_one(state: _CopyState, witness: PacketWitness, output, out_stream, packet, progress) -> bool:
    """Any packet, by the general rules (``_CopyState.take``); False once past the end of the range."""
    kept = state.take(packet)
    if kept is None:
        return False
    for each in kept:
        if state.report.packets > 2 or not _read_back_as_header(state.plan, each):
            witness.add(each)
        _mux_shifted(output, out_stream, each, state.shift)
    if kept and progress and state.report.packets % PROGRESS_EVERY == 0:
        state.show_progress(progress)
    return True


def _copy_plain(state: _CopyState, witness: PacketWitness, output, out_stream, demuxed, progress) -> None:
    """The rest of a whole-track copy (no range, no salvage, no MP3 header to watch: nearly every
    copy), after its first packet. An hour of AAC is 170k packets, so the ordinary packet (after
    the previous one, no hole before it, no side data) is counted, hashed and muxed here with
    local names: what ``_take_one`` would do to it, in about a quarter of the time. Any other
    packet goes through ``_take_one`` itself, with the figures handed over before and taken back after."""
    mux, crc32, step = output.mux_one, zlib.crc32, state.step
    report = state.report
    last_dts, last_end, last_length, taken = state.last_dts, state.last_end, state.last_length, report.packets
    count, size, crc, first, end = witness.figures()
    read, damage = demuxed.__next__, demux_errors()
    while True:  # the demux itself, not ``source.packets``: a generator's resume costs ~0.1 us a packet
        try:
            packet = read()
        except StopIteration:
            break
        except damage as exc:
            read_failed(exc, state.plan, report)  # raises: a plain copy is never a salvage
            break
        if not packet.size:  # the demuxer's flush packet
            continue
        pts, dts, duration = packet.pts, packet.dts, packet.duration
        length = duration or step
        if (dts is None or last_dts is None or dts <= last_dts or not length or pts is None
                or pts - last_end > last_length >> 1 or next(packet.iter_sidedata(), None) is not None
                or (progress is not None and (taken + 1) % PROGRESS_EVERY == 0)):
            state.last_dts, state.last_end, state.last_length, report.packets = last_dts, last_end, last_length, taken
            witness.set_figures(count, size, crc, first, end)
            _take_one(state, witness, output, out_stream, packet, progress)  # never past the end: no range
            last_dts, last_end, last_length, taken = state.last_dts, state.last_end, state.last_length, report.packets
            count, size, crc, first, end = witness.figures()
            continue
        last_dts, last_end, last_length = dts, pts + length, length
        taken += 1
        count += 1
        size += packet.size
        crc = crc32(packet, crc)
        stop = pts + (duration or 0)  # the witness's span: the packets' own durations
        if pts < first:  # noqa: PLR1730 - a comparison, not a call of min(), 170k times
            first = pts
        if stop > end:  # noqa: PLR1730
            end = stop
        packet.stream = out_stream
        mux(packet)
    state.last_dts, state.last_end, state.last_length, report.packets = last_dts, last_end, last_length, taken
    witness.set_figures(count, size, crc, first, end)


def _output_stream(output, stream, plan):
    try:
        out_stream = output.add_stream_from_template(stream)
    except ValueError:
        raise UnsupportedCodec(f"{plan.format.label} cannot hold {plan.track.codec} by stream copy here") from None
    if plan.format.holds_stream_tags:
        for key, value in plan.tags.items():
            out_stream.metadata[key] = value
    return out_stream


class _CopyState:
    """Which packets a copy keeps, and what it learns about the input while keeping them."""

    def __init__(self, plan, stream, report: RunReport):
        self.plan, self.stream, self.report = plan, stream, report
        self.tb = stream.time_base
        self.shift = round(plan.shift / self.tb)  # the source tick that becomes t=0: the cut, when trimming
        self.end_ticks = None if plan.end is None else self.shift + round((plan.end - plan.start) / self.tb)
        self.keep_preroll = plan.format.holds_start_offset
        # Salvage: trial-decode each packet and drop the ones that cannot be decoded, so the
        # copy holds only playable audio. A copy cannot fill the holes with silence.
        self.checker = stream.codec_context if plan.spec.salvage else None
        self.guard = FrameGuard(plan.track)
        self.step = _packet_ticks(stream)
        self.pending_preroll = None
        self.first = self.last_end = None
        self.last_dts = self.last_length = None
        self.unfilled = 0
        self.dropped = 0  # undecodable packets left out
        # Samples the decoder will drop (skip_samples side data: MP3's LAME delay and padding, Opus
        # pre-skip, an MP4 edit list's priming): what was read is the span minus these, not the span.
        self.skipped = 0
        # Ogg's demuxer already shortens the last packet's duration to the final granule.
        self.ends_trimmed = plan.source.container == "ogg"
        self.mp3_source = plan.source.container == "mp3"  # its last packet may hold the ID3v1 tag
        # AAC without an AudioSpecificConfig is ADTS, a header on every frame (.aac files, MPEG-TS)
        self.adts = stream.codec_context.name == "aac" and not stream.codec_context.extradata

    def plain(self) -> bool:
        """Whether every packet from here on is either copied whole or goes through ``take`` for a
        reason ``_copy_plain`` can see: no range to cut, no trial decode, no MP3 header frames,
        and the first packet already taken."""
        return (self.checker is None and not self.plan.start and self.end_ticks is None and self.shift == 0
                and self.plan.format.muxer != "mp3" and not self.adts and self.last_dts is not None
                and self.first is not None)

    def take(self, packet) -> list | None:
        """The packets to mux for this one (none, it, or the pre-roll packet and it); None once
        the packet lies past the end of the range."""
        if packet.pts is None:
            return []
        # A packet's length: its own, else the codec frame size (known once decoding started).
        pts_end = packet.pts + (packet.duration or self.step or _packet_ticks(self.stream))
        if self.checker is not None and not self._decodes(packet):
            self.dropped += 1
            return []
        if not self._in_order(packet):
            return []
        self._note_hole(packet)
        if self.plan.start and pts_end <= self.shift:
            # Entirely before the cut: remember it as the one pre-roll packet.
            self.pending_preroll = packet if self.keep_preroll else None
            return []
        if self.end_ticks is not None and packet.pts >= self.end_ticks:
            return None
        kept = [self.pending_preroll] if self.pending_preroll is not None else []
        self.pending_preroll = None
        if self.first is None:
            self.first = packet.pts
            self._note_embedded_header(packet)
        if self.mp3_source and trailing_id3v1(bytes(packet)):
            packet = _without_id3v1(packet)
        self.last_dts = packet.dts
        self.last_length = pts_end - packet.pts
        self.last_end = pts_end
        self.report.packets += 1
        self.skipped += _skip_samples(packet, ends_trimmed=self.ends_trimmed)
        return kept + [packet]

    def _note_embedded_header(self, packet) -> None:
        """An MP3 stream that carries its file's LAME header frame as a packet: in an .mp3 copy it
        is a header again (see mp3_header), so the copy decodes shorter than the source declares."""
        if self.plan.format.muxer != "mp3" or self.plan.source.container == "mp3":
            return
        skip = embedded_header_skip(bytes(packet))
        if skip is None:
            return
        self.skipped += sum(skip)
        self.report.effective_plan = dataclasses.replace(self.plan, expected_duration=None)
        self.report.notes.append("the MP3 stream carries its own LAME header frame; the copy keeps it, so players "
                                 f"skip that frame and the encoder's delay ({skip[0]} samples in all) and padding "
                                 f"({skip[1]}), as the encoder meant")

    def _decodes(self, packet) -> bool:
        try:
            self.guard.check(self.checker.decode(packet))
        except decode_errors():
            return False
        return True

    def _in_order(self, packet) -> bool:
        if self.last_dts is None or packet.dts is None or packet.dts > self.last_dts:
            return True
        if packet.dts == self.last_dts:
            # Equal consecutive timestamps (a muxer's rounding, e.g. AVI or TS audio) are not damage;
            # strict muxers (MP4) refuse them, so move this one a tick on, as ffmpeg's copy does.
            packet.dts += 1
            if packet.pts is not None and packet.pts < packet.dts:
                packet.pts = packet.dts
            return True
        # Damaged timing (e.g. repeated data): no muxer takes a packet that goes back in time.
        if self.checker is None:
            raise DamagedInput(
                f"{self.plan.source.path}: the audio timestamps go backwards at "
                f"{max(0.0, packet_time(packet)):.2f}s", hint="--salvage keeps what is readable")
        self.dropped += 1
        return False

    def _note_hole(self, packet) -> None:
        hole = _hole_before(packet, self.last_end, self.last_length)
        if not hole or packet.pts < self.shift:
            return
        seconds = float(hole * self.tb)
        at = float((self.last_end - self.shift) * self.tb)
        if self.checker is None:
            if seconds > self.plan.tolerance:
                # Missing audio that verification would find anyway: say where, and why.
                raise DamagedInput(f"{self.plan.source.path}: {seconds:.2f}s of audio is missing at {at:.2f}s",
                                   hint="--salvage keeps what is readable")
            return
        self.unfilled += hole
        self.report.gaps.append((round(at, 3), round(seconds, 3)))

    def show_progress(self, progress: ProgressFn) -> None:
        expected = self.plan.expected_duration
        if expected and self.last_end is not None:
            done = float((self.last_end - self.shift) * self.tb)
            progress(min(1.0, done / (expected + self.plan.lead_silence or 1)))

    def finish(self) -> None:
        plan, report, tb = self.plan, self.report, self.tb
        if self.first is None:
            raise_no_audio(plan, report, "has no audio packets", damaged=self.dropped > 0)
        span = self.last_end - max(self.first, self.shift) if plan.start else self.last_end - self.first
        rate = self.stream.codec_context.sample_rate if self.stream.codec_context else 0
        skipped = self.skipped / rate if rate else 0.0
        report.written_duration = max(0.0, float((span - self.unfilled) * tb) - skipped)
        if self.unfilled:
            report.source_complete = False
            report.notes.append(
                f"{float(self.unfilled * tb):.2f}s of damaged audio was left out; a stream copy cannot fill the "
                "holes, so the audio after them plays early: transcode (e.g. -f flac) to fill them with silence "
                "and keep sync")
        check_complete(report.effective_plan or plan, report, unfilled=float(self.unfilled * tb))


def _hole_before(packet, last_end, last_length) -> int:
    """Ticks missing between the previous kept packet's end and this one (0: none, or unknown)."""
    if last_end is None or not last_length:
        return 0
    hole = packet.pts - last_end
    return hole if hole > last_length // 2 else 0


def _skip_samples(packet, *, ends_trimmed: bool) -> int:
    """Samples FFmpeg's decoder drops from this packet (AV_PKT_DATA_SKIP_SAMPLES: two little-endian
    32-bit counts, from the start and from the end), 0 when it has no such side data.
    ``ends_trimmed``: the packet's duration already leaves the end count out."""
    # has_sidedata() costs ~1.8 us a packet in PyAV 18 (it looks the name up in a typing Literal);
    # iterating costs ~0.4 us, and nearly every packet has no side data at all.
    if next(packet.iter_sidedata(), None) is None or not packet.has_sidedata("skip_samples"):
        return 0
    data = bytes(packet.get_sidedata("skip_samples"))
    if len(data) < 8:
        return 0
    return int.from_bytes(data[0:4], "little") + (0 if ends_trimmed else int.from_bytes(data[4:8], "little"))


def _packet_ticks(stream) -> int:
    """One packet's length in stream ticks, from the codec's frame size (0 when unknown)."""
    ctx = stream.codec_context
    if ctx is None or not ctx.frame_size or not ctx.sample_rate:
        return 0
    return round(ctx.frame_size / ctx.sample_rate / stream.time_base)


def _own_mp3_header(plan, first) -> bytes | None:
    """MP3 to MP3, whole: the source's own Xing/LAME frame, kept instead of a new one. It holds the
    encoder's delay *and* padding (the muxer's new header only knows the delay: the copy gained the
    padding, 318 samples on a real file) and the VBR seek table; every frame it counts is copied."""
    if plan.format.muxer != "mp3" or plan.source.container != "mp3" or plan.spec.trims or first is None:
        return None
    if first.pos is None or first.pos <= 0:
        return None
    try:
        return source_header_frame(plan.source.path, first.pos)
    except OSError:
        return None


def _read_back_as_header(plan, packet) -> bool:
    """An MP3's own Xing/LAME frame carried as a packet (MKV, AVI): the output's demuxer reads it
    as the file's header, not as audio, so the evidence must not count it as a packet."""
    return plan.format.muxer == "mp3" and embedded_header_skip(bytes(packet)) is not None


def _mux_before(output, out_stream, data: bytes, first) -> None:
    """Write ``data`` as a packet just before ``first``: a header frame the demuxer never returned."""
    import av

    packet = av.Packet(data)
    packet.time_base = first.time_base
    packet.pts = packet.dts = (first.dts if first.dts is not None else first.pts) - 1
    packet.stream = out_stream
    output.mux(packet)


def _without_id3v1(packet):
    """The packet without the file's ID3v1 tag: tags are the output's own business (a tag writer
    would rewrite the copied one in place, inside what is checked as audio)."""
    import av

    cut = av.Packet(bytes(packet)[:-ID3V1_SIZE])
    cut.pts, cut.dts, cut.duration, cut.time_base = packet.pts, packet.dts, packet.duration, packet.time_base
    return cut


def _mux_shifted(output, out_stream, packet, shift: int) -> None:
    packet.pts -= shift
    if packet.dts is not None:
        packet.dts -= shift
    packet.stream = out_stream
    output.mux(packet)
