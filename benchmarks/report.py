"""Turn the raw JSON of a bench run into benchmarks/RESULTS.md and a PNG chart of the ratios.

python -m benchmarks.report [results.json]
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from . import goal_table

HERE = Path(__file__).resolve().parent
MB = 1e6


def _median(case: dict, name: str) -> float:
    return case["times"][name]["median"]


def _ratio(case: dict, name: str) -> dict:
    return case["ratios"][name]


def goals(res: dict) -> list[dict]:
    """One row per goal of the issue: what was measured, the goal, pass/miss."""
    c = res["cases"]
    rows = []

    def add(case, measured, goal, ok, note=""):
        rows.append({"case": case, "measured": measured, "goal": goal, "pass": ok, "note": note})

    def ratio_row(label, key, name, limit, note=""):
        if key not in c:
            return
        r = _ratio(c[key], name)
        add(
            label,
            f"{r['median']:.2f}x (min {r['min']:.2f}, max {r['max']:.2f})",
            f"<= {limit}x",
            r["median"] <= limit,
            note,
        )

    _speed_goals(res, c, add, ratio_row)
    _resource_goals(res, c, add, ratio_row)
    return rows


def _speed_goals(res, c, add, ratio_row) -> None:
    ratio_row("copy 3-min 1080p MP4, `vax extract` whole process vs ffmpeg", "copy_3min_mp4", "vax", 1.5)
    if "copy_3min_in_process" in c:
        share = c["copy_3min_in_process"].get("verification_share", {}).get("median")
        ratio_row(
            "the same copy in-process (`extract()`) vs ffmpeg `-benchmark` rtime",
            "copy_3min_in_process",
            "vax_extract()",
            1.0,
            "" if share is None else f"post-write verification is {share:.0%} of extract()",
        )
    ratio_row("decode to WAV", "wav_3min_mp4", "vax", 1.1)
    ratio_row("transcode to FLAC", "flac_3min_mp4", "vax", 1.1)
    if "mp3_192k_3min_mp4" in c:
        m = c["mp3_192k_3min_mp4"]
        snr = m.get("quality_snr_db", {})
        note = "SNR vs source: " + ", ".join(f"{k} {v:.2f} dB" for k, v in snr.items() if not math.isnan(v))
        ratio_row("transcode to MP3 192k", "mp3_192k_3min_mp4", "vax", 1.2, note)
        if snr:
            add(
                "MP3 quality no worse than ffmpeg's (SNR against the source)",
                f"{snr['vax']:.2f} dB vs {snr['ffmpeg']:.2f} dB",
                ">= ffmpeg - 0.5 dB",
                snr["vax"] >= snr["ffmpeg"] - 0.5,
            )
        for peer in ("moviepy", "pydub"):
            r = _ratio(m, f"vax_vs_{peer}")
            add(f"MP3 job vs {peer}", f"{r['median']:.2f}x ({_median(m, peer):.2f} s)", "report", None)
    if "mp3_two_halves_experiment" in c and "speedup" in c["mp3_two_halves_experiment"]:
        x = c["mp3_two_halves_experiment"]
        add(
            "experiment: MP3 as two halves on two cores, frame streams joined",
            f"{x['speedup']:.2f}x the speed of one encoder ({x['two_halves_seconds']:.2f} s vs "
            f"{x['single_encoder_seconds']:.2f} s); decoded {x['decoded_samples']} samples of "
            f"{x['source_samples']}; SNR {x['snr_db']['two_halves']} vs {x['snr_db']['single']} dB, at the seam "
            f"{x['snr_db']['two_halves_at_seam']} vs {x['snr_db']['single_at_seam']} dB",
            "report",
            None,
            f"load average {x['loadavg'][0]:.1f} on {res['machine']['cores']} cores: the second core is not free",
        )


def _resource_goals(res, c, add, ratio_row) -> None:
    if "copy_500mb_mp4" in c:
        big = c["copy_500mb_mp4"]
        ratio = big["rchar"]["vax"] / big["rchar"]["ffmpeg"]
        add(
            "500 MB MP4 copy: bytes read (rchar) vs ffmpeg",
            f"{ratio:.2f} ({big['rchar']['vax'] / MB:.1f} MB vs "
            f"{big['rchar']['ffmpeg'] / MB:.1f} MB; audio track {big['audio_track_bytes'] / MB:.1f} MB, file "
            f"{big['file_bytes'] / MB:.0f} MB)",
            "<= 0.20",
            ratio <= 0.2,
            "rchar of the whole process (Python's own imports included)",
        )
        add(
            "peak RSS, 500 MB copy",
            f"{big['maxrss_mb']['vax']:.1f} MB (ffmpeg {big['maxrss_mb']['ffmpeg']:.1f} MB)",
            "<= 60 MB",
            big["maxrss_mb"]["vax"] <= 60,
        )
    if "cold_cache_500mb_mp4" in c:
        cold = c["cold_cache_500mb_mp4"]
        rb = cold["read_bytes"]
        size = cold["file_bytes"]
        add(
            "cold cache: bytes fetched from storage (`read_bytes`), 500 MB copy",
            "; ".join(
                f"{k} {v / MB:.0f} MB ({v / size:.0%}, {_median(cold, k):.2f} s)" for k, v in rb.items()
            ),
            "well under half the file",
            rb["vax"] < size / 2,
        )
    if "scaling" in c:
        rows_ = c["scaling"]["by_minutes"]
        keys = sorted(rows_, key=float)
        rss = [rows_[k]["mp3_maxrss_mb"]["vax"] for k in keys]
        add(
            "peak RSS, MP3 transcode 1/3/10/30 min",
            " / ".join(f"{x:.1f}" for x in rss) + " MB",
            "<= 60 MB, flat",
            max(rss) <= 60 and max(rss) - min(rss) <= 5,
        )
        per_min = [rows_[k]["mp3"]["vax"] / float(k) for k in keys]
        add(
            "scaling: MP3 seconds per input minute, 1/3/10/30 min",
            " / ".join(f"{x:.2f}" for x in per_min),
            "linear (see chart)",
            None,
        )
        per_min = [rows_[k]["copy"]["vax"] for k in keys]
        add(
            "scaling: copy seconds, 1/3/10/30 min",
            " / ".join(f"{x:.2f}" for x in per_min),
            "linear (see chart)",
            None,
        )
    if "floor_startup_imports" in c and "copy_3min_mp4" in c:
        f = c["floor_startup_imports"]
        ff_copy = _median(c["copy_3min_mp4"], "ffmpeg")
        imports = _median(f, "import_vax_engine")
        add(
            "floor: start-up + the engine's imports, doing nothing",
            f"{imports:.3f} s = {imports / ff_copy:.2f}x "
            f"ffmpeg's whole copy (python alone {_median(f, 'python_pass'):.3f} s, `import av, numpy` "
            f"{_median(f, 'import_av_numpy'):.3f} s)"
            + (f"; a stream copy's imports (no numpy) {_median(f, 'import_vax_copy_engine'):.3f} s"
               if "import_vax_copy_engine" in f["times"] else ""),
            "context",
            None,
            "bounds every whole-process ratio",
        )
        if "aac_decode_3min_in_process" in f and "copy_3min_in_process" in c:
            dec = f["aac_decode_3min_in_process"]["median"]
            rtime = _median(c["copy_3min_in_process"], "ffmpeg_rtime")
            add(
                "floor: decoding the 3-min AAC track once (PyAV loop)",
                f"{dec:.3f} s = {dec / rtime:.1f}x ffmpeg's copy rtime",
                "context",
                None,
                "the post-write verification decodes the output once",
            )
    if "vax_help" in c:
        t = _median(c["vax_help"], "vax_help")
        add("`vax --help`", f"{t:.3f} s", "<= 0.1 s", t <= 0.1)
    ratio_row("`vax probe` vs `ffprobe -show_streams`", "probe_3min_mp4", "vax_probe", 1.1)
    if "remote_overhead" in c:
        r = c["remote_overhead"].get("result") or {}
        if "client_overhead" in r:
            measured = (
                f"{r['client_overhead'] * 1000:.1f} ms per job (cloud job {r['cloud_job_median']:.3f} s: "
                f"{r['requests_per_job']} requests x {r['latency_per_request']} s simulated latency, "
                f"{r['clip_seconds']:.0f} s clip)"
            )
        else:
            measured = c["remote_overhead"].get("error") or "failed: see raw JSON"
        add(
            "remote backend: client overhead per job (fake server)",
            measured,
            "report",
            None,
            "`benchmarks/remote_overhead.py`",
        )


def table_rows(res: dict) -> list[str]:
    lines = [
        "| case | reference | candidates (median, min-max) | ratio vs reference (median) | output check |",
        "|---|---|---|---|---|",
    ]
    for name, case in res["cases"].items():
        if "times" not in case:
            continue
        ref = case["reference"]
        cands = "; ".join(
            f"{k} {v['median']:.3f} s ({v['min']:.3f}-{v['max']:.3f})"
            for k, v in case["times"].items()
            if k != ref
        )
        ratios = "; ".join(f"{k} {v['median']:.2f}x" for k, v in case["ratios"].items())
        check_text = _check_text(case)
        lines.append(
            f"| {name} | {ref} {case['times'][ref]['median']:.3f} s | {cands} | {ratios} | {check_text} |"
        )
    return lines


def _describe(c: dict) -> str:
    if c["identical"]:
        return "identical PCM"
    if c["length_difference"] == 0 and c["max_diff_lsb16"] <= 1:
        return "same length, within 1 LSB"
    return f"{c['length_difference']:+d} samples, max diff {c['max_diff_lsb16']:.0f} LSB"


def _check_text(case: dict) -> str:
    if "goals" in case:
        return goal_table.check_text(case)
    if "quality_snr_db" in case:
        return (
            "SNR vs source: "
            + ", ".join(f"{k} {v:.2f} dB" for k, v in case["quality_snr_db"].items() if not math.isnan(v))
            + " (moviepy resamples to 44.1 kHz: not scored)"
        )
    check = case.get("check")
    if not check:
        return ""
    if "vax_vs_source" in check:
        return (
            f"vax vs source track: {_describe(check['vax_vs_source'])}; "
            f"ffmpeg vs source track: {_describe(check['ffmpeg_vs_source'])}"
        )
    return f"vax vs ffmpeg: {_describe(check)}"


def chart(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = res["cases"]
    labels, values, limits = [], [], []
    spec = [
        ("copy_3min_mp4", "vax", "copy (process)", 1.5),
        ("copy_3min_in_process", "vax_extract()", "copy (in-process)", 1.0),
        ("wav_3min_mp4", "vax", "WAV", 1.1),
        ("flac_3min_mp4", "vax", "FLAC", 1.1),
        ("mp3_192k_3min_mp4", "vax", "MP3 192k", 1.2),
        ("probe_3min_mp4", "vax_probe", "probe", 1.1),
    ]
    for key, name, label, limit in spec:
        if key in c and name in c[key]["ratios"]:
            labels.append(label)
            values.append(c[key]["ratios"][name]["median"])
            limits.append(limit)
    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 5), gridspec_kw={"width_ratios": [3, 2, 2]})
    colors = ["tab:green" if v <= lim else "tab:red" for v, lim in zip(values, limits)]
    ax.barh(labels, values, color=colors)
    ax.scatter(limits, labels, marker="|", s=400, color="black", label="goal", zorder=3)
    ax.axvline(1.0, color="grey", linestyle=":")
    ax.set_xlabel("time ratio vs Debian ffmpeg CLI (lower is better)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.set_title("vax vs ffmpeg, same run")
    if "scaling" in c:
        rows = c["scaling"]["by_minutes"]
        minutes = sorted(rows, key=float)
        x = [float(m) for m in minutes]
        for job, style in (("copy", "o-"), ("mp3", "s-")):
            for peer, color in (("vax", "tab:blue"), ("ffmpeg", "tab:orange")):
                ax2.plot(x, [rows[m][job][peer] for m in minutes], style, color=color, label=f"{peer} {job}")
        ax2.set_xlabel("input minutes")
        ax2.set_ylabel("seconds")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_title("scaling (log-log; slope 1 = linear)")
        ax2.legend()
        for job, style in (("copy", "o-"), ("mp3", "s-")):
            for peer, color in (("vax", "tab:blue"), ("ffmpeg", "tab:orange")):
                ax3.plot(
                    x,
                    [rows[m][f"{job}_maxrss_mb"][peer] for m in minutes],
                    style,
                    color=color,
                    label=f"{peer} {job}",
                )
        ax3.axhline(60, color="grey", linestyle=":", label="goal 60 MB")
        ax3.set_xscale("log")
        ax3.set_ylim(0, None)
        ax3.set_xlabel("input minutes")
        ax3.set_ylabel("peak RSS (MB)")
        ax3.set_title("memory (flat = streaming)")
        ax3.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(res: dict, md_path: Path, png_path: Path) -> None:
    m = res["machine"]
    rows = goals(res)
    lines = [
        "# Benchmarks: vax vs Debian's ffmpeg CLI",
        "",
        (
            "Generated by `make bench` (`benchmarks/run.py`, then `benchmarks/report.py`); raw figures in "
            "`benchmarks/results/results.json`. Every ratio comes from the same rounds, A/B interleaved "
            "(order alternating), after a warm-up; medians with min-max. Each output is decoded through the "
            "same library as the reference's output and compared."
        ),
        "",
        f"- date: {m['date']}; total bench time {res['elapsed_seconds']} s{' (quick run)' if res.get('quick') else ''}",
        (
            f"- machine: {m['cpu']}, {m['cores']} cores, {m['mem_gb']} GB, {m['os']}; load average at start "
            f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])} (the machine is shared: compare ratios)"
        ),
        (
            f"- Python {m['python']}, PyAV {m['pyav']} (bundled libavformat {m['pyav_ffmpeg']}); reference: "
            f"{m['ffmpeg_cli']}"
        ),
        "- inputs (generated once, cached outside the repository): "
        + ", ".join(f"{k} {v['bytes'] / MB:.0f} MB" for k, v in res["inputs"].items()),
        "",
        "## The goals of issue 20",
        "",
        "Each row: Debian's ffmpeg CLI and vax in the same rounds; what bounds the case is timed in the same",
        "rounds too (Python with `import av` doing nothing; a minimal PyAV copy loop, `benchmarks/hinted_copy.py`).",
        "",
        *goal_table.markdown(res),
        "",
        "## Other goals",
        "",
        "| case | measured | goal | result | note |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = "report" if r["pass"] is None else ("**pass**" if r["pass"] else "**miss**")
        lines.append(f"| {r['case']} | {r['measured']} | {r['goal']} | {verdict} | {r['note']} |")
    lines += ["", f"![ratios]({png_path.name})", "", "## All cases", ""] + table_rows(res)
    md_path.write_text("\n".join(lines) + "\n")
    chart(res, png_path)


def main(argv=None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    source = Path(args[0]) if args else HERE / "results" / "results.json"
    res = json.loads(source.read_text())
    write(res, HERE / "RESULTS.md", HERE / "ratios.png")
    print(f"wrote {HERE / 'RESULTS.md'} and {HERE / 'ratios.png'}")
    if update_readme(HERE.parent / "README.md", goal_table.readme_lines(res)):
        print("updated the headline figures in README.md")


def update_readme(path: Path, block: list[str]) -> bool:
    """Replace the README's headline block (between its markers), so it quotes this run only."""
    text = path.read_text()
    start, end = text.find(goal_table.README_START), text.find(goal_table.README_END)
    if start < 0 or end < start:
        return False
    path.write_text(text[:start] + "\n".join(block) + text[end + len(goal_table.README_END) :])
    return True


if __name__ == "__main__":
    main()
