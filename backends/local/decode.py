"""The decode loop every transcode uses: decode the plan's range of its track and hand each
frame's kept samples to a sink, sample-accurately.

``decode_into`` reads top to bottom: packets in, frames out, each frame placed on the
output timeline by ``_Timeline`` (late starts become silence, salvage holes become
silence, the range's ends are cut to the sample).
"""

from __future__ import annotations

from backends.base import ProgressFn, RunReport
from extractor.errors import DamagedInput

from .source import (
    PREROLL_SECONDS,
    PROGRESS_EVERY,
    FrameGuard,
    check_complete,
    decode_errors,
    open_audio_only,
    packet_time,
    packets,
    raise_no_audio,
    seek,
)


def decode_into(plan, sink, progress: ProgressFn | None = None) -> RunReport:
    """Decode the plan's range of its track into ``sink``, sample-accurately; close the sink
    when done, abort it on any error. Sinks take (frame, keep_from, keep_to) slices."""
    report = RunReport(backend="local")
    container, stream = open_audio_only(plan)
    try:
        decoder = stream.codec_context
        # The probe's rate, not the decoder's: with a quick open (no stream analysis) the decoder
        # only knows the header's rate, which HE-AAC understates; FrameGuard holds frames to it.
        timeline = _Timeline(plan, sink, report, plan.track.sample_rate or decoder.sample_rate)
        guard = FrameGuard(plan.track)
        undecodable = 0
        if plan.start:
            seek(container, stream, plan.shift - PREROLL_SECONDS)
        try:
            for packet in packets(container, stream, plan, report):
                frames = _decode(decoder, packet, guard, plan)
                if frames is None:
                    undecodable += 1
                    continue  # the next good frame's timestamp tells how much was lost
                for frame in frames:
                    timeline.place(frame)
                report.packets += 1
                if progress and report.packets % PROGRESS_EVERY == 0:
                    timeline.show_progress(progress)
                if timeline.full:
                    break
            else:
                for frame in _flush(decoder):
                    if guard.fits(frame):
                        timeline.place(frame)
            sink.close()
            report.evidence = _evidence_of(sink)
        except BaseException:
            sink.abort()
            raise
    finally:
        container.close()
    timeline.finish(undecodable)
    return report


def _evidence_of(sink):
    """What the sink wrote; a sink in front of another (the loudness normaliser) hands on the
    evidence of the one behind it; a meter writes nothing and keeps none."""
    while sink is not None:
        evidence = getattr(sink, "evidence", None)
        if evidence is not None:
            return evidence()
        sink = getattr(sink, "sink", None)
    return None


def _decode(decoder, packet, guard: FrameGuard, plan) -> list | None:
    """The packet's frames; None for a damaged packet under --salvage (otherwise damage raises)."""
    try:
        return guard.check(decoder.decode(packet))
    except decode_errors() as exc:
        if not plan.spec.salvage:
            raise DamagedInput(
                f"{plan.source.path}: undecodable audio at {max(0.0, packet_time(packet)):.2f}s "
                f"({getattr(exc, 'strerror', None) or exc})",
                hint="--salvage keeps what is readable") from None
        return None


class _Timeline:
    """Places decoded frames on the output timeline, in input samples, and writes the kept part."""

    def __init__(self, plan, sink, report: RunReport, rate_in: int):
        self.plan, self.sink, self.report, self.rate_in = plan, sink, report, rate_in
        self.limit = None if plan.expected_duration is None else round(plan.expected_duration * rate_in)
        # Without a range end, the limit is the declared length, which trims the codec's end padding
        # (MP4 edit lists). Audio running on past it by more than the tolerance is not padding:
        # the header is wrong (files joined by stream copy declare less than they hold), and the
        # held-back overrun is written after all and the rest kept. See _hold.
        self.declared_only = plan.end is None
        self.slack = round(plan.tolerance * rate_in)
        self.overrun: list = []  # (frame, from, to) past the declared end, held back
        self.overrun_samples = 0
        self.cursor = None  # output-timeline position, in input samples, of the next decoded sample
        self.written = 0
        self.next_time = None  # source time the next frame should start at, to spot holes when salvaging

    @property
    def full(self) -> bool:
        if self.declared_only:
            return False  # read to the end: only then is it known whether the overrun is padding
        return self.limit is not None and self.cursor is not None and self.cursor >= self.limit

    def _hold(self, frame, keep_from: int) -> None:
        """Hold back what lies past a declared (not requested) end; past the slack, write it all."""
        start = max(keep_from, self.limit - self.cursor)
        if start >= frame.samples:
            return
        self.overrun.append((frame, start, frame.samples))
        self.overrun_samples += frame.samples - start
        # A codec's end padding lies within its last frame (AAC from FFmpeg or Apple: under 1024
        # samples). More than one frame past the declared end is audio the header leaves out, as
        # in a file joined from parts by stream copy: 2048 samples past it in a 3-part join.
        if beyond_padding(self.overrun_samples, max(held.samples for held, _, _ in self.overrun), self.slack):
            self.limit = None
            for held, begin, end in self.overrun:
                self.sink.write(held, begin, end)
                self.written += end - begin
            self.overrun.clear()

    def place(self, frame) -> None:
        if self.cursor is None:
            self.cursor = _first_position(self.plan, frame, self.rate_in)
            if self.cursor > 0:  # the track starts late: keep its offset as silence
                self.sink.write_silence(self.cursor, self.rate_in, frame)
                self.written += self.cursor
        elif self.plan.spec.salvage and self.next_time is not None and frame.time is not None:
            self._fill_hole(frame)
        if frame.time is not None:
            self.next_time = frame.time + frame.samples / self.rate_in
        keep_from = max(0, -self.cursor)
        keep_to = frame.samples if self.limit is None else min(frame.samples, self.limit - self.cursor)
        if keep_to > keep_from:
            self.sink.write(frame, keep_from, keep_to)
            self.written += keep_to - keep_from
        if self.declared_only and self.limit is not None and self.cursor + frame.samples > self.limit:
            self._hold(frame, keep_from)
        self.cursor += frame.samples

    def _fill_hole(self, frame) -> None:
        """Salvage: audio lost to damage becomes silence, so what follows stays in sync."""
        hole = round((frame.time - self.next_time) * self.rate_in)
        if hole <= frame.samples // 2:
            return
        begin = max(0, self.cursor)
        end = self.cursor + hole if self.limit is None else min(self.cursor + hole, self.limit)
        if end > begin:
            self.sink.write_silence(end - begin, self.rate_in, frame)
            self.report.gaps.append((round(begin / self.rate_in, 3), round((end - begin) / self.rate_in, 3)))
            self.written += end - begin
        self.cursor += hole

    def show_progress(self, progress: ProgressFn) -> None:
        if self.limit:
            progress(min(1.0, self.written / self.limit))

    def finish(self, undecodable: int) -> None:
        report = self.report
        if report.gaps:
            lost = sum(length for _, length in report.gaps)
            report.notes.append(f"{lost:.2f}s of damaged audio in {len(report.gaps)} place(s) "
                                "was replaced by silence, so the audio stays in sync")
        if self.cursor is None:
            raise_no_audio(self.plan, report, "decoded to no audio", damaged=undecodable > 0)
        report.written_duration = self.written / self.rate_in
        check_complete(self.plan, report)


def beyond_padding(held: int, longest: int, slack: int) -> bool:
    """Whether ``held`` samples past a declared end (in frames of at most ``longest``) are audio
    the header leaves out rather than the codec's end padding. The parallel segments decide it
    with this too, so both keep the same samples."""
    return held > min(slack, longest)


def _flush(decoder):
    import av

    try:
        return decoder.decode(None)
    except av.error.FFmpegError:  # a decoder that fails while draining has nothing more
        return []


def _first_position(plan, frame, rate_in: int) -> int:
    """Where the first decoded sample sits on the output timeline (negative: before the cut)."""
    if frame.time is None:
        return 0
    if not plan.start:
        # No range asked for: the plan's lead (the offset measured against the file's other streams)
        # is where the audio starts. The first frame's own timestamp can include a decoder's delay
        # (WMA: 85 ms) that is not an offset, and rendering it would add silence.
        return round(plan.lead_silence * rate_in)
    position = round((frame.time - plan.shift) * rate_in)
    if abs(position) <= 1:  # rounding noise, not an offset
        position = 0
    return position
