"""The goals of issue 20, each measured against Debian's ffmpeg CLI in the same rounds.

Every case runs vax through its CLI, as a user would, so whatever the engine does by then
(segment encoders, copy-path speedups) is what is measured. Each case also times what bounds
it, in the same rounds: Python with `import av` doing nothing, and a minimal PyAV copy loop
(benchmarks/hinted_copy.py) on the same file, so a missed goal comes with its floor.

A case stores raw figures and a list of goals ({label, goal, candidate, reference, limit,
bounds}); benchmarks/goal_table.py turns them into the table of RESULTS.md.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from . import checks, procs

ROOT = Path(__file__).resolve().parent.parent
CORES = 2  # the "two cores"; the machine's own count is in the report's header
LINEAR_SLACK = 1.15  # seconds per input hour may grow this much from 1 h to 10 h and still be linear
RSS_LIMIT_MB = 80


def goal(label, goal_text, candidate, reference, limit, bounds=(), note=""):
    return {"label": label, "goal": goal_text, "candidate": candidate, "reference": reference,
            "limit": limit, "bounds": list(bounds), "note": note}


def python(*args, cold: Path | None = None, **kw):
    """A Python command from the repository (so `-m benchmarks.x` resolves), optionally cold."""
    return command([bench_python(), *map(str, args)], cold=cold, cwd=str(ROOT), **kw)


def command(argv, cold: Path | None = None, evict_also=(), **kw):
    def run():
        if cold is not None:
            procs.evict(cold)
            for other in evict_also:
                evict_folder(other)
        return procs.checked(argv, **kw)

    return run


def evict_folder(folder: Path) -> None:
    for path in Path(folder).glob("*"):
        if path.is_file():
            procs.evict(path)


def bench_python() -> str:
    import sys

    return sys.executable


def last_json(samples) -> dict:
    """The --json result vax printed in its last round (notes say whether segments were used)."""
    for sample in reversed(samples):
        for line in reversed(sample.stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {}


def vax_facts(samples) -> dict:
    result = last_json(samples)
    verification = result.get("verification") or {}
    return {"notes": result.get("notes"), "samples": verification.get("samples"),
            "duration": verification.get("duration"), "declared_duration": verification.get("declared_duration"),
            "method": verification.get("method")}


# -- cases ----------------------------------------------------------------------------------


def copy_3min(bench, interleave, ffmpeg, vax) -> None:
    src = bench.paths["mp4_3min_720p"]
    res = interleave(
        {
            "ffmpeg": ffmpeg("-i", src, "-vn", "-c:a", "copy", bench.out("g3_ref.m4a")),
            "vax": vax(src, "-o", bench.out("g3_vax.m4a")),
            "python_import_av": python("-c", "import av"),
            "pyav_copy_loop": python("-m", "benchmarks.hinted_copy", src, bench.out("g3_pyav.m4a")),
        },
        bench.rounds(7),
    )
    vax_seconds = statistics.median(s.wall for s in res["vax"])
    floor = statistics.median(s.wall for s in res["python_import_av"])
    bench.record(
        "goal_copy_3min_720p", res, "ffmpeg",
        check=checks.copy_checks(bench.out("g3_vax.m4a"), bench.out("g3_ref.m4a"), src),
        goals=[goal("copy, 3-minute 720p MP4, whole process", "<= 1.5x", "vax", "ffmpeg", 1.5,
                    ["python_import_av", "pyav_copy_loop"])],
        cloud={"cloud_seconds": bench.cloud_seconds, "vax_seconds": vax_seconds, "speedup": bench.cloud_seconds /
               vax_seconds, "floor_seconds": floor, "floor_speedup": bench.cloud_seconds / floor, "limit": 100},
    )


def batch(bench, interleave, ffmpeg, vax) -> None:
    files = [bench.paths[f"batch_{i}"] for i in range(8)]
    outdir = bench.out("gbatch")
    outdir.mkdir(exist_ok=True)
    names = [f.stem for f in files]
    quoted = " ".join(f"'{f}'" for f in files)
    loop = (f"for f in {quoted}; do ffmpeg -nostdin -v error -y -i \"$f\" -vn -c:a copy "
            f"'{outdir}'/ref_$(basename \"$f\" .mp4).m4a || exit 1; done")
    xargs = (f'printf "%s\\n" {quoted} | xargs -P2 -I{{}} sh -c \'ffmpeg -nostdin -v error -y -i "$1" -vn '
             f'-c:a copy "{outdir}/x_$(basename "$1" .mp4).m4a"\' _ {{}}')
    pairs = [str(a) for f, n in zip(files, names) for a in (f, outdir / f"py_{n}.m4a")]
    py = f"'{bench_python()}' -m benchmarks.hinted_copy"
    halves = f"{py} {' '.join(pairs[:8])} & {py} {' '.join(pairs[8:])} & wait"
    res = interleave(
        {
            "ffmpeg_loop": loop,
            "ffmpeg_xargs_P2": xargs,
            "vax_one_call": vax(*files, "-o", f"{outdir}/", "--jobs", str(CORES)),
            "pyav_copy_loop_one_process": python("-m", "benchmarks.hinted_copy", *pairs),
            "pyav_copy_loop_two_processes": command(["sh", "-c", halves], cwd=str(ROOT)),
        },
        bench.rounds(3),
    )
    bounds = ["pyav_copy_loop_one_process", "pyav_copy_loop_two_processes"]
    bench.record(
        "goal_batch_8x3min_720p", res, "ffmpeg_loop",
        check=checks.copy_checks(outdir / "batch_7.m4a", outdir / "ref_batch_7.m4a", files[7]),
        goals=[
            goal("8 files, one `vax extract` call vs a shell loop of ffmpeg", "<= 0.45x", "vax_one_call",
                 "ffmpeg_loop", 0.45, bounds, f"vax run with --jobs {CORES}"),
            goal("8 files, one `vax extract` call vs `xargs -P2` ffmpeg", "<= 0.9x", "vax_one_call",
                 "ffmpeg_xargs_P2", 0.9, bounds, f"vax run with --jobs {CORES}"),
        ],
    )


def copy_hour_warm(bench, interleave, ffmpeg, vax) -> None:
    src = bench.paths["rec_1hour"]
    res = interleave(
        {
            "ffmpeg": ffmpeg("-i", src, "-vn", "-c:a", "copy", bench.out("gh_ref.m4a")),
            "vax": vax(src, "-o", bench.out("gh_vax.m4a"), "--json"),
            "vax_verify_full": vax(src, "--verify", "full", "-o", bench.out("gh_full.m4a")),
            "pyav_copy_loop": python("-m", "benchmarks.hinted_copy", src, bench.out("gh_pyav.m4a")),
        },
        bench.rounds(3),
    )
    bench.record(
        "goal_copy_1hour_rec_warm", res, "ffmpeg",
        vax_result=vax_facts(res["vax"]),
        check=streaming_copy_checks(bench.out("gh_vax.m4a"), bench.out("gh_ref.m4a"), src),
        goals=[goal("copy, 1-hour recording (AAC 128k, small video), warm", "<= 1.2x", "vax", "ffmpeg", 1.2,
                    ["pyav_copy_loop", "vax_verify_full"])],
    )


def copy_joined_cold(bench, interleave, ffmpeg, vax) -> None:
    """The 1.8 GB joined file (it declares less than it holds), its pages and those of the output
    folder evicted before each run, so every run reads from storage."""
    src = bench.paths["joined_1hour_720p"]
    outdir = bench.out("gcold")
    outdir.mkdir(exist_ok=True)

    def cold(argv):
        return command(argv, cold=src, evict_also=[outdir])

    res = interleave(
        {
            "ffmpeg": cold(ffmpeg("-i", src, "-vn", "-c:a", "copy", outdir / "ref.m4a")),
            "vax": cold(vax(src, "-o", outdir / "vax.m4a", "--json")),
            "pyav_copy_loop": python("-m", "benchmarks.hinted_copy", src, outdir / "pyav.m4a", cold=src,
                                     evict_also=[outdir]),
        },
        bench.rounds(3),
        warmup=False,
    )
    bench.record(
        "goal_copy_joined_1hour_720p_cold", res, "ffmpeg",
        vax_result=vax_facts(res["vax"]),
        read_bytes={k: statistics.median([s.read_bytes or 0 for s in v]) for k, v in res.items()},
        file_bytes=src.stat().st_size,
        cached_after_eviction=_cached_after_eviction(src),
        check=streaming_copy_checks(outdir / "vax.m4a", outdir / "ref.m4a", src),
        goals=[goal(f"copy, {src.stat().st_size / 1e9:.1f} GB 1-hour 720p MP4 (joined from 20 parts), cold cache",
                    "<= 0.6x", "vax", "ffmpeg", 0.6, ["pyav_copy_loop"],
                    "input and output folder evicted with posix_fadvise(DONTNEED) before each run")],
    )


def _cached_after_eviction(path: Path) -> float | None:
    """Proof that the eviction works here: the share of the file still cached right after it."""
    procs.evict(path)
    return procs.cached_fraction(path)


TRANSCODES = (
    ("mp3", ["-b:a", "192k"], ["--bitrate", "192k"], 0.6),
    ("flac", [], [], 0.6),
    ("wav", [], [], 0.8),
)


def hour_transcodes(bench, interleave, ffmpeg, vax) -> None:
    src = bench.paths["rec_1hour"]
    source_count = checks.count_samples(src)
    for fmt, ff_args, vax_args, limit in TRANSCODES:
        ref, out = bench.out(f"gh_ref.{fmt}"), bench.out(f"gh_vax.{fmt}")
        load = os.getloadavg()
        res = interleave(
            {
                "ffmpeg": ffmpeg("-i", src, "-vn", *ff_args, ref),
                "vax": vax(src, "-f", fmt, *vax_args, "-o", out, "--json"),
            },
            bench.rounds(2),
            warmup=False,
        )
        facts = vax_facts(res["vax"])
        if fmt == "mp3":
            check = {
                "vax_vs_source": checks.snr_streaming(src, out),
                "ffmpeg_vs_source": checks.snr_streaming(src, ref),
                "vax_samples": checks.count_samples(out)["samples"],
                "ffmpeg_samples": checks.count_samples(ref)["samples"],
            }
        else:
            check = {
                "vax_vs_source": checks.compare_streaming(out, src),
                "vax_vs_ffmpeg": checks.compare_streaming(out, ref),
            }
        check["source_samples"] = source_count["samples"]
        bench.record(
            f"goal_{fmt}_1hour_rec", res, "ffmpeg",
            vax_result=facts, loadavg_before=load, check=check,
            goals=[goal(f"1-hour recording to {fmt.upper()}{' 192k' if fmt == 'mp3' else ''}, two cores",
                        f"<= {limit}x", "vax", "ffmpeg", limit, ["vax_cpu_over_cores"])],
        )


LONG = (("audio_1hour", 1), ("audio_3hour", 3), ("audio_10hour", 10))
OPEN = "import av, sys; av.open(sys.argv[1])"


def long_flac(bench, interleave, ffmpeg, vax) -> None:
    """Audio-only inputs of 1, 3 and 10 hours to FLAC: memory flat, time linear. The output of
    each is counted back (decoded) against the input's decoded length."""
    rows = {}
    for name, hours in LONG:
        src = bench.paths[name]
        out = bench.out(f"long_{hours}h.flac")
        load = os.getloadavg()
        sample = procs.checked(vax(src, "-f", "flac", "-o", out, "--json"), tree=True)
        rows[hours] = {
            "seconds": sample.wall,
            "cpu_seconds": sample.cpu,
            "seconds_per_input_hour": sample.wall / hours,
            "maxrss_mb": sample.maxrss_mb,
            "tree_rss_mb": sample.tree_rss_mb,
            "tree_pss_mb": sample.tree_pss_mb,
            "loadavg_before": load,
            "vax_result": vax_facts([sample]),
            "output_samples": checks.count_samples(out)["samples"],
            "source_samples": checks.count_samples(src)["samples"],
            "output_bytes": out.stat().st_size,
            # What bounds the memory: opening the input at all (the MP4 demuxer holds the whole
            # sample index), and ffmpeg's own stream copy of it.
            "pyav_open_maxrss_mb": procs.checked([bench_python(), "-c", OPEN, str(src)]).maxrss_mb,
            "ffmpeg_copy_maxrss_mb": procs.checked(ffmpeg("-i", src, "-c", "copy", "-f", "null", "-")).maxrss_mb,
        }
        print(f"  FLAC {hours} h: {sample.wall:.1f} s ({sample.wall / hours:.1f} s per hour), "
              f"peak RSS {sample.maxrss_mb:.0f} MB, tree {sample.tree_pss_mb or 0:.0f} MB PSS", flush=True)
        out.unlink()  # 10 hours of FLAC is gigabytes
    bench.cases["goal_long_flac"] = {
        "by_hours": rows,
        "rss_limit_mb": RSS_LIMIT_MB,
        "linear_slack": LINEAR_SLACK,
        "import_av_maxrss_mb": procs.checked([bench_python(), "-c", "import av"]).maxrss_mb,
    }


def streaming_copy_checks(vax_output, ffmpeg_output, source) -> dict:
    return {
        "vax_vs_source": checks.compare_streaming(vax_output, source),
        "ffmpeg_vs_source": checks.compare_streaming(ffmpeg_output, source),
    }


CASES = ["copy_3min", "batch", "copy_hour_warm", "copy_joined_cold", "hour_transcodes", "long_flac"]
