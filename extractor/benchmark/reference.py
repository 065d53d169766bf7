"""Debian's ffmpeg CLI as the local reference: the same plan as one ffmpeg command, timed.

The command is what `make bench` runs for the same job (`-vn`, the plan's track, `-c:a copy`
for a copy, else the plan's codec, rate, channels and bitrate), so the figures agree. It
times the whole ffmpeg process, start-up included, while vax's figure is its job inside an
already running process: a fair comparison for a batch, slightly kind to vax for one file.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from extractor.errors import UsageError

INSTALL_HINT = "install it with: sudo apt-get install ffmpeg (Debian/Ubuntu), or use --remote"
# Encoders by the names Debian's ffmpeg gives them (the wheel's native Vorbis is experimental).
ENCODERS = {"mp3": "libmp3lame", "opus": "libopus", "vorbis": "libvorbis"}


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def why_not(plan) -> str | None:
    """Why ffmpeg cannot stand in for this plan, if so (it would need a different job)."""
    if plan.spec.loudness is not None:
        return "loudness normalisation is two-pass in vax; one ffmpeg command is not the same job"
    return None


def command(plan, output: Path, ffmpeg: str = "ffmpeg") -> list[str]:
    """The ffmpeg command for ``plan`` (-y only when the job may overwrite; the caller checked)."""
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y" if plan.spec.overwrite else "-n"]
    if plan.start:
        argv += ["-ss", f"{plan.start:.6f}"]
    if plan.end is not None:
        argv += ["-to", f"{plan.end:.6f}"]
    argv += ["-i", str(plan.source.path), "-vn", "-map", f"0:{plan.track.index}"]
    if plan.is_copy:
        argv += ["-c:a", "copy"]
    else:
        argv += ["-c:a", ENCODERS.get(plan.codec, plan.codec), "-ar", str(plan.sample_rate),
                 "-ac", str(plan.channels)]
        if plan.bitrate:
            argv += ["-b:a", str(plan.bitrate)]
    argv += ["-f", plan.format.muxer, str(output)]
    return argv


def run_ffmpeg(plan, output: Path) -> float:
    """Run the reference command; its wall time in seconds. Raises UsageError when it fails."""
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        raise UsageError("Debian's ffmpeg CLI is not installed", hint=INSTALL_HINT)
    argv = command(plan, output, ffmpeg)
    started = time.perf_counter()
    proc = subprocess.run(argv, check=False, capture_output=True, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise UsageError(f"ffmpeg failed on {Path(plan.source.path).name}: {said}")
    return took
