"""The public Python API: request -> job spec -> plan -> backend -> verify -> publish.

    from extractor import probe, extract
    results = extract("talk.mp4", format="mp3", start="1:00", end="2:30")
    print(results[0].output, results[0].verification.duration)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DamagedInput, VaxError
from .jobspec import JobSpec
from .mediainfo import MediaInfo, probe
from .outputs import atomic_output, check_destination, publish
from .planner import Plan, plan_jobs
from .selection import choose_backend
from .verify import Verification, verify_output

# Called as progress(plan, fraction) while a job runs.
JobProgress = Callable[[Plan, float], None]


@dataclass
class ExtractResult:
    input: str
    output: Path
    backend: str
    backend_reason: str
    plan: Plan
    verification: Verification
    elapsed: float
    notes: list[str] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def lossless_copy(self) -> bool:
        return self.plan.is_copy and self.plan.sample_exact

    def to_dict(self) -> dict:
        return {
            "status": "ok",
            "input": self.input,
            "output": str(self.output),
            "backend": self.backend,
            "backend_reason": self.backend_reason,
            "mode": self.plan.mode,
            "lossless_copy": self.lossless_copy,
            "explanation": self.plan.explanation,
            "plan": self.plan.to_dict(),
            "verification": self.verification.to_dict(),
            "elapsed": round(self.elapsed, 4),
            "notes": self.notes,
            "gaps": [list(g) for g in self.gaps],
        }


def default_backends() -> dict:
    from backends import LocalBackend

    found = {"local": LocalBackend()}
    try:  # the cloud client is optional; it registers itself when present
        from backends.remote import make_remote_backend
    except ImportError:
        return found
    remote = make_remote_backend()
    if remote is not None:
        found["remote"] = remote
    return found


def plan(spec: JobSpec, info: MediaInfo | None = None) -> list[Plan]:
    """The plans a spec would run, without running them."""
    return plan_jobs(spec, info or probe(spec.input))


def extract(input: str | os.PathLike | JobSpec, *, backends: dict | None = None,
            progress: JobProgress | None = None, **options) -> list[ExtractResult]:
    """Extract audio as asked; one verified result per output file. Raises a VaxError on failure."""
    spec = input if isinstance(input, JobSpec) else JobSpec.build(str(input), **options)
    if options and isinstance(input, JobSpec):
        spec = spec.replace(**options)
    return run_spec(spec, backends=backends, progress=progress)


def run_spec(spec: JobSpec, *, backends: dict | None = None, progress: JobProgress | None = None,
             info: MediaInfo | None = None) -> list[ExtractResult]:
    backends = backends if backends is not None else default_backends()
    info = info or probe(spec.input)
    plans = plan_jobs(spec, info)
    # Check every destination before writing anything, so a multi-track job fails whole or not at all.
    for each in plans:
        check_destination(each.output, Path(info.path), spec.overwrite)
    return [run_plan(each, backends, progress) for each in plans]


def run_plan(plan: Plan, backends: dict, progress: JobProgress | None = None) -> ExtractResult:
    started = time.perf_counter()
    backend, reason = choose_backend(plan, backends)
    on_progress = (lambda fraction: progress(plan, fraction)) if progress else None
    with atomic_output(plan.output, overwrite=plan.spec.overwrite) as temp:
        report = backend.run(plan, temp, on_progress)
        if report.effective_plan is not None:
            plan = report.effective_plan
        if not report.source_complete:
            if not plan.spec.salvage:
                raise DamagedInput(f"{plan.source.path}: the input ended early",
                                   hint="--salvage keeps what is readable")
            # Salvage: check the file against what could be read, not what the input declared.
            plan = dataclasses.replace(plan, expected_duration=report.written_duration)
        elif plan.expected_duration is None:
            plan = dataclasses.replace(plan, expected_duration=report.written_duration)
        verification = verify_output(plan, temp)
        publish(temp, plan.output, overwrite=plan.spec.overwrite)
    if progress:
        progress(plan, 1.0)
    notes = list(plan.notes) + list(report.notes)
    return ExtractResult(
        input=plan.source.path, output=plan.output, backend=backend.name, backend_reason=reason, plan=plan,
        verification=verification, elapsed=time.perf_counter() - started, notes=notes, gaps=list(report.gaps),
    )


__all__ = ["ExtractResult", "JobSpec", "VaxError", "extract", "plan", "probe", "run_spec"]
