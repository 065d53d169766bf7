"""Issue 20's cases: hour-long inputs, warm and cold, copied and transcoded.

Called from ``benchmarks/run.py`` (``--only long_inputs``); every ratio is against Debian's
ffmpeg CLI in the same rounds. The transcodes run one round each: an hour of MP3 takes about a
minute per tool on these shared machines.
"""

from __future__ import annotations

import statistics

from . import checks, procs


def copy_hour_warm(bench, interleave, ffmpeg, vax) -> None:
    src = bench.paths["rec_1hour"]
    res = interleave(
        {
            "ffmpeg": ffmpeg("-i", src, "-vn", "-c:a", "copy", bench.out("hour_ref.m4a")),
            "vax": vax(src, "-o", bench.out("hour_vax.m4a")),
            "vax_verify_full": vax(src, "--verify", "full", "-o", bench.out("hour_vax_full.m4a")),
        },
        bench.rounds(3),
    )
    entry = bench.record("copy_1hour_rec", res, "ffmpeg")
    entry["check"] = checks.copy_checks(bench.out("hour_vax.m4a"), bench.out("hour_ref.m4a"), src)


def copy_joined_cold(bench, interleave, ffmpeg, vax) -> None:
    """The joined file (it declares less than it holds) with its pages evicted before each run."""
    src = bench.paths["joined_1hour_720p"]

    def cold(argv):
        def run():
            procs.evict(src)
            return procs.checked(argv)

        return run

    res = interleave(
        {
            "ffmpeg": cold(ffmpeg("-i", src, "-vn", "-c:a", "copy", bench.out("joined_ref.m4a"))),
            "vax": cold(vax(src, "-o", bench.out("joined_vax.m4a"))),
        },
        bench.rounds(2),
        warmup=False,
    )
    entry = bench.record("cold_joined_1hour_720p", res, "ffmpeg")
    entry["read_bytes"] = {k: statistics.median([s.read_bytes or 0 for s in v]) for k, v in res.items()}
    entry["file_bytes"] = src.stat().st_size


def hour_transcodes(bench, interleave, ffmpeg, vax) -> None:
    src = bench.paths["rec_1hour"]
    for fmt, ff_args, vax_args in (
        ("wav", [], []),
        ("flac", [], []),
        ("mp3", ["-b:a", "192k"], ["--bitrate", "192k"]),
    ):
        res = interleave(
            {
                "ffmpeg": ffmpeg("-i", src, "-vn", *ff_args, bench.out(f"hour_ref.{fmt}")),
                "vax": vax(src, "-f", fmt, *vax_args, "-o", bench.out(f"hour_vax.{fmt}")),
            },
            1,
            warmup=False,
        )
        bench.record(f"{fmt}_1hour_rec", res, "ffmpeg")
