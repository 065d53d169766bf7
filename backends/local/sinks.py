"""Where decoded audio goes in a transcode: an FFmpeg encoder + muxer, or libsndfile for PCM.

Both sinks take decoded PyAV frames plus the slice of samples to keep, so the transcode
loop can trim sample-accurately without knowing which writer sits behind it.

The PCM sink exists for speed: resampling every frame to s16 through swresample costs more
than decoding it, while numpy does the same conversion (round to nearest, clip, exactly
like FFmpeg's flt->s16) in one vectorised step, and libsndfile writes it out.
"""

from __future__ import annotations

import contextlib
import errno
import os
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

from extractor.frames import LAYOUTS, Resampler, SilenceWriter, frame_array, plane_arrays, slice_frame

from .evidence import HashingFile, PacketWitness

WRITE_BLOCK = 65536  # samples gathered before one libsndfile write
_INT_SCALE = {"int16": 1 << 15, "int32": 1 << 31}


def output_layout(plan, frame) -> str:
    name = frame.layout.name if frame.layout is not None else ""
    if plan.channels == plan.track.channels and name and not name.endswith("channels"):
        return name
    # An unlabelled layout ("2 channels": WAV without a channel mask) makes encoders like AAC refuse to open.
    return LAYOUTS.get(plan.channels, name or "stereo")


class EncoderSink(SilenceWriter):
    """FFmpeg encoder (AAC, MP3, Opus, Vorbis, AC-3, ...) into its muxer."""

    def __init__(self, plan, destination: Path):
        import av

        self.plan = plan
        self.output = av.open(str(destination), mode="w", format=plan.format.muxer)
        from .tags import prepare_output

        prepare_output(self.output, plan)  # chapters (MP4, Matroska) and Matroska tags go in the header
        self.stream = None
        self.resampler = None
        self.samples_out = 0
        self.witness = PacketWitness()

    def _start(self, frame) -> None:
        plan = self.plan
        options = dict(plan.format.encoder_options)
        stream = self.output.add_stream(plan.codec, rate=plan.sample_rate, options=options)
        layout = output_layout(plan, frame)
        stream.layout = layout
        if plan.bitrate:
            stream.bit_rate = plan.bitrate
        formats = [f.name for f in (stream.codec_context.codec.audio_formats or [])]
        sample_format = _pick_sample_format(formats, plan.sample_bits)
        stream.format = sample_format
        if plan.format.holds_stream_tags:
            for key, value in plan.tags.items():
                stream.metadata[key] = value
        self.stream = stream
        self.resampler = Resampler(format=sample_format, layout=layout, rate=plan.sample_rate)

    def write(self, frame, start: int, stop: int) -> None:
        if self.stream is None:
            self._start(frame)
        part = slice_frame(frame, start, stop)
        part.pts = None
        for converted in self.resampler.resample(part):
            self._encode(converted)

    def _encode(self, frame) -> None:
        frame.pts = self.samples_out
        frame.time_base = Fraction(1, self.plan.sample_rate)
        self.samples_out += frame.samples
        for packet in self.stream.encode(frame):
            self._mux(packet)

    def _mux(self, packet) -> None:
        self.witness.add(packet)
        self.output.mux(packet)

    def close(self) -> None:
        if self.stream is not None:
            for converted in self.resampler.resample(None):
                self._encode(converted)
            for packet in self.stream.encode(None):
                self._mux(packet)
        self.output.close()

    def evidence(self):
        return self.witness.result(samples=self.samples_out)

    def abort(self) -> None:
        # Already failing: whatever closing raises must not hide the first error; the caller removes the file.
        with contextlib.suppress(Exception):
            self.output.close()


def _pick_sample_format(formats: list[str], bits: int | None) -> str:
    """The encoder's preferred sample format, honouring a requested bit depth for FLAC/ALAC."""
    if bits and bits > 16:
        for name in ("s32", "s32p"):
            if name in formats:
                return name
    for name in formats:
        return name
    return "fltp"


class SoundfileSink(SilenceWriter):
    """PCM WAV and FLAC through libsndfile, fed straight from numpy."""

    FORMATS: ClassVar[dict[str, str]] = {"wav": "WAV", "flac": "FLAC"}
    SUBTYPES: ClassVar[dict[int, str]] = {16: "PCM_16", 24: "PCM_24", 32: "PCM_32"}

    def __init__(self, plan, destination: Path):
        import numpy as np
        import soundfile

        self.plan = plan
        self.destination = destination
        self.bits = plan.sample_bits or 16
        self.dtype = np.dtype("int16") if self.bits == 16 else np.dtype("int32")
        # Written through HashingFile, so verification can check the bytes instead of decoding them.
        self.target = HashingFile(destination)
        try:
            with _libsndfile_errors(destination):
                self.file = soundfile.SoundFile(
                    self.target, mode="w", samplerate=plan.sample_rate, channels=plan.channels,
                    format=self._container(plan), subtype=self.SUBTYPES[self.bits])
        except BaseException:
            self.target.close()
            raise
        title = plan.tags.get("title")
        if title:
            self.file.title = title
        self.resampler = None
        self._needs_resample: bool | None = None
        # Frames are gathered and written in blocks: libsndfile and numpy cost the same per
        # call whether it carries 1024 samples or 64k, and per-frame calls dominated the time.
        self._pending: list = []
        self._pending_samples = 0
        self._buffers: dict = {}  # reused block buffers, see _scratch
        # libsndfile releases the GIL while it encodes, so a block is written in a second thread
        # while this one decodes the next (3-min FLAC on 2 cores: ~0.2 s less). One block in flight.
        self._writer = None
        self._in_flight = None
        self._blocks = 0
        self._frames = 0
        self._peak = 0  # largest sample magnitude written, in integer steps
        self._layout = LAYOUTS.get(plan.channels, "")  # the speakers written, once a frame says

    def _container(self, plan) -> str:
        # More than two channels need WAV's extensible header, the only one that names speakers.
        if plan.format.name == "wav" and plan.channels > 2:
            return "WAVEX"
        return self.FORMATS[plan.format.name]

    def _decide(self, frame) -> None:
        same_rate = frame.sample_rate == self.plan.sample_rate
        same_channels = len(frame.layout.channels) == self.plan.channels
        self._needs_resample = not (same_rate and same_channels)
        if self._needs_resample:

            layout = LAYOUTS.get(self.plan.channels, "stereo")
            self.resampler = Resampler(format="flt", layout=layout, rate=self.plan.sample_rate)
        else:
            self._layout = output_layout(self.plan, frame)

    def write(self, frame, start: int, stop: int) -> None:
        if self._needs_resample is None:
            self._decide(frame)
        if self._needs_resample:
            part = slice_frame(frame, start, stop)
            part.pts = None
            for converted in self.resampler.resample(part):
                self._write_array(converted)
            return
        self._write_array(frame, start, stop)

    def _write_array(self, frame, start: int = 0, stop: int | None = None) -> None:
        if frame.format.is_planar:  # keep views of the planes; they are interleaved once per block
            part = [plane[start:stop] for plane in plane_arrays(frame)]
            count = len(part[0]) if part else 0
        else:
            part = _interleaved(frame)[start:stop]
            count = len(part)
        self._pending.append(part)
        self._pending_samples += count
        if self._pending_samples >= WRITE_BLOCK:
            self._flush_pending()

    def _flush_pending(self) -> None:
        if not self._pending:
            return
        import numpy as np

        pending, self._pending, self._pending_samples = self._pending, [], 0
        if all(isinstance(part, list) for part in pending) and pending[0][0].dtype.kind == "f":
            samples = self._float_block_to_int(pending)
        elif all(isinstance(part, list) for part in pending):
            samples = np.stack([np.concatenate([part[c] for part in pending]) for c in range(len(pending[0]))], axis=1)
        else:
            samples = np.concatenate([np.stack(p, axis=1) if isinstance(p, list) else p for p in pending])
        block = _to_int(samples, self.dtype)
        self._frames += len(block)
        if block.size:
            self._peak = max(self._peak, int(block.max()), -int(block.min()))
        self._wait_for_writer()  # the previous block is written (or its error raised) before the next goes
        if self._writer is None:
            from concurrent.futures import ThreadPoolExecutor

            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vax-sndfile")
        self._in_flight = self._writer.submit(self._write_block, block)
        self._blocks += 1

    def _write_block(self, block) -> None:
        with _libsndfile_errors(self.destination, self.target):
            self.file.write(block)

    def _wait_for_writer(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _stop_writer(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _float_block_to_int(self, pending: list):
        """Planar float frames -> one interleaved int block, as _to_int converts, in reused buffers."""
        import numpy as np

        channels, total = len(pending[0]), sum(len(part[0]) for part in pending)
        planes = scratch(self._buffers, "planes", channels * total, pending[0][0].dtype).reshape(channels, total)
        for c in range(channels):
            np.concatenate([part[c] for part in pending], out=planes[c])
        # Two int buffers in turn: the writer thread may still be reading the previous block's.
        return planes_to_int(planes, self.dtype, self._buffers, f"int{self._blocks % 2}")

    def close(self) -> None:
        if self.resampler is not None:
            for converted in self.resampler.resample(None):
                self._write_array(converted)
        try:
            self._flush_pending()
            self._wait_for_writer()
        finally:
            self._stop_writer()
        with _libsndfile_errors(self.destination, self.target):
            self.file.close()
        if self.file.format == "WAVEX":
            from .wav_layout import channel_mask, write_channel_mask

            write_channel_mask(self.target, channel_mask(self._layout, self.plan.channels))
        self.target.close()
        if self.target.error is not None:
            raise self.target.error

    def evidence(self):
        return self.target.evidence(self._frames, self._peak / _INT_SCALE[self.dtype.name])

    def abort(self) -> None:
        # Already failing: whatever closing raises must not hide the first error; the caller removes the file.
        # The block in flight must finish before the file closes under it (libsndfile would crash), even
        # when another stop lands while we wait: that stop is held until the writer is done.
        held = None
        for _ in range(100):
            if self._writer is None:
                break
            try:
                self._stop_writer()
            except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C mid-wait: finish waiting, then stop
                held = held or exc
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(Exception):
            self.target.close()
        if held is not None and not isinstance(held, Exception):
            raise held


@contextlib.contextmanager
def _libsndfile_errors(destination: Path, target: HashingFile | None = None):
    """libsndfile reports a failed write as "System error." (or soundfile finds fewer frames
    written); recover the OS error behind it (ENOSPC, EFBIG, ...) so the engine reports it like
    any other output error."""
    import soundfile

    try:
        yield
    except (soundfile.LibsndfileError, AssertionError) as exc:
        if target is not None and target.error is not None:
            raise target.error from None
        code = getattr(getattr(soundfile, "_ffi", None), "errno", 0) or errno.EIO  # cffi keeps the C errno
        raise OSError(code, os.strerror(code) if code != errno.EIO else str(exc), str(destination)) from None


def _interleaved(frame):
    """(samples, channels) view of a frame, whatever its planar/packed layout."""
    array = frame_array(frame)  # not to_ndarray(): it crashes on 8-channel planar frames
    if frame.format.is_planar:
        return array.T
    return array.reshape(-1, len(frame.layout.channels))


def scratch(buffers: dict, name: str, size: int, dtype):
    """A flat buffer of ``size`` items from ``buffers``, reused block after block. Fresh
    half-megabyte arrays on every block made the kernel map and zero new pages each time
    (3-min WAV: 50k page faults)."""
    import numpy as np

    buffer = buffers.get(name)
    if buffer is None or buffer.dtype != dtype or buffer.size < size:
        buffer = buffers[name] = np.empty(size + size // 8, dtype)  # room for a bigger block
    return buffer[:size]


def planes_to_int(planes, dtype, buffers: dict, name: str = "int"):
    """Planes (channels x samples) -> interleaved int samples (samples x channels). Float ones
    with _to_int's arithmetic (float32 for 16-bit, float64 for 32-bit, then round and clip) but
    in buffers reused block after block and with no separate interleaving pass: the scaling
    writes each plane across. The serial sink and the parallel segments both convert with this,
    so their bytes are the same. Integer planes (ALAC, PCM sources) go through _to_int."""
    import numpy as np

    if planes.dtype.kind != "f":
        return _to_int(np.ascontiguousarray(planes.T), dtype)
    channels, total = planes.shape
    work_type = np.float32 if dtype == np.int16 else np.float64
    scale = work_type(_INT_SCALE[dtype.name])
    scaled = scratch(buffers, "scaled", channels * total, work_type).reshape(total, channels)
    for c in range(channels):
        # A plane at a time: numpy walks planes.T two values per inner loop, five times slower.
        np.multiply(planes[c], scale, out=scaled[:, c])
    np.rint(scaled, out=scaled)
    info = np.iinfo(dtype)
    np.clip(scaled, info.min, info.max, out=scaled)
    result = scratch(buffers, name, channels * total, dtype).reshape(total, channels)
    np.copyto(result, scaled, casting="unsafe")
    return result


def _to_int(samples, dtype):
    """Float or integer samples to int16/int32 the way FFmpeg converts them (round, clip)."""
    import numpy as np

    if samples.dtype == dtype:
        return samples
    if samples.dtype.kind == "f":
        scale = _INT_SCALE[dtype.name]
        scaled = np.rint(samples * np.float64(scale) if dtype == np.int32 else samples * np.float32(scale))
        info = np.iinfo(dtype)
        return np.clip(scaled, info.min, info.max).astype(dtype)
    if samples.dtype == np.int16 and dtype == np.int32:
        return samples.astype(np.int32) << 16
    if samples.dtype == np.int32 and dtype == np.int16:
        return (samples >> 16).astype(np.int16)
    if samples.dtype == np.uint8:
        return ((samples.astype(np.int32) - 128) << (8 if dtype == np.int16 else 24)).astype(dtype)
    return samples.astype(dtype)
