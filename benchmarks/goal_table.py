"""Issue 20's goal table for RESULTS.md, from the raw figures of benchmarks/goal_cases.py.

One row per goal: the goal, both tools' medians (min-max), the ratio from the same rounds,
both tools' CPU seconds, pass or miss, and what bounds the case, measured in the same run.
"""

from __future__ import annotations

import math
import statistics

HEADER = [
    (
        "| case | goal | ffmpeg (median, min-max) | vax (median, min-max) | ratio (median, min-max) "
        "| CPU s ffmpeg / vax | result | what bounds it (measured) | output check |"
    ),
    "|---|---|---|---|---|---|---|---|---|",
]
CORES = 2


def rows(res: dict) -> list[dict]:
    """Every goal row, in the issue's order, as dicts (the tests read these)."""
    cases = res["cases"]
    out = []
    for case in cases.values():
        for g in case.get("goals", []):
            out.append(ratio_row(case, g))
        if "cloud" in case:
            out.append(cloud_row(case["cloud"]))
    if "goal_long_flac" in cases:
        out.extend(long_rows(cases["goal_long_flac"]))
    return out


def markdown(res: dict) -> list[str]:
    lines = list(HEADER)
    for r in rows(res):
        verdict = "report" if r["pass"] is None else ("**pass**" if r["pass"] else "**miss**")
        cells = [r["case"], r["goal"], r.get("reference", ""), r.get("candidate", ""), r["measured"],
                 r.get("cpu", ""), verdict, r.get("bound", ""), r.get("check", "")]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return lines


README_START = "<!-- headline figures: written by benchmarks/report.py from benchmarks/results/results.json -->"
README_END = "<!-- end of headline figures -->"


def readme_lines(res: dict) -> list[str]:
    """The README's headline table: each goal of issue 20 with its figure and verdict."""
    m = res["machine"]
    load = ", ".join(f"{x:.2f}" for x in m["loadavg_at_start"])
    lines = [
        README_START,
        (
            f"Measured {m['date']} on {m['cores']} cores (load average at start {load}; "
            f"{res['elapsed_seconds'] / 60:.0f} minutes for the run{', quick' if res.get('quick') else ''}):"
        ),
        "",
        "| job | vax | goal | result |",
        "|---|---|---|---|",
    ]
    for r in rows(res):
        verdict = "pass" if r["pass"] else "miss"
        lines.append(f"| {r['case']} | {r['headline']} | {r['goal']} | {verdict} |")
    return [*lines, README_END]


def ratio_summary(case: dict, candidate: str, reference: str) -> dict:
    a, b = case["times"][candidate]["all"], case["times"][reference]["all"]
    values = [x / y for x, y in zip(a, b)]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def _times(case: dict, name: str) -> str:
    t = case["times"][name]
    return f"{t['median']:.2f} s" + (f" ({t['min']:.2f}-{t['max']:.2f})" if t["n"] > 1 else "")


def _cpu(case: dict, name: str) -> float | None:
    return case.get("cpu_seconds", {}).get(name, {}).get("median")


def ratio_row(case: dict, g: dict) -> dict:
    cand, ref = g["candidate"], g["reference"]
    r = ratio_summary(case, cand, ref)
    cpu_ref, cpu_cand = _cpu(case, ref), _cpu(case, cand)
    measured = f"{r['median']:.2f}x" + (f" ({r['min']:.2f}-{r['max']:.2f})" if r["n"] > 1 else " (1 round)")
    return {
        "case": g["label"],
        "goal": g["goal"],
        "reference": f"{ref} {_times(case, ref)}",
        "candidate": f"{cand} {_times(case, cand)}",
        "measured": measured,
        "ratio": r["median"],
        "headline": f"{r['median']:.2f}x ffmpeg's time",
        "cpu": "" if cpu_ref is None else f"{cpu_ref:.2f} / {cpu_cand:.2f}",
        "pass": r["median"] <= g["limit"],
        "bound": bound_text(case, g),
        "check": "; ".join(x for x in (g.get("note"), facts_text(case), check_text(case)) if x),
    }


def bound_text(case: dict, g: dict) -> str:
    ref_wall = case["times"][g["reference"]]["median"]
    parts = []
    for name in g["bounds"]:
        if name == "vax_cpu_over_cores":
            cpu = _cpu(case, g["candidate"])
            parts.append(f"vax's own CPU over {CORES} cores: {cpu / CORES:.2f} s = {cpu / CORES / ref_wall:.2f}x"
                         f" ffmpeg's wall (the best this work allows here)")
        elif name in case["times"]:
            t = case["times"][name]["median"]
            parts.append(f"{name} {t:.2f} s = {t / ref_wall:.2f}x")
    read = case.get("read_bytes")
    if read:
        parts.append("read from storage: " + ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in read.items())
                     + f" of the file's {case['file_bytes'] / 1e6:.0f} MB")
    load = case.get("loadavg_before")
    if load:
        parts.append(f"load average before {load[0]:.2f}")
    return "; ".join(parts)


def facts_text(case: dict) -> str:
    facts = case.get("vax_result") or {}
    parts = []
    if facts.get("notes"):
        parts.append("vax: " + ", ".join(facts["notes"]))
    if "loadavg_before" in case and not any("segment" in n for n in facts.get("notes") or []):
        parts.append("vax reported no segments: one core")
    if facts.get("declared_duration"):
        parts.append(f"vax verified {facts['duration']} s read (declared {facts['declared_duration']} s)")
    return "; ".join(parts)


def describe(c: dict) -> str:
    if "error" in c:
        return c["error"]
    if c.get("identical"):
        return f"identical PCM ({c['samples']} samples)"
    if c["length_difference"] == 0 and c["max_diff_lsb16"] <= 1:
        return f"same length ({c['samples']} samples), within 1 LSB"
    return f"{c['length_difference']:+d} samples, max diff {c['max_diff_lsb16']:.0f} LSB"


def check_text(case: dict) -> str:
    check = case.get("check") or {}
    if not check:
        return ""
    if "snr_db" in check.get("vax_vs_source", {}):
        v, f = check["vax_vs_source"], check["ffmpeg_vs_source"]
        return (f"SNR vs source: vax {v['snr_db']} dB (worst {v['window_seconds']:.0f} s {v['worst_window_snr_db']}),"
                f" ffmpeg {f['snr_db']} dB (worst {f['worst_window_snr_db']}); decoded samples vax "
                f"{check['vax_samples']}, ffmpeg {check['ffmpeg_samples']}, source {check['source_samples']}")
    parts = [f"{k.replace('_', ' ')}: {describe(v)}" for k, v in check.items() if isinstance(v, dict)]
    return "; ".join(parts)


def cloud_row(cloud: dict) -> dict:
    speedup = cloud["speedup"]
    return {
        "case": f"against the cloud's {cloud['cloud_seconds']:.0f} s for a 3-minute clip (copy, upload not counted)",
        "goal": f">= {cloud['limit']}x",
        "candidate": f"vax {cloud['vax_seconds']:.2f} s",
        "measured": f"{speedup:.0f}x faster",
        "headline": f"{speedup:.0f}x faster",
        "pass": speedup >= cloud["limit"],
        "bound": f"python + `import av` alone {cloud['floor_seconds']:.3f} s: at most {cloud['floor_speedup']:.0f}x",
    }


def _memory_bound(case: dict, hours: list) -> str:
    by = case["by_hours"]
    text = "judged on the larger of the largest process and the tree's PSS (workers included)"
    if "pyav_open_maxrss_mb" not in by[hours[0]]:
        return text
    return (
        text
        + "; opening the input in PyAV, nothing else: "
        + " / ".join(f"{by[h]['pyav_open_maxrss_mb']:.0f}" for h in hours)
        + f" MB (`import av` alone {case.get('import_av_maxrss_mb', 0):.0f} MB: the rest is the MP4 demuxer's"
        " sample index); ffmpeg's own stream copy of it: "
        + " / ".join(f"{by[h]['ffmpeg_copy_maxrss_mb']:.0f}" for h in hours)
        + " MB"
    )


def _shortfall(difference: int) -> str:
    if difference == 0:
        return " (exact)"
    return f" (**{abs(difference)} {'short' if difference < 0 else 'extra'}**)"


def long_rows(case: dict) -> list[dict]:
    by = case["by_hours"]
    hours = sorted(by, key=float)
    mem = [max(by[h]["maxrss_mb"], by[h]["tree_pss_mb"] or 0) for h in hours]
    per_hour = [by[h]["seconds_per_input_hour"] for h in hours]
    counted = "; ".join(
        f"{h} h: {by[h]['output_samples']} samples decoded of the source's {by[h]['source_samples']}"
        + _shortfall(by[h]["output_samples"] - by[h]["source_samples"])
        for h in hours
    )
    names = " / ".join(f"{h} h" for h in hours)
    growth = per_hour[-1] / per_hour[0]
    return [
        {
            "case": f"audio-only input to FLAC, {names}: peak memory",
            "goal": f"peak RSS <= {case['rss_limit_mb']} MB",
            "candidate": " / ".join(f"{by[h]['seconds']:.1f} s" for h in hours),
            "measured": "largest process " + " / ".join(f"{by[h]['maxrss_mb']:.0f}" for h in hours)
            + " MB; whole tree (PSS) " + " / ".join(f"{by[h]['tree_pss_mb'] or 0:.0f}" for h in hours)
            + " MB; RSS summed " + " / ".join(f"{by[h]['tree_rss_mb'] or 0:.0f}" for h in hours) + " MB",
            "cpu": "vax " + " / ".join(f"{by[h]['cpu_seconds']:.1f}" for h in hours),
            "headline": f"{max(mem):.0f} MB at most",
            "pass": max(mem) <= case["rss_limit_mb"],
            "bound": _memory_bound(case, hours),
            "check": counted,
        },
        {
            "case": f"audio-only input to FLAC, {names}: time linear in length",
            "goal": f"seconds per input hour at {hours[-1]} h within {case['linear_slack']}x of {hours[0]} h",
            "candidate": " / ".join(f"{by[h]['seconds']:.1f} s" for h in hours),
            "measured": "s per input hour " + " / ".join(f"{x:.1f}" for x in per_hour) + f" ({growth:.2f}x); CPU s"
            " per input hour " + " / ".join(f"{by[h]['cpu_seconds'] / float(h):.1f}" for h in hours),
            "headline": " / ".join(f"{x:.1f}" for x in per_hour) + " s per input hour",
            "pass": growth <= case["linear_slack"] and not math.isnan(growth),
            "bound": "; ".join(f"{h} h: load average before {by[h]['loadavg_before'][0]:.2f}"
                               + (f", vax: {', '.join(by[h]['vax_result']['notes'])}"
                                  if by[h]["vax_result"].get("notes") else "") for h in hours),
        },
    ]
