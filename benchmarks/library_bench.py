"""The media library's figures: scan rate, extraction through the library against `vax extract
--jobs 2` and `xargs -P2 ffmpeg`, and the engines' own cost per task. Not part of the tests.

    python -m benchmarks.library_bench [--scan-files 2000] [--long-files 200] [--tiny-tasks 10000]
                                       [--minutes 3] [--engines local,dask] [--out DIR]

Inputs: one generated file copied N times into nested folders with repeated names (the scan
and the engines do the same work for every copy; only the paths differ). Each case is timed
once, wall clock, after a warm-up where it matters; the machine is shared, so compare the
ratios of figures taken in the same run. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VAX = str(Path(sys.executable).parent / "vax")


def noop(_n: int) -> dict:
    """The cheapest task there is: what is left is the engine's own cost."""
    return {"status": "ok"}


def _copies(src: Path, root: Path, count: int, per_folder: int = 100, unique: bool = False) -> list[Path]:
    paths = []
    for n in range(count):
        name = f"clip{n if unique else n % per_folder:05d}{src.suffix}"
        path = root / f"disk{n // (per_folder * 10)}" / f"day{(n // per_folder) % 10:02d}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, path)
        paths.append(path)
    return paths


def bench_scan(work: Path, count: int, engine_name: str) -> dict:
    from extractor.library.catalog import Catalog
    from extractor.library.engines import make_engine
    from extractor.library.scan import scan
    from fixtures.generate import Tone, make_media

    src = make_media(work / "tiny.mp4", duration=0.5, tones=[Tone(440.0, "aac")])
    root = work / f"scan-{engine_name}"
    _copies(src, root, count)
    engine = make_engine(engine_name, workers=2)
    try:
        catalog = Catalog(work / f"scan-{engine_name}.db")
        started = time.perf_counter()
        first = scan(catalog, [str(root)], engine)
        probed = time.perf_counter() - started
        started = time.perf_counter()
        again = scan(catalog, [str(root)], engine)
        rescan = time.perf_counter() - started
        catalog.close()
    finally:
        engine.close()
    assert first.probed == count and again.unchanged == count
    return {"files": count, "first_scan_s": round(probed, 2), "first_files_per_s": round(count / probed, 1),
            "rescan_s": round(rescan, 3), "rescan_files_per_s": round(count / rescan, 1)}


def _timed(cmd, **kw) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - started


def bench_long(work: Path, count: int, minutes: float) -> dict:
    from fixtures.generate import Tone, Video, make_media

    src = make_media(work / "long.mp4", duration=60 * minutes, tones=[Tone(440.0, "aac", bitrate=128000)],
                     video=Video(width=320, height=180, fps=25))
    root = work / "long"
    _copies(src, root, count, per_folder=20, unique=True)  # unique names: the baselines write one flat folder
    figures = {"files": count, "minutes_each": minutes, "bytes_each": src.stat().st_size}
    cmds = {
        "library_dask": lambda out: _library(work, root, out, "dask"),
        "library_local": lambda out: _library(work, root, out, "local"),
        "vax_extract_jobs2": lambda out: _timed([VAX, "extract", str(root), "-r", "--jobs", "2", "-q", "-o", f"{out}/"]),
        "xargs_P2_ffmpeg": lambda out: _timed(
            ["sh", "-c", (f"find {root} -name '*.mp4' | xargs -P2 -I{{}} sh -c "
             f"'ffmpeg -nostdin -v error -y -i {{}} -vn -c:a copy {out}/$(basename {{}} .mp4).m4a'")]),
    }
    for name, run in cmds.items():
        out = work / f"out-{name}"
        out.mkdir()
        seconds = run(out)
        if seconds is not None:
            figures[f"{name}_s"] = round(seconds, 2)
            figures[f"{name}_outputs"] = sum(1 for p in out.rglob("*.m4a"))
        shutil.rmtree(out)
    return figures


def _library(work: Path, root: Path, out: Path, engine: str) -> float:
    db = work / f"long-{engine}.db"
    subprocess.run([VAX, "library", "scan", str(root), "--catalog", str(db), "--engine", "local", "-q"], check=True)
    return _timed([VAX, "library", "extract", "--catalog", str(db), "-o", str(out), "--engine", engine,
                   "--workers", "2", "-q"])


def bench_overhead(count: int, engine_name: str) -> dict:
    from extractor.library.engines import make_engine

    engine = make_engine(engine_name, workers=2)
    try:
        list(engine.run(noop, [(str(n), (n,)) for n in range(min(count, 200))]))  # warm-up
        started = time.perf_counter()
        results = list(engine.run(noop, [(str(n), (n,)) for n in range(count)]))
        seconds = time.perf_counter() - started
    finally:
        engine.close()
    assert len(results) == count
    return {"tasks": count, "seconds": round(seconds, 2), "per_task_ms": round(1000 * seconds / count, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan-files", type=int, default=2000)
    parser.add_argument("--long-files", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--tiny-tasks", type=int, default=10000)
    parser.add_argument("--engines", default="local,dask")
    parser.add_argument("--only", default="scan,long,overhead")
    parser.add_argument("--out", help="a folder for the inputs (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="vax-library-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict = {"cores": len(os.sched_getaffinity(0)), "load_before": os.getloadavg()[0]}
    try:
        for engine in engines:
            if "scan" in args.only:
                figures[f"scan_{engine}"] = bench_scan(work, args.scan_files, engine)
            if "overhead" in args.only:
                figures[f"overhead_{engine}"] = bench_overhead(args.tiny_tasks, engine)
        if "long" in args.only:
            figures["long"] = bench_long(work, args.long_files, args.minutes)
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)
    figures["load_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
