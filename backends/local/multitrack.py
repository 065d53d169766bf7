"""Every planned track of one input in ONE read of it (``--all-tracks`` on OBS and camera files
with 2-6 tracks): one demux, each packet routed to its own track's copy or decoder.

The per-track work is exactly the single-track engine's: ``_CopyState`` decides which packets a
copy keeps, ``_Timeline`` places decoded frames, the same sinks write them. Only the loop over
the input is shared. Loudness normalisation needs two passes per track and keeps the
one-track path.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from backends.base import RunReport
from extractor.ffmpeg_errors import damaged_input, is_write_failure
from extractor.mediainfo import READ_OPTIONS, open_media
from extractor.policy import copy_muxer_options

from .copy import _CopyState, _mux_shifted, _output_stream
from .decode import _decode, _flush, _Timeline
from .source import PREROLL_SECONDS, FrameGuard, demux_errors, seek
from .tags import prepare_output
from .writers import open_sink


def can_run_together(plans) -> bool:
    """Plans of one input and one range (copies and transcodes may mix: each track has its own lane).
    MP3 copies keep the one-track path: their header decision needs the first packet before the muxer opens."""
    if len(plans) < 2 or len({p.source.path for p in plans}) != 1:
        return False
    if any(p.is_copy and p.format.muxer == "mp3" for p in plans):
        return False
    spec = plans[0].spec
    return not spec.salvage and spec.loudness is None and len({p.shift for p in plans}) == 1


def run_together(plans, destinations: list[Path], progress=None) -> list[RunReport]:
    import av

    reports = [RunReport(backend="local") for _ in plans]
    container = open_media(plans[0].source.path, options=READ_OPTIONS)
    with ExitStack() as stack:
        stack.callback(container.close)
        streams = [container.streams[p.track.index] for p in plans]
        wanted = {s.index for s in streams}
        for other in container.streams:
            if other.index not in wanted:
                other.discard = av.stream.Discard.all
        if plans[0].start:
            seek(container, streams[0], plans[0].shift - PREROLL_SECONDS)
        lanes = [_lane(stack, plan, stream, dest, report)
                 for plan, stream, dest, report in zip(plans, streams, destinations, reports)]
        by_stream = {lane.stream.index: lane for lane in lanes}
        try:
            for packet in container.demux(*streams):
                if packet.size == 0:
                    continue
                lane = by_stream[packet.stream.index]
                if not lane.done:
                    lane.take(packet)
                if all(each.done for each in lanes):
                    break
        except demux_errors() as exc:
            if is_write_failure(exc):  # the caller reports it as an output error
                raise
            raise damaged_input(exc, plans[0].source.path) from None
        for lane in lanes:
            lane.close()
    for lane in lanes:
        lane.finish()
    if progress:
        for plan in plans:
            progress(plan, 1.0)
    return reports


def _lane(stack: ExitStack, plan, stream, destination: Path, report: RunReport):
    return (_CopyLane if plan.is_copy else _DecodeLane)(stack, plan, stream, destination, report)


class _CopyLane:
    def __init__(self, stack: ExitStack, plan, stream, destination: Path, report: RunReport):
        import av

        self.stream, self.done = stream, False
        self.state = _CopyState(plan, stream, report)
        self.output = av.open(str(destination), mode="w", format=plan.format.muxer,
                              options=copy_muxer_options(plan.format, decoder_skips=False))
        self.closed = False
        stack.callback(self.close)
        self.out_stream = _output_stream(self.output, stream, plan)
        prepare_output(self.output, plan)

    def take(self, packet) -> None:
        kept = self.state.take(packet)
        if kept is None:
            self.done = True
            return
        for each in kept:
            _mux_shifted(self.output, self.out_stream, each, self.state.shift)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.output.close()

    def finish(self) -> None:
        self.state.finish()


class _DecodeLane:
    def __init__(self, stack: ExitStack, plan, stream, destination: Path, report: RunReport):
        self.plan, self.stream, self.done = plan, stream, False
        self.decoder = stream.codec_context
        self.sink = open_sink(plan, destination)
        stack.callback(self._abort_unless_closed)
        self.closed = False
        self.timeline = _Timeline(plan, self.sink, report, plan.track.sample_rate or self.decoder.sample_rate)
        self.guard = FrameGuard(plan.track)
        self.report = report

    def take(self, packet) -> None:
        frames = _decode(self.decoder, packet, self.guard, self.plan)
        for frame in frames or ():
            self.timeline.place(frame)
        self.report.packets += 1
        self.done = self.timeline.full

    def close(self) -> None:
        if not self.done:
            for frame in _flush(self.decoder):
                if self.guard.fits(frame):
                    self.timeline.place(frame)
        self.sink.close()
        self.closed = True

    def _abort_unless_closed(self) -> None:
        if not self.closed:
            self.sink.abort()

    def finish(self) -> None:
        self.timeline.finish(0)
