"""Reading the planned track: open the input with every other stream discarded, walk its
packets, and name damage. Shared by the stream copy and the decode loop."""

from __future__ import annotations

import math

from backends.base import RunReport
from extractor.errors import DamagedFrame, DamagedInput, NoAudio
from extractor.mediainfo import QUICK_OPEN, READ_OPTIONS, open_media, take_kept_open
from extractor.policy import MOV_DEMUXER

# Seek this far before a trim start: codecs with overlapping frames (AAC, MP3, Opus) need
# the frame before the cut to decode the first kept sample correctly.
PREROLL_SECONDS = 0.5
PROGRESS_EVERY = 64  # packets


def open_audio_only(plan):
    """The input with every stream but the planned audio track discarded: the probe's own open
    when it kept one for this job, else a new one with the same options."""
    import av

    # MP4/MOV is the container whose demuxer seeks past discarded streams (Matroska/WebM are read whole).
    is_mov = plan.source.container == MOV_DEMUXER
    container = take_kept_open(plan.source)
    if container is None:
        # An MP4/MOV index (moov) already holds every stream's codec parameters, so skip FFmpeg's
        # stream analysis, which decodes video frames we discard (3-min 1080p: 23 ms -> 1 ms per open).
        container = open_media(plan.source.path, options={**READ_OPTIONS, **(QUICK_OPEN if is_mov else {})})
    stream = container.streams[plan.track.index]
    for other in container.streams:
        if other.index != stream.index:
            other.discard = av.stream.Discard.all
    # advise_random_access is not applied: on local disks it costs more time than the bytes it
    # saves (a cold 1.3 GB MP4 with per-packet interleaving: 491 MB read in 4 KB requests in
    # 20 s, against the whole file with the kernel's read-ahead in 8.5 s; ffmpeg 5 s).
    return container, stream


# Where a process lists its own open descriptors: Linux, then macOS and the BSDs.
FD_FOLDERS = ("/proc/self/fd", "/dev/fd")


def advise_random_access(path, fd_folders=FD_FOLDERS) -> None:
    """Turn off the kernel's read-ahead on FFmpeg's descriptor of ``path``: otherwise it reads
    the video we skip anyway (a cold 500 MB MP4: 441 MB fetched -> 85 MB). FFmpeg opened the
    file itself, so find its descriptor among ours: listed in /proc/self/fd (Linux) or /dev/fd
    (the BSDs), matched by device and inode (a /dev/fd entry is no symlink to read). Where
    there is no posix_fadvise (macOS, Windows) or no such listing, do nothing: only speed is lost."""
    import os

    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        target = os.stat(path)
    except OSError:
        return
    for folder in fd_folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            try:
                found = os.fstat(int(name))
                if (found.st_dev, found.st_ino) == (target.st_dev, target.st_ino):
                    advise(int(name), 0, 0, os.POSIX_FADV_RANDOM)
            except (OSError, ValueError):  # closed since the listing (the listing's own), or not a number
                continue
        return


def demux_errors():
    import av

    # Any FFmpeg error while reading or decoding the input: damaged data shows up as
    # InvalidDataError mostly, but also as EPERM, EINVAL, ENOMEM, ... depending on the codec.
    return (av.error.FFmpegError,)


def decode_errors():
    """What a damaged packet raises when decoded: an FFmpeg error, or a frame FrameGuard refuses."""
    return demux_errors() + (DamagedFrame,)


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
                raise DamagedFrame(f"damaged data decoded as {frame.layout.name} at {frame.sample_rate} Hz")
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


def seek(container, stream, seconds: float) -> None:
    if seconds <= 0:
        return
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)


def packets(container, stream, plan, report: RunReport, iterator=None):
    """The track's packets (from ``iterator``, a demux of it, when given), skipping the demuxer's
    empty flush packet; damage becomes a clear error."""
    if iterator is None:
        iterator = container.demux(stream)
    while True:
        try:
            packet = next(iterator)
        except StopIteration:
            return
        except demux_errors() as exc:
            read_failed(exc, plan, report)
            return
        if packet.size == 0:
            continue
        yield packet


def read_failed(exc, plan, report: RunReport) -> None:
    """Reading stopped at damaged data: noted with --salvage (what was read is kept), else an error."""
    if plan.spec.salvage:
        report.source_complete = False
        report.notes.append(f"reading stopped at damaged data ({exc.strerror or exc})")
        return
    raise DamagedInput(
        f"{plan.source.path}: the file is damaged ({getattr(exc, 'strerror', None) or exc})",
        hint="--salvage keeps what is readable") from None


def check_complete(plan, report: RunReport, unfilled: float = 0.0) -> None:
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


def raise_no_audio(plan, report: RunReport, what: str, *, damaged: bool) -> None:
    """A track that is declared but empty has no audio to give (exit 5); an empty range of a
    damaged one is damage (exit 11)."""
    if damaged:
        raise DamagedInput(f"{plan.source.path}: no packet of audio track {plan.track.number} could be decoded")
    if report.source_complete and not plan.spec.trims and not report.gaps:
        raise NoAudio(f"{plan.source.path}: audio track {plan.track.number} is declared but {what}")
    raise DamagedInput(f"{plan.source.path}: track {plan.track.number} {what} in the range"
                       + (" that could be read" if not report.source_complete else ""))


def packet_time(packet) -> float:
    return float(packet.pts * packet.time_base) if packet.pts is not None else math.nan
