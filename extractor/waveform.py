"""A waveform picture of an audio file: min/max peaks per pixel column, drawn as a PNG.

The file is decoded frame by frame (never whole in memory); the PNG is written with numpy
and zlib, so the page needs no drawing library and no network asset.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .frames import frame_array

WIDTH, HEIGHT = 800, 120  # drawn at 2x the size the page shows, so it stays sharp
WAVE_RGB = (37, 99, 235)
MIDLINE_RGB = (203, 213, 225)


def peaks(path: Path, total_samples: int, columns: int = WIDTH) -> np.ndarray:
    """(columns, 2) min/max of the mono mix per column, in -1..1."""
    import av

    result = np.zeros((columns, 2), dtype=np.float32)
    per_column = max(1, -(-max(total_samples, 1) // columns))
    position = 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            samples = frame_array(frame)  # not to_ndarray(): it crashes on 8-channel planar frames
            if samples.dtype.kind == "i":
                samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max)
            if frame.format.is_planar:
                mono = samples.mean(axis=0)
            else:  # packed: channels interleaved in one row
                mono = samples.reshape(-1, len(frame.layout.channels)).mean(axis=1)
            first = position // per_column
            position += mono.size
            for column in range(first, min(columns, -(-position // per_column))):
                lo = max(0, column * per_column - (position - mono.size))
                hi = min(mono.size, (column + 1) * per_column - (position - mono.size))
                if hi > lo:
                    chunk = mono[lo:hi]
                    result[column, 0] = min(result[column, 0], float(chunk.min()))
                    result[column, 1] = max(result[column, 1], float(chunk.max()))
    return np.clip(result, -1.0, 1.0)


def draw(levels: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    """An RGBA image (height, columns, 4): the peaks as vertical bars on a transparent background."""
    columns = levels.shape[0]
    image = np.zeros((height, columns, 4), dtype=np.uint8)
    middle = height // 2
    image[middle, :, :3] = MIDLINE_RGB
    image[middle, :, 3] = 255
    rows = np.arange(height)[:, None]
    top = np.round(middle - levels[:, 1] * (middle - 1)).astype(int)[None, :]
    bottom = np.round(middle - levels[:, 0] * (middle - 1)).astype(int)[None, :]
    inside = (rows >= top) & (rows <= bottom)
    image[inside, :3] = WAVE_RGB
    image[inside, 3] = 255
    return image


def png_bytes(image: np.ndarray) -> bytes:
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(
        b"IEND", b"")


def write_waveform(audio: Path, total_samples: int, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(png_bytes(draw(peaks(audio, total_samples))))
    return destination
