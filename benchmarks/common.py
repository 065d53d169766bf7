"""What every bench case shares: the commands (Debian's ffmpeg CLI, `vax extract` as a user
runs it), the A/B interleaved rounds and their summaries."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from . import procs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VAX = str(Path(sys.executable).parent / "vax")
PY = sys.executable
CLOUD_SECONDS = 20.0  # the hosted service this replaces, for a 3-minute clip, before the upload


def ffmpeg(*args) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *map(str, args)]


def vax(*args) -> list[str]:
    return [VAX, "extract", *map(str, args), "--overwrite", "-q"]


def summary(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "all": [round(v, 4) for v in values],
    }


def interleave(
    commands: dict[str, object], rounds: int, warmup: bool = True
) -> dict[str, list[procs.Sample]]:
    """Run each named command once per round, alternating the order every round."""
    names = list(commands)
    if warmup:
        for name in names:
            _run(commands[name])
    results = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            results[name].append(_run(commands[name]))
    return results


def _run(command) -> procs.Sample:
    if callable(command):
        return command()
    if isinstance(command, str):
        return procs.checked(command, shell=True)
    return procs.checked(command)


def walls(samples) -> list[float]:
    return [s.wall for s in samples]


def ratio_rounds(candidate, reference) -> list[float]:
    return [c / r for c, r in zip(walls(candidate), walls(reference))]
