"""`make bench`: vax against Debian's ffmpeg CLI (and moviepy, pydub), side by side, in one run.

Method: inputs cached outside the repository (benchmarks/inputs.py); per case a warm-up,
then rounds in which the reference and each candidate run back to back (A/B interleaved,
order alternating), so a noisy shared machine slows both alike; medians with min-max, and
ratios from the same rounds. Every output is checked: copies against the source track's
decoded PCM (and ffmpeg's copy beside it), PCM outputs against ffmpeg's, MP3s by their SNR
against the source. Processes are measured through launch.py (wall, CPU, peak RSS, bytes).

Issue 20's goals come first (benchmarks/goal_cases.py), then the older cases.

    python -m benchmarks.run [--quick] [--out DIR] [--only NAME ...] [--list]
    make bench BENCH_ARGS="--only goals"        # a group: goals, others
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import goal_cases, inputs, procs
from .common import CLOUD_SECONDS, HERE, ffmpeg, interleave, ratio_rounds, summary, vax, walls
from .older_cases import OlderCases


class Bench(OlderCases):
    def __init__(self, paths: dict[str, Path], work: Path, quick: bool):
        self.paths = paths
        self.work = work
        self.quick = quick
        self.cases: dict[str, dict] = {}
        self.source_pcm = None
        self.cloud_seconds = CLOUD_SECONDS

    def rounds(self, normal: int) -> int:
        return max(1, normal // 3) if self.quick else normal

    def out(self, name: str) -> Path:
        return self.work / name

    def record(self, case: str, results: dict[str, list[procs.Sample]], reference: str, **extra) -> dict:
        entry = {
            "times": {k: summary(walls(v)) for k, v in results.items()},
            "cpu_seconds": {
                k: summary([s.cpu for s in v])
                for k, v in results.items()
                if all(isinstance(s, procs.Sample) for s in v)
            },
            "maxrss_mb": {k: max(s.maxrss_mb for s in v) for k, v in results.items()},
            "reference": reference,
            "ratios": {
                k: summary(ratio_rounds(v, results[reference])) for k, v in results.items() if k != reference
            },
        }
        entry.update(extra)
        self.cases[case] = entry
        print(
            f"  {case}: "
            + ", ".join(f"{k} {entry['times'][k]['median']:.3f}s" for k in results)
            + "; "
            + ", ".join(f"{k}/{reference} {r['median']:.2f}x" for k, r in entry["ratios"].items()),
            flush=True,
        )
        return entry

    # -- cases ----------------------------------------------------------------------------
    def goal(self, name: str) -> None:
        getattr(goal_cases, name)(self, interleave, ffmpeg, vax)

def machine() -> dict:
    import av

    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.splitlines()[0]
        except (OSError, IndexError):
            return None

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gb": round(int(mem) / 1024 / 1024, 1),
        "os": first_line(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
        "python": platform.python_version(),
        "pyav": av.__version__,
        "pyav_ffmpeg": av.library_versions.get("libavformat"),
        "ffmpeg_cli": first_line(["ffmpeg", "-version"]),
        "loadavg_at_start": os.getloadavg(),
    }


GROUPS = {
    "goals": [f"goal_{name}" for name in goal_cases.CASES],
    # Older cases still worth their time; mp3_two_halves (the experiment the segment encoders
    # grew from) runs only when asked for.
    "others": [
        "startup",
        "copy_whole_process",
        "copy_in_process",
        "pcm_cases",
        "mp3_case",
        "bytes_read",
        "cold_cache",
        "containers",
        "scaling",
        "remote",
    ],
    "experiments": ["mp3_two_halves"],
}


def _chosen(names: list[str]) -> list[str]:
    known = {n for group in GROUPS.values() for n in group}
    chosen = []
    for name in names:
        for member in GROUPS.get(name, [name]):
            if member not in known:
                sys.exit(f"bench: no case {member!r} (see --list)")
            if member not in chosen:
                chosen.append(member)
    return chosen


class _OnDemand(dict):
    """Input paths built on first use."""

    def __missing__(self, name: str) -> Path:
        self[name] = inputs.ensure([name])[name]
        return self[name]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--out", default=str(HERE / "results"), help="where raw JSON goes")
    parser.add_argument("--only", nargs="*", help="run only these cases or groups (see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and groups, run nothing")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        sys.exit("bench: Debian's ffmpeg CLI is the reference; install it (apt-get install -y ffmpeg)")

    if args.list:
        print("\n".join(f"{group}: {' '.join(names)}" for group, names in GROUPS.items()))
        return
    chosen = _chosen(args.only or ["goals", "others"])
    started = time.perf_counter()
    # A run of a few cases (--only) builds only the inputs those cases open.
    paths = _OnDemand() if args.only else inputs.ensure()
    print(f"inputs ready in {time.perf_counter() - started:.1f}s", flush=True)
    with tempfile.TemporaryDirectory(prefix="vax-bench-") as work:
        bench = Bench(paths, Path(work), args.quick)
        for name in chosen:
            print(f"- {name}", flush=True)
            if name in GROUPS["goals"]:
                bench.goal(name.removeprefix("goal_"))
            else:
                getattr(bench, name)()
    result = {
        "machine": machine(),
        "inputs": {k: {"path_name": v.name, "bytes": v.stat().st_size} for k, v in paths.items()},
        "cloud_seconds": CLOUD_SECONDS,
        "cases": bench.cases,
        "elapsed_seconds": round(time.perf_counter() - started, 1),
        "quick": args.quick,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"raw results: {out / 'results.json'} ({result['elapsed_seconds']} s)")


if __name__ == "__main__":
    main()
