"""The public Python API: request -> job spec -> plan -> engine -> verify -> publish.

    from extractor import probe, extract
    results = extract("talk.mp4", format="mp3", start="1:00", end="2:30")
    print(results[0].output, results[0].verification.duration)

Everything here goes through the one pipeline, ``extractor.pipeline.run_spec``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .errors import VaxError
from .jobspec import JobSpec
from .mediainfo import MediaInfo, probe
from .pieces import plan_all
from .pipeline import ExtractResult, JobProgress, default_backends, run_spec
from .planner import Plan


def plan(spec: JobSpec, info: MediaInfo | None = None) -> list[Plan]:
    """The plans a spec would run, without running them."""
    return plan_all(spec, info or probe(spec.input))


def extract(input: str | os.PathLike | JobSpec, *, backends: Mapping | None = None,
            progress: JobProgress | None = None, **options) -> list[ExtractResult]:
    """Extract audio as asked; one verified result per output file. Raises a VaxError on failure."""
    spec = input if isinstance(input, JobSpec) else JobSpec.build(str(input), **options)
    if options and isinstance(input, JobSpec):
        spec = spec.replace(**options)
    return run_spec(spec, backends=backends, progress=progress)


def write_waveform(audio, total_samples: int, picture) -> None:
    """A PNG of the audio file's waveform (min/max peaks per column); numpy loads only here."""
    from .waveform import write_waveform as draw

    draw(audio, total_samples, picture)


__all__ = ["ExtractResult", "JobSpec", "VaxError", "default_backends", "extract", "plan", "probe", "run_spec",
           "write_waveform"]
