"""The engine's copy read pattern (other streams discarded, small reads), with or without a
random-access hint to the kernel, to measure what the hint saves on a cold page cache.

FFmpeg opens files itself, so the hint has to ride on a descriptor we open: the file is
opened here, advised POSIX_FADV_RANDOM (which turns off read-ahead for that open file),
and handed to PyAV as a file object. (An `fd:` URL reads the whole file here: FFmpeg
treats it as a stream it cannot skip through.)

It is also the bench's floor for a Python copy: the least a PyAV program does to copy a
track (no probe, no verification). Several INPUT OUTPUT pairs run one after the other.

    python -m benchmarks.hinted_copy [--hint] INPUT OUTPUT.m4a [INPUT OUTPUT.m4a ...]
"""

from __future__ import annotations

import os
import sys

BUFFER = 65536  # the engine's read size


def copy_audio(source: str, output: str, hint: bool) -> int:
    import av

    fd = os.open(source, os.O_RDONLY)
    try:
        if hint:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        reader = os.fdopen(fd, "rb", buffering=0, closefd=False)
        container = av.open(reader, buffer_size=BUFFER)
        stream = container.streams.audio[0]
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        with av.open(output, mode="w", format="ipod") as out:
            out_stream = out.add_stream_from_template(stream)
            count = 0
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                packet.stream = out_stream
                out.mux(packet)
                count += 1
        container.close()
        return count
    finally:
        os.close(fd)


if __name__ == "__main__":
    args = sys.argv[1:]
    use_hint = "--hint" in args
    args = [a for a in args if a != "--hint"]
    for source, output in zip(args[0::2], args[1::2]):
        copy_audio(source, output, use_hint)
