"""Batch speed-up: 8 three-minute videos with --jobs 2 against the same files one after
another (--jobs 1), in the same run, rounds interleaved, medians.

Each timing is a whole `vax extract` process as a user runs it (start-up, probing,
workers, verification, summary). The baseline (--jobs 1) runs the jobs one after another
in one process, which is the fairest serial figure: no per-file start-up cost to hide behind.
The inputs are made once and cached outside the repository.

    python -m benchmarks.batch_bench                      # MP3 and FLAC, 3 rounds
    python -m benchmarks.batch_bench --formats auto,mp3 --rounds 5

Not a test: the figure depends on the machine and on what else it is doing; the load
average before and after is printed with the result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(os.environ.get("VAX_BENCH_CACHE", Path.home() / ".cache" / "vax-bench")) / "batch-bench-v1"
FILES = 8
MINUTES = 3
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def inputs() -> list[Path]:
    """8 three-minute MP4s (small H.264 picture, AAC 128 kb/s stereo, a different tone each)."""
    from fixtures.generate import Tone, Video, make_media

    CACHE.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(FILES):
        path = CACHE / f"talk_{i}.mp4"
        if not path.exists():
            print(f"making {path} ...", file=sys.stderr)
            partial = path.with_name(f".{path.name}.part.mp4")
            make_media(partial, duration=MINUTES * 60.0, tones=[Tone(220 + 55 * i, bitrate=128_000)],
                       video=Video(width=320, height=180, fps=10))
            partial.rename(path)
        paths.append(path)
    return paths


def machine_busy_seconds() -> float:
    """CPU seconds every core has spent busy since boot (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of the finished child processes (vax, its fork server and workers: each reaps its own)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_batch(files: list[Path], fmt: str, jobs: int) -> tuple[float, float]:
    """(wall time, cores used by other processes meanwhile) of one `vax extract` of every file."""
    out = Path(tempfile.mkdtemp(prefix="vax-batch-bench-"))
    command = [sys.executable, "-c", "from extractor.cli import main; main()", "extract", *map(str, files), "-f", fmt,
               "-o", f"{out}/", "--jobs", str(jobs), "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    try:
        busy, own = machine_busy_seconds(), own_cpu_seconds()
        started = time.perf_counter()
        proc = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        others = max(0.0, (machine_busy_seconds() - busy) - (own_cpu_seconds() - own)) / elapsed
        if proc.returncode != 0:
            raise SystemExit(f"vax failed ({proc.returncode}): {proc.stderr.strip()}")
        written = sorted(os.listdir(out))
        if len(written) != len(files):
            raise SystemExit(f"expected {len(files)} outputs, found {written}")
        return elapsed, others
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="mp3,flac", help="comma-separated -f values (auto = stream copy)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers to compare with --jobs 1")
    args = parser.parse_args(argv)

    files = inputs()
    print(f"{FILES} x {MINUTES}-minute MP4 (AAC), {os.cpu_count()} cores; "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for fmt in args.formats.split(","):
        serial, parallel, others = [], [], []
        run_batch(files[:2], fmt, 1)  # warm the page cache and the imports
        for _ in range(args.rounds):
            for jobs, times in ((1, serial), (args.jobs, parallel)):
                elapsed, busy_elsewhere = run_batch(files, fmt, jobs)
                times.append(elapsed)
                others.append(busy_elsewhere)
        one, many = statistics.median(serial), statistics.median(parallel)
        print(f"-f {fmt:<5} jobs=1 median {one:6.2f}s  jobs={args.jobs} median {many:6.2f}s  "
              f"speed-up {one / many:.2f}x (best of each: {min(serial) / min(parallel):.2f}x)   "
              f"(jobs=1 {_list(serial)}; jobs={args.jobs} {_list(parallel)}; "
              f"cores used by other processes meanwhile: median {statistics.median(others):.2f}, "
              f"max {max(others):.2f})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
