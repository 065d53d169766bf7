"""The one way through: probe -> plan -> check -> choose the engine -> run -> verify -> publish.

Every caller runs jobs through ``run_spec``: the Python API, the CLI, batch workers, the
web page's worker, the library mode, and the remote backend (which re-plans the user's
spec against the cloud's render and runs it locally through ``run_plan``). Nothing else
probes, plans, checks destinations, picks an engine, verifies or publishes.

Engines are known only through ``backends.base.Backend``; they are looked up lazily
(``BackendRegistry``), so a local job never imports the cloud client or reads its config.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DamagedInput, VaxError, timed_out
from .jobspec import JobSpec
from .mediainfo import MediaInfo, probe, release_kept_open
from .pieces import plan_all
from .planner import Plan
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
    metadata: dict = field(default_factory=dict)  # tags, pictures, chapters carried from the source

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
            "metadata": self.metadata,
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
        with time_limit(spec.timeout, spec.input):
            return _run_plans(spec, info, backends, progress, skip, on_start, on_result)
    finally:
        release_kept_open(info)


def _run_plans(spec, info, backends, progress, skip, on_start, on_result) -> list[ExtractResult]:
    plans = plan_all(spec, info)
    todo = [each for each in plans if not (skip and skip(each))]
    # Check every destination before writing anything, so a multi-track job fails whole or not at all.
    for each in todo:
        check_destination(each.output, Path(info.path), spec.overwrite)
    backends = backends if backends is not None else default_backends()
    together = _engine_for_all(todo, backends)
    if together is not None:
        return _run_together(todo, together, progress, on_start, on_result)
    results = []
    for position, each in enumerate(todo):
        if on_start:
            on_start(each, position, len(todo))
        results.append(run_plan(each, backends, progress))
        if on_result:
            on_result(results[-1])
    return results


def run_plan(plan: Plan, backends: Mapping, progress: JobProgress | None = None) -> ExtractResult:
    """Engine -> verify -> publish for one planned output."""
    started = time.perf_counter()
    backend, reason = choose_backend(plan, backends)
    on_progress = (lambda fraction: progress(plan, fraction)) if progress else None
    with atomic_output(plan.output, overwrite=plan.spec.overwrite) as temp:
        report = backend.run(plan, temp, on_progress)
        result = _verify_and_publish(plan, temp, report, backend.name, reason, started)
    return _after_publish(result, progress)


def _engine_for_all(plans: list[Plan], backends: Mapping):
    """The engine that can run all these plans in one read of their input (--all-tracks), or None."""
    if len(plans) < 2:
        return None
    chosen = [choose_backend(each, backends) for each in plans]
    engine = chosen[0][0]
    if any(backend is not engine for backend, _ in chosen) or not hasattr(engine, "run_together"):
        return None
    return engine if engine.can_run_together(plans) else None


def _run_together(plans: list[Plan], engine, progress, on_start, on_result) -> list[ExtractResult]:
    started = time.perf_counter()
    for position, each in enumerate(plans):
        if on_start:
            on_start(each, position, len(plans))
    results = []
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_output(p.output, overwrite=p.spec.overwrite)) for p in plans]
        reports = engine.run_together(plans, temps, progress)
        for plan, temp, report in zip(plans, temps, reports):
            result = _verify_and_publish(plan, temp, report, engine.name, "local engine, every track in one read",
                                         started)
            results.append(_after_publish(result, progress))
            if on_result:
                on_result(results[-1])
    return results


def _verify_and_publish(plan: Plan, temp: Path, report, backend: str, reason: str, started: float) -> ExtractResult:
    plan = _plan_to_verify(plan, report)
    verification = verify_output(plan, temp, report)
    publish(temp, plan.output, overwrite=plan.spec.overwrite)
    return ExtractResult(
        input=plan.source.path, output=plan.output, backend=backend, backend_reason=reason, plan=plan,
        verification=verification, elapsed=time.perf_counter() - started,
        notes=list(plan.notes) + list(report.notes), gaps=list(report.gaps),
        metadata=dict(getattr(report, "metadata", None) or {}),
    )


def _after_publish(result: ExtractResult, progress: JobProgress | None) -> ExtractResult:
    """Steps on a published, verified output: the source's time, the waveform picture."""
    plan = result.plan
    if plan.spec.keep_mtime:
        _copy_mtime(Path(plan.source.path), plan.output)
    if plan.spec.waveform:
        result.notes.append(_draw_waveform(plan, result.verification.samples))
    if progress:
        progress(plan, 1.0)
    return result


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


def _draw_waveform(plan: Plan, samples: int) -> str:
    """--waveform: a PNG beside the audio (published the same atomic way); a failure is a note, not an
    error, because the audio itself is already verified and in place."""
    from .waveform import draw, peaks, png_bytes

    picture = Path(plan.spec.waveform)
    if plan.spec.split or plan.spec.tracks.all or "{" in str(picture):
        picture = picture.with_name(f"{picture.stem}-{plan.output.stem}{picture.suffix or '.png'}")
    try:
        data = png_bytes(draw(peaks(plan.output, samples)))
        with atomic_output(picture, overwrite=plan.spec.overwrite) as temp:
            temp.write_bytes(data)
            publish(temp, picture, overwrite=plan.spec.overwrite)
    except (VaxError, OSError) as exc:
        return f"no waveform picture: {exc}"
    return f"waveform picture: {picture}"


def _copy_mtime(source: Path, output: Path) -> None:
    """--keep-mtime: the output carries the recording's time, as archivists expect."""
    import os

    stat = source.stat()
    os.utime(output, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str):
    """--timeout: stop a job that runs too long (a decoder stuck on a damaged file) with its own
    error, through the job's own cleanup. Uses SIGALRM in the main thread; elsewhere (a
    thread, or a platform without SIGALRM) the limit is not enforced here."""
    import signal
    import threading

    usable = (seconds and hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expired(signum, frame):
        raise timed_out(what, seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
