"""Rounds of the same job through the local engine and a reference (the cloud, or ffmpeg).

Every vax run goes through the one pipeline (``extractor.api.run_spec``), choosing its engine
with the spec's ``backend``; each output is verified and published as any job's. The runs
interleave (file by file, local then reference, round after round), so a slow moment of a
shared machine lands on both. The first round's outputs are compared with each other.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from extractor.api import default_backends, probe, run_spec
from extractor.errors import OutputExists, VaxError

from . import reference as ffmpeg_reference
from .compare import compare_outputs
from .recorder import RecordingBackends


@dataclass
class Run:
    backend: str  # local, remote or ffmpeg
    round: int
    wall: float  # seconds, the whole job (probe to published output)
    phases: dict[str, float] = field(default_factory=dict)
    transferred: dict[str, int] = field(default_factory=dict)
    credits: float | None = None  # spent by this run (cloud only; None: unknown)
    outputs: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"backend": self.backend, "round": self.round, "wall": round(self.wall, 4),
                "phases": {k: round(v, 4) for k, v in self.phases.items()}, "transferred": self.transferred,
                "credits": self.credits, "outputs": [str(p) for p in self.outputs]}


@dataclass
class FileBench:
    path: str
    size: int
    runs: list[Run] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)  # the reference's outputs against local's, round 1
    skipped: str | None = None  # why the reference did not run for this file

    def walls(self, backend: str) -> list[float]:
        return [r.wall for r in self.runs if r.backend == backend]


@dataclass
class BenchSettings:
    reference: str | None  # "remote", "ffmpeg", or None (local only)
    rounds: int = 3
    workdir: Path = Path(".")
    keep: bool = False  # the outputs stay in workdir (else it is removed afterwards)


@dataclass
class Bench:
    settings: BenchSettings
    files: list[FileBench] = field(default_factory=list)
    error: VaxError | None = None  # what stopped the bench early, if anything

    def walls(self, backend: str) -> list[float]:
        return [w for f in self.files for w in f.walls(backend)]


RunHook = Callable[[FileBench, Run], None]


def run_bench(specs: list, settings: BenchSettings, *, on_run: RunHook | None = None,
              credits: Callable[[str | None], float | None] | None = None) -> Bench:
    """Every spec, ``settings.rounds`` times, locally and through the reference. A VaxError stops
    the bench at once (credits, plan, a failed job): ``Bench.error`` says which, and what ran before
    it is kept."""
    bench = Bench(settings)
    backends = RecordingBackends(default_backends())
    for spec in specs:
        bench.files.append(FileBench(spec.input, os.stat(spec.input).st_size))
    try:
        _warm_up(specs, settings.workdir, backends)
        for number in range(1, settings.rounds + 1):
            for spec, entry in zip(specs, bench.files, strict=True):
                _one_round(spec, entry, number, settings, backends, on_run, credits)
    except VaxError as exc:
        bench.error = exc
    return bench


def _warm_up(specs: list, workdir: Path, backends: RecordingBackends) -> None:
    """One untimed local job first: loading PyAV, the encoders and numpy is a cost per process,
    not per file, and would otherwise make the first run the odd one out."""
    for spec in specs[1:]:
        probe(spec.input)  # reads each file once, so no file is timed from a cold page cache alone
    if specs:
        with tempfile.TemporaryDirectory(prefix=".vax-bench-warmup-", dir=workdir) as folder:
            run_vax(specs[0], "local", 0, Path(folder), backends)


def _one_round(spec, entry: FileBench, number: int, settings: BenchSettings, backends, on_run, credits) -> None:
    local, results = run_vax(spec, "local", number, settings.workdir, backends)
    _keep(entry, local, on_run)
    plans = [r.plan for r in results]
    if settings.reference == "remote":
        before = credits(spec.remote_url) if credits else None
        remote, _ = run_vax(spec, "remote", number, settings.workdir, backends)
        after = credits(spec.remote_url) if credits else None
        remote.credits = round(before - after, 6) if before is not None and after is not None else None
        _keep(entry, remote, on_run)
        reference = remote
    elif settings.reference == "ffmpeg":
        reference = run_ffmpeg(plans, number, settings.workdir, entry)
        if reference is None:
            return
        _keep(entry, reference, on_run)
    else:
        return
    if number == 1:
        entry.comparisons = [{"track": plan.track.number, **compare_outputs(theirs, ours)}
                             for theirs, ours, plan in zip(reference.outputs, local.outputs, plans, strict=False)]


def _keep(entry: FileBench, run: Run, on_run) -> None:
    entry.runs.append(run)
    if on_run:
        on_run(entry, run)


def output_template(workdir: Path, backend: str, number: int) -> str:
    folder = str(workdir).replace("{", "{{").replace("}", "}}")
    return os.path.join(folder, f"{{stem}}-{{track}}-{backend}-r{number}.{{ext}}")


def run_vax(spec, backend: str, number: int, workdir: Path, backends: RecordingBackends):
    """One job through the pipeline on the named engine, timed phase by phase."""
    job = spec.replace(output=output_template(workdir, backend, number), backend=backend)
    log = backends.new_job()
    results = run_spec(job, backends=backends, on_result=lambda result: log.mark("verify"))
    log.mark("verify")  # releasing the probe's open file, after the last output
    wall = time.perf_counter() - log.started
    run = Run(backend, number, wall, phases=dict(log.seconds), transferred=dict(log.transferred),
              outputs=[r.output for r in results])
    return run, results


def run_ffmpeg(plans: list, number: int, workdir: Path, entry: FileBench) -> Run | None:
    """The same plans as ffmpeg commands; None (and the reason in ``entry.skipped``) when it cannot."""
    problem = next((why for why in map(ffmpeg_reference.why_not, plans) if why), None)
    if problem:
        entry.skipped = problem
        return None
    run = Run("ffmpeg", number, 0.0)
    for plan in plans:
        output = workdir / f"{Path(plan.source.path).stem}-{plan.track.number}-ffmpeg-r{number}.{plan.format.ext}"
        if output.exists() and not plan.spec.overwrite:
            raise OutputExists(f"{output} exists", hint="--overwrite replaces it")
        try:
            took = ffmpeg_reference.run_ffmpeg(plan, output)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                output.unlink()  # a failed or interrupted reference leaves nothing behind
            raise
        run.wall += took
        run.phases["ffmpeg"] = run.phases.get("ffmpeg", 0.0) + took
        run.outputs.append(output)
    return run


def spread(values: list[float]) -> dict | None:
    """median, min and max (None when there is nothing to summarise)."""
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def median_phases(runs: list[Run]) -> dict[str, float]:
    """Each phase's median over the runs, in the order the phases ran."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run.phases if n not in names]
    return {n: statistics.median([r.phases.get(n, 0.0) for r in runs]) for n in names}
