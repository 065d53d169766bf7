"""The local engine: PyAV demux, then either a stream copy or decode -> resample -> encode.

Both paths are plain loops over packets, read top to bottom. Only the chosen audio
stream is read: every other stream is discarded, so the MP4/MOV demuxer can skip the
video's bytes instead of reading them (see the field notes).
"""

from __future__ import annotations

import math
from pathlib import Path

from extractor.errors import DamagedInput, OutputError, UnsupportedCodec
from extractor.mediainfo import open_media
from extractor.policy import copy_muxer_options

from .base import ProgressFn, RunReport
from .sinks import open_sink

# Small reads let the demuxer skip the video between audio chunks instead of reading past it.
READ_OPTIONS = {"blocksize": "65536"}
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

    container = open_media(plan.source.path, options=READ_OPTIONS)
    stream = container.streams[plan.track.index]
    for other in container.streams:
        if other.index != stream.index:
            other.discard = av.stream.Discard.all
    return container, stream


def _demux_errors():
    import av

    return (av.error.InvalidDataError, av.error.EOFError, av.error.PatchWelcomeError, av.error.UndefinedError)


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
            for packet in _packets(container, stream, plan, report):
                if packet.pts is None:
                    continue
                pts_end = packet.pts + (packet.duration or 0)
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
                _mux_shifted(output, out_stream, packet, shift)
                last_end = pts_end
                report.packets += 1
                if progress and report.packets % PROGRESS_EVERY == 0 and expected:
                    progress(min(1.0, float((pts_end - shift) * tb) / (expected + plan.lead_silence or 1)))
        finally:
            output.close()
    finally:
        container.close()

    if first is None:
        raise DamagedInput(f"{plan.source.path}: track {plan.track.number} has no audio packets in the range")
    span = last_end - max(first, shift) if plan.start else last_end - first
    report.written_duration = float(span * tb)
    report.source_end = float((last_end - shift) * tb)
    _check_complete(plan, report)
    return report


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


def _check_complete(plan, report: RunReport) -> None:
    """An MP4 whose data is cut off raises nothing and simply ends early: compare with what it declares."""
    expected = plan.expected_duration
    if expected is None or report.written_duration is None:
        return
    missing = expected - report.written_duration
    if missing > plan.tolerance:
        report.source_complete = False
        if not plan.spec.salvage:
            raise DamagedInput(
                f"{plan.source.path}: the audio ends after {report.written_duration:.2f}s "
                f"but the file declares {expected:.2f}s (truncated?)",
                hint="--salvage keeps what is readable")
        report.gaps.append((report.written_duration, missing))
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
        rate_in = decoder.sample_rate or plan.track.sample_rate
        limit = None if plan.expected_duration is None else round(plan.expected_duration * rate_in)
        if plan.start:
            _seek(container, stream, plan.shift - PREROLL_SECONDS)
        cursor = None  # output-timeline position, in input samples, of the next decoded sample
        written = 0

        def place(frame) -> None:
            nonlocal cursor, written
            if cursor is None:
                cursor = _first_position(plan, frame, rate_in)
                if cursor > 0:  # the track starts late: keep its offset as silence
                    sink.write_silence(cursor, rate_in, frame)
                    written += cursor
            keep_from = max(0, -cursor)
            keep_to = frame.samples if limit is None else min(frame.samples, limit - cursor)
            if keep_to > keep_from:
                sink.write(frame, keep_from, keep_to)
                written += keep_to - keep_from
            cursor += frame.samples

        try:
            for packet in _packets(container, stream, plan, report):
                try:
                    frames = decoder.decode(packet)
                except _demux_errors() + (ValueError,) as exc:
                    if not plan.spec.salvage:
                        raise DamagedInput(
                            f"{plan.source.path}: undecodable audio at {_packet_time(packet):.2f}s "
                            f"({getattr(exc, 'strerror', None) or exc})",
                            hint="--salvage keeps what is readable") from None
                    report.gaps.append((_packet_time(packet) - plan.shift, _packet_length(packet)))
                    continue
                for frame in frames:
                    place(frame)
                report.packets += 1
                if progress and limit and report.packets % PROGRESS_EVERY == 0:
                    progress(min(1.0, written / limit))
                if limit is not None and cursor is not None and cursor >= limit:
                    break
            else:
                for frame in _flush(decoder):
                    place(frame)
            sink.close()
        except BaseException:
            sink.abort()
            raise
    finally:
        container.close()
    if cursor is None:
        raise DamagedInput(f"{plan.source.path}: track {plan.track.number} decoded to no audio")
    report.written_duration = written / rate_in
    report.source_end = report.written_duration
    _check_complete(plan, report)
    return report


def _flush(decoder):
    try:
        return decoder.decode(None)
    except Exception:  # a decoder that fails while draining has nothing more to give
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


def _packet_length(packet) -> float:
    return float(packet.duration * packet.time_base) if packet.duration else 0.0
