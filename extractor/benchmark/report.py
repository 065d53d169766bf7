"""What `vax bench` shows: a table per file and backend, a summary per backend, the same as JSON,
and an optional bar chart (matplotlib, from the bench extra; never a hard dependency)."""

from __future__ import annotations

import statistics
from pathlib import Path

from extractor.errors import UsageError
from extractor.units import human_size

from .compare import describe
from .runner import Bench, FileBench, median_phases, spread

LABELS = {"prepare": "prepare", "session": "auth+session", "upload": "upload", "agent": "agent",
          "render": "render queue+render", "download": "download", "extract": "extract", "engine": "engine",
          "verify": "verify", "lost session": "lost session", "unaccounted": "unaccounted", "ffmpeg": "ffmpeg"}
CHART_HINT = "pip install 'video-audio-extractor[bench]' (or pip install matplotlib)"


def backends_of(bench: Bench) -> list[str]:
    return ["local"] + ([bench.settings.reference] if bench.settings.reference else [])


def file_summary(entry: FileBench, backends: list[str]) -> dict:
    data: dict = {"file": entry.path, "size": entry.size, "runs": [r.to_dict() for r in entry.runs],
                  "backends": {}, "comparisons": entry.comparisons, "skipped": entry.skipped}
    for name in backends:
        runs = [r for r in entry.runs if r.backend == name]
        if not runs:
            continue
        spent = [r.credits for r in runs if r.credits is not None]
        # credits per run: the median, as for times (a free render among paid ones shows as such in "runs")
        data["backends"][name] = {"wall": spread([r.wall for r in runs]),
                                  "phases": {k: round(v, 4) for k, v in median_phases(runs).items()},
                                  "rates_mb_s": _rates(runs),
                                  "credits_per_run": statistics.median(spent) if spent else None}
    local, other = data["backends"].get("local"), data["backends"].get(backends[-1])
    if len(backends) > 1 and local and other and other["wall"]["median"]:
        data["ratio_local_to_" + backends[-1]] = round(local["wall"]["median"] / other["wall"]["median"], 4)
    return data


def _rates(runs) -> dict[str, float]:
    """MB/s of each network step (bytes moved / that step's seconds), median over the runs."""
    rates: dict[str, list[float]] = {}
    for run in runs:
        for step, count in run.transferred.items():
            seconds = run.phases.get(step)
            if seconds:
                rates.setdefault(step, []).append(count / seconds / 1e6)
    return {step: round(statistics.median(values), 3) for step, values in rates.items()}


def to_data(bench: Bench) -> dict:
    backends = backends_of(bench)
    return {"rounds": bench.settings.rounds, "reference": bench.settings.reference,
            "outputs_kept": bench.settings.keep,
            "files": [file_summary(f, backends) for f in bench.files],
            "summary": {name: spread(bench.walls(name)) for name in backends},
            "error": bench.error.one_line() if bench.error else None}


def to_text(bench: Bench, heading: str) -> str:
    data = to_data(bench)
    lines = [heading]
    for entry in data["files"]:
        lines += _file_lines(entry, data["reference"])
    lines.append(f"summary, wall time per job over {bench.settings.rounds} round(s):")
    for name, figures in data["summary"].items():
        if figures:
            lines.append(f"  {name:<7} median {_s(figures['median'])}  min {_s(figures['min'])}  "
                         f"max {_s(figures['max'])}  ({figures['runs']} runs)")
    return "\n".join(lines)


def _file_lines(entry: dict, reference: str | None) -> list[str]:
    lines = [f"{Path(entry['file']).name} ({human_size(entry['size'])})"]
    for name, figures in entry["backends"].items():
        line = f"  {name:<7} {_s(figures['wall']['median'])}  ({_phases_text(figures)})"
        if figures["credits_per_run"] is not None:
            line += f"; {figures['credits_per_run']:g} credit(s) per run"
        lines.append(line)
    ratio = entry.get(f"ratio_local_to_{reference}")
    if ratio:
        verdict = f"local {1 / ratio:.1f}x faster" if ratio < 1 else f"{reference} {ratio:.1f}x faster"
        lines.append(f"  local/{reference} {ratio:.3f} ({verdict})")
    several = len(entry["comparisons"]) > 1
    for comparison in entry["comparisons"]:
        which = f" (track {comparison['track']})" if several else ""
        lines.append(f"  outputs{which}: {describe(comparison)}")
    if entry["skipped"]:
        lines.append(f"  {reference}: not run ({entry['skipped']})")
    return lines


def _phases_text(figures: dict) -> str:
    parts = []
    for phase, seconds in figures["phases"].items():
        text = f"{LABELS.get(phase, phase)} {seconds:.3f}"
        rate = figures["rates_mb_s"].get(phase)
        if rate is not None:
            text += f" at {rate:.2f} MB/s"
        parts.append(text)
    return ", ".join(parts) + " s"


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def check_chart_possible() -> None:
    """Before any run: --chart needs matplotlib, which vax does not install by default."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--chart needs matplotlib, which is not installed", hint=CHART_HINT) from None


def write_chart(bench: Bench, picture: Path) -> None:
    """Median wall time per file and backend, each bar stacked by phase (one colour per phase)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    from matplotlib import pyplot

    rows = [(f"{Path(entry['file']).name} ({name})", figures["phases"])
            for entry in to_data(bench)["files"] for name, figures in entry["backends"].items()]
    figure, axes = pyplot.subplots(figsize=(9, 1.6 + 0.45 * len(rows)))
    palette: dict[str, str] = {}
    longest = 0.0
    for row, (_, phases) in enumerate(rows):
        left = 0.0
        for phase, seconds in phases.items():
            colour = palette.setdefault(phase, f"C{len(palette) % 10}")
            axes.barh(row, seconds, left=left, color=colour, label=LABELS.get(phase, phase))
            left += seconds
        axes.text(left, row, f" {left:.2f} s", va="center", fontsize=8)
        longest = max(longest, left)
    axes.set_yticks(range(len(rows)), [name for name, _ in rows], fontsize=8)
    axes.invert_yaxis()  # the first file on top, as in the table
    axes.set_xlim(0, longest * 1.15 or 1)
    axes.set_xlabel("seconds (median over rounds)")
    handles, names = axes.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    axes.legend(unique.values(), unique.keys(), fontsize=7, ncol=6, loc="upper center",
                bbox_to_anchor=(0.5, -0.35 if len(rows) < 4 else -0.15), frameon=False)
    figure.tight_layout()
    figure.savefig(picture, bbox_inches="tight")
    pyplot.close(figure)
