"""The one way through: probe -> plan -> check -> choose the engine -> run -> verify -> publish.

Every caller runs jobs through ``run_spec``: the Python API, the CLI, batch workers, the
web page's worker, the library mode, and the remote backend (which re-plans the user's
spec against the cloud's render and runs it locally through ``run_plan``). Nothing else
probes, plans, checks destinations, picks an engine, verifies or publishes.

Engines are known only through ``backends.base.Backend``; they are looked up lazily
(``BackendRegistry``), so a local job never imports the cloud client or reads its config.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DamagedInput
from .jobspec import JobSpec
from .mediainfo import MediaInfo, probe, release_kept_open
from .planner import Plan, plan_jobs
from .publish import atomic_output, check_destination, publish
from .selection import choose_backend
from .verify import Verification, verify_output

# Called as progress(plan, fraction) while a job runs.
JobProgress = Callable[[Plan, float], None]
# Called before a plan runs: a reason to skip it (resume: "already done"), or None to run it.
SkipHook = Callable[[Plan], "str | None"]
# Called as on_start(plan, position, count) just before each plan's engine starts: position
# counts from 0 among the ``count`` plans that run (batch workers track what is being written).
StartHook = Callable[[Plan, int, int], None]
# Called with each result as soon as it is published (a later track may still fail or be interrupted).
ResultHook = Callable[["ExtractResult"], None]


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


class BackendRegistry(Mapping):
    """Engines by name, each made on first use: ``registry["remote"]`` is the first moment the
    cloud client is imported. A factory that raises ImportError means "not in this build"."""

    def __init__(self, factories: dict[str, Callable[[], object]]):
        self._factories = dict(factories)
        self._made: dict[str, object] = {}

    def __getitem__(self, name: str):
        if name not in self._made:
            if name not in self._factories:
                raise KeyError(name)
            try:
                made = self._factories[name]()
            except ImportError:
                made = None
            self._made[name] = made
        if self._made[name] is None:
            raise KeyError(name)
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


def _local():
    from backends.local import LocalBackend

    return LocalBackend()


def _remote():
    from backends.remote import make_remote_backend

    return make_remote_backend()


def default_backends() -> BackendRegistry:
    return BackendRegistry({"local": _local, "remote": _remote})


def run_spec(spec: JobSpec, *, backends: Mapping | None = None, progress: JobProgress | None = None,
             info: MediaInfo | None = None, skip: SkipHook | None = None,
             on_start: StartHook | None = None, on_result: ResultHook | None = None) -> list[ExtractResult]:
    """Run every output of ``spec``; one verified result per file written. Raises a VaxError.

    ``info``: a probe the caller already has (it is not probed again; a container it kept
    open for the engine is released here). ``skip``: asked for each plan first; a plan it
    gives a reason for is not run (and not in the results). ``on_start`` and ``on_result``
    bracket each plan that runs.
    """
    info = info or probe(spec.input, keep_open=True)
    try:
        plans = plan_jobs(spec, info)
        todo = [each for each in plans if not (skip and skip(each))]
        # Check every destination before writing anything, so a multi-track job fails whole or not at all.
        for each in todo:
            check_destination(each.output, Path(info.path), spec.overwrite)
        backends = backends if backends is not None else default_backends()
        results = []
        for position, each in enumerate(todo):
            if on_start:
                on_start(each, position, len(todo))
            results.append(run_plan(each, backends, progress))
            if on_result:
                on_result(results[-1])
        return results
    finally:
        release_kept_open(info)


def run_plan(plan: Plan, backends: Mapping, progress: JobProgress | None = None) -> ExtractResult:
    """Engine -> verify -> publish for one planned output."""
    started = time.perf_counter()
    backend, reason = choose_backend(plan, backends)
    on_progress = (lambda fraction: progress(plan, fraction)) if progress else None
    with atomic_output(plan.output, overwrite=plan.spec.overwrite) as temp:
        report = backend.run(plan, temp, on_progress)
        plan = _plan_to_verify(plan, report)
        verification = verify_output(plan, temp, report)
        publish(temp, plan.output, overwrite=plan.spec.overwrite)
    if progress:
        progress(plan, 1.0)
    return ExtractResult(
        input=plan.source.path, output=plan.output, backend=backend.name, backend_reason=reason, plan=plan,
        verification=verification, elapsed=time.perf_counter() - started,
        notes=list(plan.notes) + list(report.notes), gaps=list(report.gaps),
    )


def _plan_to_verify(plan: Plan, report) -> Plan:
    """What the written file is checked against: the plan the engine really carried out, and
    the length of what was read when the input declared none or ended early (salvage)."""
    if report.effective_plan is not None:
        plan = report.effective_plan
    if not report.source_complete:
        if not plan.spec.salvage:
            raise DamagedInput(f"{plan.source.path}: the input ended early", hint="--salvage keeps what is readable")
        return dataclasses.replace(plan, expected_duration=report.written_duration)
    if plan.expected_duration is None:
        return dataclasses.replace(plan, expected_duration=report.written_duration)
    return plan
