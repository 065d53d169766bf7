"""One long file on every core: a transcode of a long track cut into segments, each decoded and
encoded in its own worker process, then joined into one output.

This module is the driver, the same for every format: it cuts the output timeline (in samples,
on the encoder's frame grid), runs the workers in a fork pool and handles interrupts; what an
encoder needs at a seam lives in one module per format (``FORMATS``, policy as data).

Why a segment decodes exactly what the serial loop decodes: each worker seeks to
PREROLL_SECONDS before the first sample it needs (codecs with overlapping frames need the
frames before a cut to decode the first kept sample as a serial decode does), places every
decoded frame by its timestamp as the serial loop does, and keeps only the samples it was
given. A worker that cannot do its part (a decode error, a full disk, a track longer than its
header says) makes the whole job run serially: ``run`` returns None, and so does a format
module that finds it cannot join exactly. The serial path then reports any error as usual.

AAC and Opus are not in the table yet: joining them needs each later encoder started early on
the 1024/960 grid with its priming and warm-up packets dropped and one edit list for the whole;
until that is built and measured exact they stay serial.
"""

from __future__ import annotations

import importlib
import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from extractor.policy import MOV_DEMUXER

from .segment_steps import Steps, read_steps

MIN_SECONDS = 300.0  # shorter inputs finish before the workers would have started
MAX_WORKERS = 8
BLOCK = 65536  # samples per block handed to an encoder
PROGRESS_SECONDS = 0.5

# Output format -> the module that knows how to encode a segment and join the segments.
FORMATS = {"wav": "segment_wav", "flac": "segment_flac", "mp3": "segment_mp3"}


IDLE_SAMPLE = 0.1  # seconds of the machine's idle time measured before deciding


def cores_free() -> float:
    """Cores idle right now: the kernel's idle time over a tenth of a second. The one-minute load
    average says what ran in the last minute: right after another job (a benchmark's previous
    round, the last file of a batch) it still reads one core busy when both are idle."""
    cores = os.cpu_count() or 1
    try:
        first = _idle_ticks()
        time.sleep(IDLE_SAMPLE)
        second = _idle_ticks()
    except (OSError, ValueError, IndexError):  # no /proc/stat (macOS, Windows): the load average
        try:
            return max(0.0, cores - os.getloadavg()[0])
        except OSError:
            return 0.0
    idle, total = second[0] - first[0], second[1] - first[1]
    return cores * idle / total if total > 0 else 0.0


def _idle_ticks() -> tuple[int, int]:
    """(idle, all) clock ticks of every CPU since boot, from the first line of /proc/stat."""
    with open("/proc/stat", "rb") as f:
        fields = [int(value) for value in f.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; the guest times are counted in user


def format_module(name: str):
    module = FORMATS.get(name)
    return None if module is None else importlib.import_module(f"{__package__}.{module}")


def suitable(plan) -> bool:
    """A plain whole-track transcode of a long input, with cores free, in a format we can join."""
    spec = plan.spec
    module = format_module(plan.format.name)
    return (
        module is not None and not plan.is_copy and plan.expected_duration is not None
        and plan.expected_duration >= MIN_SECONDS and not spec.trims and not spec.salvage
        and spec.loudness is None and not plan.lead_silence and not plan.start and plan.end is None
        and plan.sample_rate == plan.track.sample_rate and plan.channels == plan.track.channels
        and plan.track.duration_exact and not plan.track.offset and plan.source.container == MOV_DEMUXER
        and module.suits(plan) and cores_free() > 1
    )


@dataclass
class Job:
    """One worker's part: output samples [begin, end) are its own; it decodes [lo, hi)."""

    number: int
    path: str
    index: int
    shift: float
    rate: int
    channels: int
    begin: int
    end: int
    lo: int
    hi: int
    last: bool
    slack: int  # past the declared end, more than this (or than a frame) is audio, not padding (decode.py)
    steps: Steps | None  # the track's timestamps against its samples; None: its index was not read
    temp: str  # the worker's output file, beside the destination
    settings: dict = field(default_factory=dict)  # the format module's, from its start(plan, ...)

    @property
    def scratch(self) -> str:
        """A second file the worker may use; removed with ``temp`` whatever happens."""
        return self.temp + ".enc"


def workers() -> int:
    cores = os.cpu_count() or 1
    # On two cores suitable() has said both are free: no second measurement needed.
    return 2 if cores <= 2 else max(2, min(MAX_WORKERS, cores, int(cores_free())))


def run(plan, destination: Path, progress=None):
    """The plan's output written by parallel workers, as a RunReport; None: run it serially.
    ``progress`` (a fraction, 0..1) is called about twice a second while the workers run."""
    module = format_module(plan.format.name)
    rate = plan.sample_rate
    total = round(plan.expected_duration * rate)
    count = workers()
    grid = module.GRID
    bounds = [0] + [round(total * k / count / grid) * grid for k in range(1, count)] + [total]
    if any(b <= a for a, b in itertools.pairwise(bounds)):
        return None
    # The last worker reads on past the declared end and keeps what the serial loop keeps there.
    slack = round(plan.tolerance * rate)
    steps = read_steps(plan.source.path, plan.track.index, rate)
    settings = module.start(plan, destination, total)
    jobs = []
    for k in range(count):
        begin, end = bounds[k], bounds[k + 1]
        lo, hi = module.reach(begin, end, total)
        jobs.append(Job(k, plan.source.path, plan.track.index, plan.shift, rate, plan.channels, begin, end,
                        lo, hi, k == count - 1, slack, steps,
                        str(destination.with_name(f".{destination.name}.part{k}")), settings))
    try:
        results = _map(module.work, jobs, progress, sum(job.hi - job.lo for job in jobs))
        if any(result is None for result in results):
            return None
        return module.join(plan, destination, jobs, results)
    finally:
        for job in jobs:  # also after an interrupt ended the workers before they could clean up
            remove(job.temp)
            remove(job.scratch)


def _map(work, jobs: list, progress, samples: int) -> list:
    import multiprocessing

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    done = context.Array("q", len(jobs), lock=False)  # samples each worker has decoded, for progress
    pool = context.Pool(len(jobs), initializer=_start_worker, initargs=(done,))
    try:
        pending = pool.map_async(work, jobs, chunksize=1)
        while not pending.ready():
            pending.wait(PROGRESS_SECONDS)
            if progress and samples:
                progress(min(1.0, sum(done) / samples))
        return pending.get()
    except BaseException:
        pool.terminate()  # an interrupt or an error: no worker goes on writing into a file being removed
        raise
    finally:
        pool.close()
        pool.join()


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


_DONE = None  # in a worker: the shared progress counters


def _start_worker(done) -> None:
    import signal

    global _DONE
    _DONE = done
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the pool
    # The parent's stop handlers came with the fork: a worker must die quietly when the pool
    # ends it (SIGTERM), not raise the interface's "stopped" error with a traceback.
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGALRM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


class Reader:
    """The samples [lo, hi) of a job's track on the output timeline, in blocks of about BLOCK
    samples: ``blocks()`` yields (position, planes), a channels x samples array in the decoder's
    sample type, which the next block overwrites. The last job's blocks go on past ``hi`` (the
    declared end) as the serial loop does: ``extra`` is how many it kept there. ``ok`` is False
    when the reader could not place what it decoded as the serial loop does (nothing decoded,
    a frame the index does not explain, or audio past the end of a file whose index was not read)."""

    def __init__(self, job: Job):
        self.job = job
        self.extra = 0
        self.found = False
        self.placed = True
        self.sample_format = None
        self.end = _End(job)
        self.parts: list = [[] for _ in range(job.channels)]  # each channel's kept slices, for the next block
        self.count = self.at = 0
        self.dtype = None  # the planes' sample type, once the first frame shows they are planar
        self.buffers: dict = {}  # the block handed out, reused (sinks.scratch)

    @property
    def ok(self) -> bool:
        return self.found and self.placed and self.end.understood

    def blocks(self):
        import av
        import numpy as np

        from extractor.mediainfo import READ_OPTIONS

        from .source import PREROLL_SECONDS

        job = self.job
        cursor = None
        with av.open(job.path, options=READ_OPTIONS) as container:
            stream = container.streams[job.index]
            for other in container.streams:
                if other.index != job.index:
                    other.discard = av.stream.Discard.all
            start = job.shift + (job.lo - (job.steps.before(job.lo) if job.steps else 0)) / job.rate - PREROLL_SECONDS
            if job.lo and start > 0:
                container.seek(int(start / stream.time_base), stream=stream, backward=True, any_frame=False)
            fixed = job.steps.frame if job.steps and job.steps.runs else 0
            for frame in container.decode(stream):
                samples = frame.samples
                if cursor is None:
                    cursor = self._start(frame, stream.time_base)
                elif fixed and samples != fixed:
                    cursor = None  # a frame of another length: the lag worked out from the index is not this one's
                if cursor is None:
                    self.placed = False
                    return
                if self.dtype is not None and job.lo <= cursor and cursor + samples <= job.hi:
                    # A whole frame inside the part, planar: most frames, so the fewest calls.
                    if not self.count:
                        self.at = cursor
                    for part, plane in zip(self.parts, frame.planes):  # never past the channels (frames.py)
                        part.append(np.frombuffer(plane, self.dtype, samples))
                    self.count += samples
                    if self.count >= BLOCK:
                        yield from self._flush()
                else:
                    yield from self._keep(frame, cursor)
                cursor += samples
                if self.end.reached(cursor):
                    break
        yield from self._flush()

    def _start(self, frame, time_base) -> int | None:
        from extractor.frames import plane_arrays

        self.found, self.sample_format = True, frame.format.name
        if frame.format.is_planar and frame.samples:
            self.dtype = plane_arrays(frame)[0].dtype
        return self._first_position(frame, time_base)

    def _first_position(self, frame, time_base) -> int | None:
        """Where the first decoded frame lies on the output timeline: the first job's at 0 (the
        serial loop counts from there), a later one's by its timestamp plus the samples the
        timestamps lag behind there (None: the index does not know this timestamp)."""
        job = self.job
        if not job.lo or frame.time is None:
            return 0
        position = round((frame.time - job.shift) * job.rate)
        if not job.steps or not job.steps.runs:
            return position
        lag = job.steps.at(frame.pts, time_base, job.rate)
        return None if lag is None else position + lag

    def _keep(self, frame, cursor: int):
        job = self.job
        keep_from, keep_to = max(0, job.lo - cursor), min(frame.samples, job.hi - cursor)
        if keep_to > keep_from:
            yield from self._add(frame, cursor, keep_from, keep_to)
        if job.last and cursor + frame.samples > job.hi:
            for held, begin, held_from, held_to in self.end.past(frame, cursor, keep_from):
                self.extra += held_to - held_from
                yield from self._add(held, begin, held_from, held_to)

    def _add(self, frame, cursor: int, keep_from: int, keep_to: int):
        if not self.count:
            self.at = cursor + keep_from
        for part, plane in zip(self.parts, _planes(frame, self.job.channels, keep_from, keep_to)):
            part.append(plane)
        self.count += keep_to - keep_from
        if self.count >= BLOCK:
            yield from self._flush()

    def _flush(self):
        if not self.count:
            return
        import numpy as np

        from .sinks import scratch

        count, channels = self.count, len(self.parts)
        planes = scratch(self.buffers, "block", channels * count, self.parts[0][0].dtype).reshape(channels, count)
        for c, part in enumerate(self.parts):
            np.concatenate(part, out=planes[c])
            part.clear()
        at, self.at, self.count = self.at, self.at + count, 0
        yield at, planes
        if _DONE is not None:
            _DONE[self.job.number] = min(self.at - self.job.lo, self.job.hi - self.job.lo)


class _End:
    """What the last job finds past the declared end, decided as the serial loop decides it
    (decode.py, ``_Timeline._hold``): held back while it may be the codec's end padding, all of
    it kept once it is more (a joined file declares less than it holds). A job that is not the
    last stops at its end."""

    def __init__(self, job: Job):
        self.job = job
        self.held: list = []  # (frame, its position, from, to) past the declared end
        self.held_samples = 0
        self.longest = 0
        self.audio = False  # what lies past the end is audio: keep all of it
        self.understood = True

    def reached(self, cursor: int) -> bool:
        return not self.understood or (not self.job.last and cursor >= self.job.hi)

    def past(self, frame, cursor: int, keep_from: int) -> list:
        """The samples past the end to write now, as (frame, position, from, to)."""
        from .decode import beyond_padding

        begin = max(keep_from, self.job.hi - cursor)
        if self.audio:
            return [(frame, cursor, begin, frame.samples)]
        if begin >= frame.samples:
            return []
        self.held.append((frame, cursor, begin, frame.samples))
        self.held_samples += frame.samples - begin
        self.longest = max(self.longest, frame.samples)
        if not beyond_padding(self.held_samples, self.longest, self.job.slack):
            return []
        if self.job.steps is None:  # audio past the end of a file whose timestamps were not read
            self.understood = False
            return []
        self.audio, held, self.held = True, self.held, []
        return held


def _planes(frame, channels: int, keep_from: int, keep_to: int) -> list:
    from extractor.frames import plane_arrays

    arrays = plane_arrays(frame)
    if frame.format.is_planar:
        return [plane[keep_from:keep_to] for plane in arrays]
    packed = arrays[0].reshape(-1, channels)
    return [packed[keep_from:keep_to, c] for c in range(channels)]


def checked(job: Job, reader: Reader, written: int) -> bool:
    """Whether the worker wrote all of [lo, hi), and the last one what it kept past that, with
    every sample placed as the serial loop places it."""
    return reader.ok and written == job.hi - job.lo + reader.extra


def report(plan, destination: Path, samples: int, evidence, workers_used: int):
    from backends.base import RunReport

    result = RunReport(backend="local", written_duration=samples / plan.sample_rate)
    result.evidence = evidence
    result.notes.append(f"encoded in {workers_used} segments on {workers_used} cores")
    return result
