"""Experiment: encode an MP3 as two halves on two cores and join the frame streams.

This checks what is real about the idea; it is not the engine's path. The catches:
- Priming: a second encoder started mid-stream has its own 576-sample delay and an empty
  psychoacoustic/MDCT history. Started on the frame grid (a multiple of 1152 samples) and
  WARMUP frames early, its frames line up with the first encoder's and its history is warm;
  its first WARMUP frames are dropped.
- Bit reservoir: a frame's main data may begin in earlier frames' bytes (main_data_begin),
  which would be the dropped frames. (At 192k LAME never empties its reservoir: no frame with
  main_data_begin == 0 in 10 s.) The seam goes where the bytes the second stream's frame
  borrows fit in the first stream's unused tail, and those bytes are copied there.
- The LAME tag: frame count, delay and padding are written for the joined stream.
Both LAME encoders run in threads: ctypes releases the GIL around each C call.

    python -m benchmarks.mp3_split INPUT OUTPUT.mp3   # prints JSON: timings, seam, SNR, samples
"""

from __future__ import annotations

import ctypes
import json
import struct
import sys
import threading
import time

import numpy as np

FRAME = 1152
DELAY = 576
WARMUP = 8  # frames the second encoder runs before its first kept frame
SEARCH = 400  # frames after the midpoint to look for a reservoir-free seam
BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
RATE_INDEX = {44100: 0, 48000: 1, 32000: 2}


def encode(planes: list[np.ndarray], rate: int, kbps: int) -> bytes:
    """One LAME encoder (from the lameenc wheel, joint stereo, quality 3) over planar float."""
    from backends.local.mp3_lame import JOINT_STEREO, QUALITY, _lame

    lib = _lame()
    gfp = lib.lame_init()
    for setter, value in (
        ("lame_set_num_channels", 2),
        ("lame_set_in_samplerate", rate),
        ("lame_set_out_samplerate", rate),
        ("lame_set_VBR", 0),
        ("lame_set_brate", kbps),
        ("lame_set_quality", QUALITY),
        ("lame_set_mode", JOINT_STEREO),
        ("lame_set_bWriteVbrTag", 0),
        ("lame_set_write_id3tag_automatic", 0),
    ):
        getattr(lib, setter)(gfp, value)
    lib.lame_init_params(gfp)
    left, right = (np.ascontiguousarray(p, dtype=np.float32) for p in planes)
    block = 65536
    buffer = ctypes.create_string_buffer(block * 5 // 4 + 7200)
    out = bytearray()
    for offset in range(0, len(left), block):
        n = min(block, len(left) - offset)
        size = lib.lame_encode_buffer_ieee_float(
            gfp, left[offset:].ctypes.data, right[offset:].ctypes.data, n, buffer, len(buffer)
        )
        out += buffer.raw[:size]
    size = lib.lame_encode_flush(gfp, buffer, len(buffer))  # call first: buffer.raw is read when evaluated
    out += buffer.raw[:size]
    lib.lame_close(gfp)
    return bytes(out)


def frames_of(data: bytes) -> list[bytes]:
    frames, position = [], 0
    while position + 4 <= len(data):
        b2 = data[position + 2]
        rate = {0: 44100, 1: 48000, 2: 32000}[(b2 >> 2) & 3]
        size = 144000 * BITRATES[b2 >> 4] // rate + ((b2 >> 1) & 1)
        frames.append(data[position : position + size])
        position += size
    return frames


def main_data_begin(frame: bytes) -> int:
    offset = 4 if frame[1] & 1 else 6  # protection bit 0: a 16-bit CRC follows the header
    return (frame[offset] << 1) | (frame[offset + 1] >> 7)


def _joinable(first: list[bytes], second: list[bytes], start_b: int, i: int) -> bool:
    """Frame i of the second stream can follow frame start_b+i-1 of the first when the reservoir bytes it
    reads (its main_data_begin) fit in the first stream's unused tail (the first stream's own next
    main_data_begin), all inside the last frame's data area."""
    cut = start_b + i
    if cut >= len(first):
        return False
    need, room = main_data_begin(second[i]), main_data_begin(first[cut])
    return need <= room and need <= len(first[cut - 1]) - 36


def info_frame(kbps: int, rate: int, frames: int, total_bytes: int, padding: int) -> bytes:
    size = 144000 * kbps // rate
    header = bytes([0xFF, 0xFB, (BITRATES.index(kbps) << 4) | (RATE_INDEX[rate] << 2), 0x40])
    toc = bytes(i * 256 // 100 for i in range(100))
    body = (
        header
        + bytes(32)
        + b"Info"
        + struct.pack(">III", 0x0F, frames, total_bytes)
        + toc
        + bytes(4)
        + b"LAME3.100"
        + bytes([1, 0])
        + bytes(8)
        + bytes([0, min(kbps, 255)])
        + ((DELAY << 12) | min(padding, 4095)).to_bytes(3, "big")
        + bytes(4)
        + struct.pack(">I", total_bytes)
        + bytes(2)
    )
    crc = 0
    for byte in body:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return body + struct.pack(">H", crc) + bytes(size - len(body) - 2)


def split_encode(planes, rate: int, kbps: int) -> tuple[bytes, dict]:
    n = len(planes[0])
    middle = n // 2 // FRAME
    start_b = middle - WARMUP
    end_a = min(n, (middle + SEARCH + 8) * FRAME)
    results = {}

    def run(name, part):
        began = time.perf_counter()
        results[name] = encode(part, rate, kbps)
        results[name + "_seconds"] = time.perf_counter() - began

    threads = [
        threading.Thread(target=run, args=("a", [p[:end_a] for p in planes])),
        threading.Thread(target=run, args=("b", [p[start_b * FRAME :] for p in planes])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = frames_of(results["a"]), frames_of(results["b"])
    seam = next(
        (i for i in range(WARMUP, min(len(second), WARMUP + SEARCH)) if _joinable(first, second, start_b, i)),
        None,
    )
    if seam is None:
        raise RuntimeError("no frame near the middle where the bit reservoirs can be joined")
    cut = start_b + seam
    borrowed = main_data_begin(second[seam])
    last = bytearray(first[cut - 1])
    if borrowed:  # the reservoir bytes the second stream's frame reads go where the first stream left room
        last[-borrowed:] = second[seam - 1][-borrowed:]
    joined = first[: cut - 1] + [bytes(last)] + second[seam:]
    audio = b"".join(joined)
    tag_size = 144000 * kbps // rate
    padding = len(joined) * FRAME - DELAY - n
    data = info_frame(kbps, rate, len(joined), tag_size + len(audio), padding) + audio
    return data, {
        "seam_frame": start_b + seam,
        "frames_searched": seam - WARMUP + 1,
        "borrowed_bytes": borrowed,
        "encoder_seconds": [round(results["a_seconds"], 3), round(results["b_seconds"], 3)],
    }


def main() -> None:
    from . import checks

    source, output = sys.argv[1:3]
    pcm, rate = checks.decode_pcm(source)
    planes = [pcm[0], pcm[1]]
    began = time.perf_counter()
    whole = encode(planes, rate, 192)
    single_seconds = time.perf_counter() - began
    began = time.perf_counter()
    data, seam = split_encode(planes, rate, 192)
    split_seconds = time.perf_counter() - began
    with open(output, "wb") as fh:
        fh.write(data)
    single_path = output + ".single.mp3"
    n = len(planes[0])
    frames = frames_of(whole)
    with open(single_path, "wb") as fh:
        fh.write(
            info_frame(192, rate, len(frames), 576 + len(whole), len(frames) * FRAME - DELAY - n) + whole
        )
    decoded, _ = checks.decode_pcm(output)
    single, _ = checks.decode_pcm(single_path)
    seam_sample = seam["seam_frame"] * FRAME - DELAY
    around = slice(max(0, seam_sample - 2 * FRAME), seam_sample + 2 * FRAME)
    seam_error = float(np.sqrt(np.mean((decoded[:, around] - pcm[:, around]) ** 2)))
    single_error = float(np.sqrt(np.mean((single[:, around] - pcm[:, around]) ** 2)))
    print(
        json.dumps(
            {
                "single_encoder_seconds": round(single_seconds, 3),
                "two_halves_seconds": round(split_seconds, 3),
                "speedup": round(single_seconds / split_seconds, 2),
                **seam,
                "decoded_samples": int(decoded.shape[1]),
                "source_samples": int(n),
                "snr_db": {
                    "two_halves": checks.snr_against(pcm, output),
                    "single": checks.snr_against(pcm, single_path),
                    "two_halves_at_seam": checks.snr_against(
                        pcm, output, window=(max(0.0, seam_sample / rate - 0.5), seam_sample / rate + 0.5)
                    ),
                    "single_at_seam": checks.snr_against(
                        pcm,
                        single_path,
                        window=(max(0.0, seam_sample / rate - 0.5), seam_sample / rate + 0.5),
                    ),
                },
                "rms_error_near_seam": {"two_halves": round(seam_error, 6), "single": round(single_error, 6)},
            }
        )
    )


if __name__ == "__main__":
    main()
