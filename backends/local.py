"""The local engine: PyAV demux, then either a stream copy or decode -> resample -> encode.

Both paths are plain loops over packets, read top to bottom. Only the chosen audio
stream is read: every other stream is discarded, so the MP4/MOV demuxer can skip the
video's bytes instead of reading them (see the field notes).
"""

from __future__ import annotations

import math
from pathlib import Path

from extractor.errors import DamagedInput, NoAudio, OutputError, UnsupportedCodec
from extractor.mediainfo import open_media
from extractor.policy import MOV_DEMUXER, copy_muxer_options

from .base import ProgressFn, RunReport
from .sinks import open_sink

# Small reads let the demuxer skip the video between audio chunks instead of reading past it.
# 4 KB rather than 64 KB: each audio chunk then costs one small read, not a 64 KB one
# (500 MB MP4 with per-frame interleaving: 125 MB read -> 61 MB; the time is the same).
READ_OPTIONS = {"blocksize": "4096"}
# An MP4/MOV index (moov) already holds every stream's codec parameters, so skip FFmpeg's
# stream analysis, which decodes video frames we discard (3-min 1080p: 23 ms -> 1 ms per open).
MOV_QUICK_OPEN = {"analyzeduration": "0", "probesize": "32"}
# Seek this far before a trim start: codecs with overlapping frames (AAC, MP3, Opus) need
# the frame before the cut to decode the first kept sample correctly.
PREROLL_SECONDS = 0.5
PROGRESS_EVERY = 64  # packets


class LocalBackend:
    name = "local"

    def unsupported_reason(self, plan) -> str | None:
        if not plan.track.decodable:
            return f"the bundled FFmpeg has no decoder for {plan.track.codec}"
        return None

    def run(self, plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
        run = copy_track if plan.is_copy else transcode_track
        try:
            return run(plan, destination, progress)
        except OSError as exc:
            if exc.errno is not None and _is_output_error(exc, destination):
                raise OutputError(f"cannot write {plan.output}: {exc.strerror}") from None
            raise


def _is_output_error(exc: OSError, destination: Path) -> bool:
    import errno

    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES) or (
        getattr(exc, "filename", None) == str(destination))


def _open_audio_only(plan):
    """Open the input with every stream but the planned audio track discarded."""
    import av

    # MP4/MOV is the container whose demuxer seeks past discarded streams (Matroska/WebM are read whole).
    is_mov = plan.source.container == MOV_DEMUXER
    container = open_media(plan.source.path, options={**READ_OPTIONS, **(MOV_QUICK_OPEN if is_mov else {})})
    stream = container.streams[plan.track.index]
    for other in container.streams:
        if other.index != stream.index:
            other.discard = av.stream.Discard.all
    if is_mov:
        _advise_random_access(plan.source.path)
    return container, stream


def _advise_random_access(path) -> None:
    """Turn off the kernel's read-ahead on FFmpeg's descriptor of ``path``: otherwise it reads
    the video we skip anyway (a cold 500 MB MP4: 441 MB fetched -> 85 MB). FFmpeg opened the
    file itself, so find its descriptor among ours; where that is impossible, do nothing."""
    import os

    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        target = os.path.realpath(path)
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") == target:
                advise(int(name), 0, 0, os.POSIX_FADV_RANDOM)
        except OSError:
            continue


def _demux_errors():
    import av

    # Any FFmpeg error while reading or decoding the input: damaged data shows up as
    # InvalidDataError mostly, but also as EPERM, EINVAL, ENOMEM, ... depending on the codec.
    return (av.error.FFmpegError,)


# -- stream copy ------------------------------------------------------------------------

def copy_track(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    import av

    report = RunReport(backend="local")
    container, stream = _open_audio_only(plan)
    try:
        tb = stream.time_base
        shift = round(plan.shift / tb)  # the source tick that becomes t=0: the cut, when trimming
        end_ticks = None if plan.end is None else shift + round((plan.end - plan.start) / tb)
        keep_preroll = plan.format.holds_start_offset
        if plan.start:
            _seek(container, stream, plan.shift - PREROLL_SECONDS)

        options = copy_muxer_options(plan.format, plan.source.container)
        output = av.open(str(destination), mode="w", format=plan.format.muxer, options=options)
        try:
            try:
                out_stream = output.add_stream_from_template(stream)
            except ValueError:
                raise UnsupportedCodec(
                    f"{plan.format.label} cannot hold {plan.track.codec} by stream copy here") from None
            _set_stream_tags(out_stream, plan)
            pending_preroll = None
            first = last_end = None
            expected = plan.expected_duration
            # Salvage: trial-decode each packet and drop the ones that cannot be decoded, so the
            # copy holds only playable audio. A copy cannot fill the holes with silence.
            checker = stream.codec_context if plan.spec.salvage else None
            guard = FrameGuard(plan.track)
            step = _packet_ticks(stream)
            unfilled = 0
            dropped = 0  # undecodable packets left out
            last_dts = last_length = None
            for packet in _packets(container, stream, plan, report):
                if packet.pts is None:
                    continue
                # A packet's length: its own, else the codec frame size (known once decoding started).
                pts_end = packet.pts + (packet.duration or step or _packet_ticks(stream))
                if checker is not None and not _decodes(checker, packet, guard):
                    dropped += 1
                    continue
                if last_dts is not None and packet.dts is not None and packet.dts <= last_dts:
                    # Damaged timing (e.g. repeated data): no muxer takes a packet that goes back in time.
                    if checker is None:
                        raise DamagedInput(
                            f"{plan.source.path}: the audio timestamps go backwards at "
                            f"{max(0.0, _packet_time(packet)):.2f}s", hint="--salvage keeps what is readable")
                    dropped += 1
                    continue
                hole = _hole_before(packet, last_end, last_length)
                if hole and checker is None and packet.pts >= shift and float(hole * tb) > plan.tolerance:
                    # Missing audio that verification would find anyway: say where, and why.
                    raise DamagedInput(
                        f"{plan.source.path}: {float(hole * tb):.2f}s of audio is missing at "
                        f"{float((last_end - shift) * tb):.2f}s", hint="--salvage keeps what is readable")
                if checker is not None and hole and packet.pts >= shift:
                    unfilled += hole
                    report.gaps.append((round(float((last_end - shift) * tb), 3), round(float(hole * tb), 3)))
                if plan.start and pts_end <= shift:
                    # Entirely before the cut: remember it as the one pre-roll packet.
                    pending_preroll = packet if keep_preroll else None
                    continue
                if end_ticks is not None and packet.pts >= end_ticks:
                    break
                if pending_preroll is not None:
                    _mux_shifted(output, out_stream, pending_preroll, shift)
                    pending_preroll = None
                if first is None:
                    first = packet.pts
                last_dts = packet.dts
                last_length = pts_end - packet.pts
                _mux_shifted(output, out_stream, packet, shift)
                last_end = pts_end
                report.packets += 1
                if progress and report.packets % PROGRESS_EVERY == 0 and expected:
                    progress(min(1.0, float((pts_end - shift) * tb) / (expected + plan.lead_silence or 1)))
        except av.error.FFmpegError as exc:
            if isinstance(exc, OSError):  # a write failure: the caller reports it as an output error
                raise
            raise DamagedInput(f"{plan.source.path}: the audio cannot be copied as it is ({exc.strerror or exc})",
                               hint="--salvage, or a transcode such as -f flac, may recover it") from None
        finally:
            output.close()
    finally:
        container.close()

    if first is None:
        _raise_no_audio(plan, report, "has no audio packets", damaged=dropped > 0)
    span = last_end - max(first, shift) if plan.start else last_end - first
    report.written_duration = float((span - unfilled) * tb)
    if unfilled:
        report.source_complete = False
        report.notes.append(
            f"{float(unfilled * tb):.2f}s of damaged audio was left out; a stream copy cannot fill the holes, "
            "so the audio after them plays early: transcode (e.g. -f flac) to fill them with silence and keep sync")
    _check_complete(plan, report, unfilled=float(unfilled * tb))
    return report


def _hole_before(packet, last_end, last_length) -> int:
    """Ticks missing between the previous kept packet's end and this one (0: none, or unknown)."""
    if last_end is None or not last_length:
        return 0
    hole = packet.pts - last_end
    return hole if hole > last_length // 2 else 0


def _packet_ticks(stream) -> int:
    """One packet's length in stream ticks, from the codec's frame size (0 when unknown)."""
    ctx = stream.codec_context
    if ctx is None or not ctx.frame_size or not ctx.sample_rate:
        return 0
    return round(ctx.frame_size / ctx.sample_rate / stream.time_base)


def _decodes(decoder, packet, guard) -> bool:
    try:
        guard.check(decoder.decode(packet))
    except _demux_errors() + (ValueError,):
        return False
    return True


class FrameGuard:
    """Refuses decoded frames that do not fit the track: another channel count, rate or layout.

    Damaged data can decode "successfully" into nonsense: AAC into dozens of channels (PyAV 18.1
    then lists more planes than exist, and touching that frame's data crashes the process), MP3
    into another rate, AAC into an unnamed 6-channel layout mid-5.1 stream (the resampler, set up
    on the first frame, then refuses it). Such frames count as undecodable packets."""

    def __init__(self, track):
        self.channels = track.channels
        self.rate = track.sample_rate
        self.layout = None  # the first good frame's: what every later frame must have

    def check(self, frames: list) -> list:
        for frame in frames:
            if not self.fits(frame):
                raise ValueError(f"damaged data decoded as {frame.layout.name} at {frame.sample_rate} Hz")
        return frames

    def fits(self, frame) -> bool:
        layout = frame.layout  # nb_channels, not len(layout.channels): that builds a tuple per frame
        if self.channels and layout.nb_channels != self.channels:
            return False
        if self.rate and frame.sample_rate != self.rate:
            return False
        if self.layout is None:
            self.layout = layout.name
        return layout.name == self.layout


def _raise_no_audio(plan, report: RunReport, what: str, *, damaged: bool) -> None:
    """A track that is declared but empty has no audio to give (exit 5); an empty range of a
    damaged one is damage (exit 11)."""
    if damaged:
        raise DamagedInput(f"{plan.source.path}: no packet of audio track {plan.track.number} could be decoded")
    if report.source_complete and not plan.spec.trims and not report.gaps:
        raise NoAudio(f"{plan.source.path}: audio track {plan.track.number} is declared but {what}")
    raise DamagedInput(f"{plan.source.path}: track {plan.track.number} {what} in the range"
                       + (" that could be read" if not report.source_complete else ""))


def _mux_shifted(output, out_stream, packet, shift: int) -> None:
    packet.pts -= shift
    if packet.dts is not None:
        packet.dts -= shift
    packet.stream = out_stream
    output.mux(packet)


def _seek(container, stream, seconds: float) -> None:
    if seconds <= 0:
        return
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)


def _packets(container, stream, plan, report: RunReport):
    """The track's packets, skipping the demuxer's empty flush packet; damage becomes a clear error."""
    iterator = container.demux(stream)
    while True:
        try:
            packet = next(iterator)
        except StopIteration:
            return
        except _demux_errors() as exc:
            if plan.spec.salvage:
                report.source_complete = False
                report.notes.append(f"reading stopped at damaged data ({exc.strerror or exc})")
                return
            raise DamagedInput(
                f"{plan.source.path}: the file is damaged ({getattr(exc, 'strerror', None) or exc})",
                hint="--salvage keeps what is readable") from None
        if packet.size == 0:
            continue
        yield packet


def _check_complete(plan, report: RunReport, unfilled: float = 0.0) -> None:
    """An MP4 whose data is cut off raises nothing and simply ends early: compare with what it declares.
    ``unfilled``: seconds of holes inside the output that were left out, not missing at the end."""
    expected = plan.expected_duration
    if expected is None or report.written_duration is None:
        return
    missing = expected - report.written_duration - unfilled
    if missing > plan.tolerance:
        report.source_complete = False
        if not plan.spec.salvage:
            raise DamagedInput(
                f"{plan.source.path}: the audio ends after {report.written_duration:.2f}s "
                f"but the file declares {expected:.2f}s (truncated?)",
                hint="--salvage keeps what is readable")
        report.gaps.append((round(report.written_duration + unfilled, 3), round(missing, 3)))
        report.notes.append(f"input is truncated: {missing:.2f}s missing at the end")


def _set_stream_tags(out_stream, plan) -> None:
    if not plan.format.holds_stream_tags:
        return
    for key, value in plan.tags.items():
        out_stream.metadata[key] = value


# -- transcode --------------------------------------------------------------------------

def transcode_track(plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
    """Decode, place every sample on the output timeline, trim exactly, resample, encode."""
    if plan.spec.loudness is not None:
        from .loudness import transcode_normalised  # two passes: measure, then apply

        return transcode_normalised(plan, destination, progress)
    return decode_into(plan, open_sink(plan, destination), progress)


def decode_into(plan, sink, progress: ProgressFn | None = None) -> RunReport:
    """Decode the plan's range of its track into ``sink``, sample-accurately; close the sink
    when done, abort it on any error. Sinks take (frame, keep_from, keep_to) slices."""
    report = RunReport(backend="local")
    container, stream = _open_audio_only(plan)
    try:
        decoder = stream.codec_context
        # The probe's rate, not the decoder's: with a quick open (no stream analysis) the decoder
        # only knows the header's rate, which HE-AAC understates; FrameGuard holds frames to it.
        rate_in = plan.track.sample_rate or decoder.sample_rate
        limit = None if plan.expected_duration is None else round(plan.expected_duration * rate_in)
        if plan.start:
            _seek(container, stream, plan.shift - PREROLL_SECONDS)
        cursor = None  # output-timeline position, in input samples, of the next decoded sample
        written = 0
        next_time = None  # source time the next frame should start at, to spot holes when salvaging
        undecodable = 0
        guard = FrameGuard(plan.track)

        def place(frame) -> None:
            nonlocal cursor, written, next_time
            if cursor is None:
                cursor = _first_position(plan, frame, rate_in)
                if cursor > 0:  # the track starts late: keep its offset as silence
                    sink.write_silence(cursor, rate_in, frame)
                    written += cursor
            elif plan.spec.salvage and next_time is not None and frame.time is not None:
                # Salvage: audio lost to damage becomes silence, so what follows stays in sync.
                hole = round((frame.time - next_time) * rate_in)
                if hole > frame.samples // 2:
                    written += _fill_gap(plan, sink, frame, cursor, hole, limit, rate_in, report)
                    cursor += hole
            if frame.time is not None:
                next_time = frame.time + frame.samples / rate_in
            keep_from = max(0, -cursor)
            keep_to = frame.samples if limit is None else min(frame.samples, limit - cursor)
            if keep_to > keep_from:
                sink.write(frame, keep_from, keep_to)
                written += keep_to - keep_from
            cursor += frame.samples

        try:
            for packet in _packets(container, stream, plan, report):
                try:
                    frames = guard.check(decoder.decode(packet))
                except _demux_errors() + (ValueError,) as exc:
                    if not plan.spec.salvage:
                        raise DamagedInput(
                            f"{plan.source.path}: undecodable audio at {max(0.0, _packet_time(packet)):.2f}s "
                            f"({getattr(exc, 'strerror', None) or exc})",
                            hint="--salvage keeps what is readable") from None
                    undecodable += 1
                    continue  # the next good frame's timestamp tells how much was lost
                for frame in frames:
                    place(frame)
                report.packets += 1
                if progress and limit and report.packets % PROGRESS_EVERY == 0:
                    progress(min(1.0, written / limit))
                if limit is not None and cursor is not None and cursor >= limit:
                    break
            else:
                for frame in _flush(decoder):
                    if guard.fits(frame):
                        place(frame)
            sink.close()
            if report.gaps:
                lost = sum(length for _, length in report.gaps)
                report.notes.append(f"{lost:.2f}s of damaged audio in {len(report.gaps)} place(s) "
                                    "was replaced by silence, so the audio stays in sync")
        except BaseException:
            sink.abort()
            raise
    finally:
        container.close()
    if cursor is None:
        _raise_no_audio(plan, report, "decoded to no audio", damaged=undecodable > 0)
    report.written_duration = written / rate_in
    _check_complete(plan, report)
    return report


def _fill_gap(plan, sink, like, cursor: int, hole: int, limit: int | None, rate_in: int, report) -> int:
    """Write silence for the part of a hole that lies inside the output; record it; return samples written."""
    begin = max(0, cursor)
    end = cursor + hole if limit is None else min(cursor + hole, limit)
    if end <= begin:
        return 0
    sink.write_silence(end - begin, rate_in, like)
    report.gaps.append((round(begin / rate_in, 3), round((end - begin) / rate_in, 3)))
    return end - begin


def _flush(decoder):
    import av

    try:
        return decoder.decode(None)
    except (av.error.FFmpegError, ValueError):  # a decoder that fails while draining has nothing more
        return []


def _first_position(plan, frame, rate_in: int) -> int:
    """Where the first decoded sample sits on the output timeline (negative: before the cut)."""
    if frame.time is None:
        return 0
    position = round((frame.time - plan.shift) * rate_in)
    if not plan.spec.keep_offset and not plan.start and position > 0:
        position = 0  # the offset is being dropped: start with the first sample
    if abs(position) <= 1:  # rounding noise, not an offset
        position = 0
    return position


def _packet_time(packet) -> float:
    return float(packet.pts * packet.time_base) if packet.pts is not None else math.nan
