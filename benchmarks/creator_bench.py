"""Creator features against their nearest peers, in the same run, interleaved rounds, medians.

    python -m benchmarks.creator_bench [--minutes 60] [--rounds 3]

- split by chapters: `vax extract --split-chapters` (stream copy) against a loop of
  `ffmpeg -ss START -to END -i IN -c copy` per chapter (what people script today);
- split on silence: `vax extract --split-on-silence` against pydub's split_on_silence;
- loudness report: `vax loudness` against `ffmpeg -af ebur128=peak=true -f null -`.
Inputs are generated here (tones with pauses at known times, chapters every few minutes).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 48000


def _make(path: Path, minutes: float, *, codec: str, chapters: int = 0, pause_every: float = 30.0) -> Path:
    """Speech-like input: a tone with a 1.5 s pause every ``pause_every`` seconds."""
    out = av.open(str(path), "w", format="ipod" if path.suffix == ".m4a" else None)
    seconds = minutes * 60
    if chapters:
        step = seconds / chapters
        out.set_chapters([{"id": n + 1, "start": round(n * step * 1000), "end": round((n + 1) * step * 1000),
                           "time_base": Fraction(1, 1000), "metadata": {"title": f"Chapter {n + 1}"}}
                          for n in range(chapters)])
    stream = out.add_stream(codec, rate=RATE)
    stream.layout = "mono"
    block = RATE  # one second per frame batch
    for second in range(int(seconds)):
        t = (np.arange(block) + second * block) / RATE
        x = 0.3 * np.sin(2 * np.pi * 220 * t)
        if second % pause_every < 1.5:
            x[:] = 0.0
        data = x.astype(np.float32)[None, :] if codec == "aac" else (x * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(data, format="fltp" if codec == "aac" else "s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = second * block
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return path


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def _run(args) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        print("needs Debian's ffmpeg (apt-get install ffmpeg)")
        return 2
    vax = [sys.executable, "-c", "from extractor.cli import main; main()"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        book = _make(work / "book.m4a", args.minutes, codec="aac", chapters=12)
        talk = _make(work / "talk.wav", min(args.minutes, 10.0), codec="pcm_s16le")
        from extractor.mediainfo import probe

        chapters = [{"start": c.start, "end": c.end} for c in probe(book).chapters]

        def vax_split():
            _run(vax + ["extract", str(book), "--split-chapters", "-o", f"{work}/v/", "--overwrite", "-q"])

        def ffmpeg_split():
            (work / "f").mkdir(exist_ok=True)
            for n, c in enumerate(chapters, start=1):
                end = ["-to", f"{c['end']:.3f}"] if c["end"] else []
                _run(["ffmpeg", "-y", "-v", "error", "-ss", f"{c['start']:.3f}", *end, "-i", str(book),
                      "-map", "0:a:0", "-c", "copy", str(work / "f" / f"{n:02d}.m4a")])

        def vax_silence():
            _run(vax + ["extract", str(talk), "--split-on-silence", "--min-silence", "1", "-f", "wav",
                        "-o", f"{work}/s/", "--overwrite", "-q"])

        def pydub_silence():
            from pydub import AudioSegment
            from pydub.silence import split_on_silence

            audio = AudioSegment.from_wav(str(talk))
            pieces = split_on_silence(audio, min_silence_len=1000, silence_thresh=-50, keep_silence=750)
            (work / "p").mkdir(exist_ok=True)
            for n, piece in enumerate(pieces):
                piece.export(str(work / "p" / f"{n:03d}.wav"), format="wav")

        def vax_loudness():
            _run(vax + ["loudness", str(book)])

        def ffmpeg_loudness():
            _run(["ffmpeg", "-v", "error", "-nostats", "-i", str(book), "-map", "0:a:0", "-af",
                  "ebur128=peak=true", "-f", "null", "-"])

        cases = [("split by chapters (copy)", vax_split, ffmpeg_split, "ffmpeg -ss/-to loop"),
                 ("split on silence", vax_silence, pydub_silence, "pydub split_on_silence"),
                 ("loudness report", vax_loudness, ffmpeg_loudness, "ffmpeg ebur128")]
        print(f"inputs: {args.minutes:g}-minute AAC with {len(chapters)} chapters; "
              f"{min(args.minutes, 10.0):g}-minute WAV with a pause every 30 s")
        for name, ours, theirs, peer in cases:
            times: dict[str, list[float]] = {"vax": [], peer: []}
            for _ in range(args.rounds):
                times["vax"].append(_timed(ours))
                times[peer].append(_timed(theirs))
            a, b = statistics.median(times["vax"]), statistics.median(times[peer])
            print(f"{name:<26} vax {a:6.2f} s   {peer} {b:6.2f} s   ratio {a / b:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
