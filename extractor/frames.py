"""Small helpers on decoded PyAV audio frames, shared by the engine's writers and verification.

numpy is imported on first use only: the stream-copy path never touches a sample.
"""

from __future__ import annotations

SILENCE_CHUNK = 48000  # samples per silence frame: one second at 48 kHz keeps memory flat
LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}


def silence_like(frame, samples: int):
    """A frame of zeros in the same format, layout and rate as ``frame``."""
    import av
    import numpy as np  # here, not at the top: the stream-copy path must not load numpy

    fmt = frame.format
    channels = len(frame.layout.channels)
    dtype = np.dtype(_SAMPLE_DTYPES[fmt.name.rstrip("p")])
    planar = fmt.is_planar and channels < 8  # PyAV 18.1 cannot build 8+ channel planar frames
    shape = (channels, samples) if planar else (1, samples * channels)
    silent = av.AudioFrame.from_ndarray(np.zeros(shape, dtype=dtype), format=fmt.name if planar else fmt.name.rstrip("p"),
                                        layout=frame.layout.name)
    silent.sample_rate = frame.sample_rate
    return silent


def slice_frame(frame, start: int, stop: int):
    """Samples [start, stop) of a frame as a new frame (the whole frame when nothing is cut)."""
    import av

    if start == 0 and stop == frame.samples and not (frame.format.is_planar and frame.layout.nb_channels >= 8):
        return frame
    import numpy as np

    array = frame_array(frame)
    fmt = frame.format.name
    if frame.format.is_planar:
        part = array[:, start:stop]
        if len(part) >= 8:  # PyAV 18.1 cannot build 8+ channel planar frames: hand over packed ones
            part, fmt = part.T.reshape(1, -1), fmt.rstrip("p")
    else:
        channels = len(frame.layout.channels)
        part = array[:, start * channels:stop * channels]
    cut = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format=fmt, layout=frame.layout.name)
    cut.sample_rate = frame.sample_rate
    return cut


class SilenceWriter:
    """Gives a sink ``write_silence``, in chunks of one second, so memory stays flat."""

    def write_silence(self, samples: int, rate: int, like) -> None:
        while samples > 0:
            n = min(samples, SILENCE_CHUNK)
            frame = silence_like(like, n)
            self.write(frame, 0, n)
            samples -= n


_SAMPLE_DTYPES = {"u8": "uint8", "s16": "int16", "s32": "int32", "s64": "int64", "flt": "float32", "dbl": "float64"}


def numpy_module():
    import numpy  # imported on first use: the stream-copy path never needs it

    return numpy


def plane_arrays(frame) -> list:
    """The frame's samples as 1-D numpy views of its planes (no copy, unlike to_ndarray's stacking)."""
    if not frame.samples:
        return []
    np = numpy_module()
    fmt = frame.format
    dtype = np.dtype(_SAMPLE_DTYPES[fmt.name.rstrip("p")])
    if fmt.is_planar:
        # Never past the channel count: PyAV 18.1 lists a 9th plane for 8-channel (7.1) planar
        # frames, and reading it crashes the process (a segmentation fault, not an exception).
        planes = frame.planes[:frame.layout.nb_channels]
        return [np.frombuffer(plane, dtype, count=frame.samples) for plane in planes]
    return [np.frombuffer(frame.planes[0], dtype, count=frame.samples * frame.layout.nb_channels)]


def frame_array(frame):
    """What ``frame.to_ndarray()`` gives (planar: channels x samples; packed: 1 x samples*channels),
    without its plane walk, which crashes on 8-channel planar frames (see plane_arrays)."""
    np = numpy_module()
    arrays = plane_arrays(frame)
    if not arrays:
        dtype = np.dtype(_SAMPLE_DTYPES[frame.format.name.rstrip("p")])
        return np.zeros((frame.layout.nb_channels if frame.format.is_planar else 1, 0), dtype)
    return np.stack(arrays)


def gather(arrays: list, scratch: dict):
    """np.concatenate(arrays) into a buffer reused block after block: a fresh multi-megabyte
    array per block made the kernel map and zero new pages each time."""
    np = numpy_module()
    dtype = arrays[0].dtype
    if any(a.dtype != dtype for a in arrays):  # never seen, but then let numpy pick the common type
        return np.concatenate(arrays)
    size = sum(len(a) for a in arrays)
    buffer = scratch.get(dtype)
    if buffer is None or buffer.size < size:
        buffer = scratch[dtype] = np.empty(size + size // 8, dtype)
    return np.concatenate(arrays, out=buffer[:size])


def frame_peak(array) -> float:
    np = numpy_module()
    if not array.size:
        return 0.0
    # max and min instead of abs(): two passes over the data but no temporary copy of it
    if array.dtype.kind == "f":
        return max(float(array.max()), -float(array.min()))
    info = np.iinfo(array.dtype)
    if info.min == 0:  # unsigned 8-bit
        return max(int(array.max()) - 128, 128 - int(array.min())) / 128
    return max(int(array.max()), -int(array.min())) / -info.min


# FFmpeg's resampler leaves a downmix unnormalised when it outputs float: stereo -> mono adds
# L and R at -3 dB each, so a correlated stereo track comes out 3 dB hotter than its source and
# clips once written as integers (measured: a 0.9 peak became 1.27). ffmpeg's CLI gets away with
# it only for integer outputs. rematrix_maxval=1 keeps every output channel's gain at or under 1.
DOWNMIX_NORMALISED = ("aresample", "rematrix_maxval=1.0")


class Resampler:
    """What ``av.AudioResampler`` does (format, layout, rate; ``resample(frame) -> [frames]``,
    ``resample(None)`` flushes), through a filter graph whose downmix cannot clip."""

    def __init__(self, format: str, layout: str, rate: int):
        self.format, self.layout, self.rate = format, layout, rate
        self._graph = None
        self._pts = 0

    def resample(self, frame) -> list:

        if frame is None:
            if self._graph is None:
                return []
            self._graph.push(None)
            return self._drain()
        if self._graph is None:
            self._graph = self._build(frame)
        frame.pts = self._pts  # the graph counts input samples; decoder timestamps are in another base
        frame.time_base = _fraction(1, frame.sample_rate)
        self._pts += frame.samples
        self._graph.push(frame)
        return self._drain()

    def _build(self, frame):
        import av

        graph = av.filter.Graph()
        nodes = [graph.add_abuffer(sample_rate=frame.sample_rate, format=frame.format.name,
                                   layout=frame.layout.name, time_base=_fraction(1, frame.sample_rate)),
                 graph.add(*DOWNMIX_NORMALISED),
                 graph.add("aformat", f"sample_fmts={self.format}:channel_layouts={self.layout}"
                                      f":sample_rates={self.rate}"),
                 graph.add("abuffersink")]
        graph.link_nodes(*nodes).configure()
        return graph

    def _drain(self) -> list:
        import av

        out = []
        while True:
            try:
                out.append(self._graph.pull())
            except (av.error.BlockingIOError, av.error.EOFError):
                return out


def _fraction(a: int, b: int):
    from fractions import Fraction

    return Fraction(a, b)
