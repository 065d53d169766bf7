"""Shared pieces of the library tests: a tree of tiny generated media with repeated names, and
task wrappers that misbehave on purpose (importable by worker processes, so module-level)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from extractor.library.tasks import extract_file
from fixtures.generate import Tone, Video, make_media

# (relative path, tone Hz): the same names in several folders, two stems shared in one folder.
TREE = [
    ("DCIM/100/CLIP0001.mp4", 330.0),
    ("DCIM/101/CLIP0001.mp4", 440.0),
    ("DCIM/101/CLIP0002.mp4", 550.0),
    ("DCIM/101/CLIP0002.mkv", 660.0),
    ("talks/2024/day1.mov", 770.0),
    ("talks/day1.wav", 880.0),
]


def make_tree(root: Path, tree=TREE, duration: float = 0.5) -> dict[str, float]:
    """The media of ``tree`` under root, plus a text file and a fake video; path -> tone."""
    tones = {}
    for rel, freq in tree:
        path = root / rel
        audio_only = path.suffix == ".wav"
        make_media(path, duration=duration, tones=[Tone(freq, "pcm_s16le" if audio_only else "aac")],
                   video=None if audio_only else Video(width=32, height=24, fps=5))
        tones[str(path)] = freq
    extras = root / Path(tree[0][0]).parent
    (extras / "notes.txt").write_text("not media")
    (extras.parent / "broken.mp4").write_bytes(b"not really a video" * 10)
    return tones


VICTIM = "CLIP0002.mkv"


def dies_once_mid_write(job: dict, stop=None) -> dict:
    """The first attempt at VICTIM leaves a half-written temporary file and kills its worker
    (SIGKILL: no cleanup runs), as a worker lost mid-write would; the next attempt runs normally."""
    marker = Path(job["folder"]) / f"{job['base']}.attempted"
    if Path(job["input"]).name != VICTIM:
        return extract_file(job, stop)
    if not marker.exists():
        Path(job["folder"]).mkdir(parents=True, exist_ok=True)
        marker.write_text("1")
        (Path(job["folder"]) / f".{job['base']}.vax-part-dead0000.m4a").write_bytes(b"half")
        os.kill(os.getpid(), signal.SIGKILL)
    marker.unlink()
    return extract_file(job, stop)


def crashes_on_day1(job: dict, stop=None) -> dict:
    """Stands in for a file that crashes the decoder (no real one is at hand): every attempt at
    a source named day1.* ends its process at once, as a segfault in FFmpeg would."""
    if Path(job["input"]).stem == "day1":
        os._exit(139)
    return extract_file(job, stop)
