"""One job inside a batch worker process (or in-process for --jobs 1).

Signals: workers ignore SIGINT (the parent decides what a Ctrl-C stops); SIGTERM and SIGHUP unwind
the running job through its ``finally`` blocks, which remove its temporary file, unless
the output was already published (then the job finishes recording it). A worker watches a
lifeline pipe whose only writing end the parent holds, and stops when it closes, even
after the parent was killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from extractor.errors import Interrupted, NotMedia, OutputExists, outcome_of
from extractor.guard import run_guarded
from extractor.publish import interrupt

from . import record
from .expand import MEDIA_EXTENSIONS

PROGRESS_EVERY = 0.2  # seconds between a worker's progress messages

_progress_queue = None
_run_id: str | None = None  # the batch this process works for (see ``record``)
_run_inputs: frozenset[str] = frozenset()  # real paths of every input of that batch
_busy = False
_stopping = False
_orphaned = False


def set_run(run_id: str | None, inputs) -> None:
    """Which batch the jobs of this process belong to, and all of its inputs (none is ever written over)."""
    global _run_id, _run_inputs
    _run_id, _run_inputs = run_id, frozenset(inputs)


def init_worker(queue, lifeline, keep_alive, run_id: str | None = None, inputs=()) -> None:
    import threading

    keep_alive.close()  # a forked worker inherits the parent's end; it must not keep itself alive
    global _progress_queue
    _progress_queue = queue
    set_run(run_id, inputs)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what a Ctrl-C stops
    signal.signal(signal.SIGTERM, _stop_worker)
    if hasattr(signal, "SIGHUP"):  # the terminal closed: the whole process group hears it
        signal.signal(signal.SIGHUP, _stop_worker)
    threading.Thread(target=_watch_parent, args=(lifeline,), name="vax-lifeline", daemon=True).start()


def _watch_parent(lifeline) -> None:
    """Stop when the parent is gone, even killed with SIGKILL: its end of the lifeline pipe
    closes. Without this, a worker waits on the job queue forever, holding the parent's
    stdout open (a caller reading it to the end would hang too)."""
    global _orphaned, _stopping
    try:
        lifeline.recv_bytes()
    except (EOFError, OSError):
        pass
    _orphaned = _stopping = True
    if _busy:
        os.kill(os.getpid(), signal.SIGTERM)  # the job unwinds in the main thread, removing its temp file
    else:
        os._exit(Interrupted.exit_code)


def _stop_worker(signum, frame) -> None:
    global _stopping
    _stopping = True
    # Unwind through the job's finally blocks, which remove its temporary file; but once the
    # output is published, let the job finish recording it (a few lines) so it gets reported.
    if _busy and not _published():
        interrupt(Interrupted(), frame)  # at once, or once a publish, cleanup or import is over


_writing: tuple[Path, tuple | None] | None = None  # the output being made, and its state before


def _file_state(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _published() -> bool:
    return _writing is not None and _file_state(_writing[0]) != _writing[1]


def run_job(job_id: int, spec_json: str, resume: bool, debug: bool, progress=None) -> dict:
    """Run one job spec to the end; never raises. Returns a plain dict (see ``outcome_for``)."""
    global _busy
    from extractor.jobspec import JobSpec

    spec = JobSpec.from_json(spec_json)
    outcome = outcome_for(job_id, spec.input)
    if _stopping:
        outcome["status"] = "interrupted"
        return outcome
    if progress is None and _progress_queue is not None:
        progress = _queue_progress(job_id)
        # Which process works on which job: if this one dies, the parent retries only this job.
        _progress_queue.put((job_id, "started", os.getpid()))

    def report(exc) -> None:
        outcome["error"] = outcome_of(exc)

    _busy = True
    try:
        code = run_guarded(lambda: _run_spec(spec, resume, progress, outcome), debug=debug, report=report)
    finally:
        _busy = False
    if _orphaned:  # nobody is left to read the outcome
        os._exit(Interrupted.exit_code)
    if code == Interrupted.exit_code:
        outcome["status"] = "interrupted"
    elif code:
        outcome["status"] = "failed"
    elif not outcome["results"]:
        outcome["status"] = "skipped"
    return outcome


def outcome_for(job_id: int, input_path: str) -> dict:
    return {"id": job_id, "input": input_path, "status": "ok", "results": [], "skipped": [], "error": None}


def _queue_progress(job_id: int):
    last = 0.0

    def send(_plan, fraction: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY or fraction >= 1.0:
            last = now
            _progress_queue.put((job_id, fraction))

    return send


def _run_spec(spec, resume: bool, progress, outcome: dict) -> None:
    """The one pipeline, told what is done already (resume) and where each output is being written."""
    from extractor.mediainfo import probe
    from extractor.naming import same_file
    from extractor.pipeline import run_spec

    try:
        info = probe(spec.input, keep_open=True)
    except NotMedia:
        if Path(spec.input).suffix.lower() in MEDIA_EXTENSIONS:
            raise
        outcome["skipped"].append({"output": None, "reason": "not a media file: FFmpeg does not recognise it"})
        return

    def skip(plan) -> str | None:
        if same_file(plan.output, Path(info.path)):
            outcome["skipped"].append({"output": str(plan.output), "reason": "it is its own output"})
            return outcome["skipped"][-1]["reason"]
        _never_over_another(plan.output, spec)
        if resume and not spec.overwrite and plan.output.exists():
            outcome["skipped"].append(_already_done(plan))
            return outcome["skipped"][-1]["reason"]
        return None

    def on_start(plan, _position, _count) -> None:
        global _writing
        if _stopping:  # asked to stop while the previous track was being published
            raise Interrupted()
        _never_over_another(plan.output, spec)  # again: another job of this run may have finished since
        _writing = (plan.output, _file_state(plan.output))

    def on_result(result) -> None:
        global _writing
        outcome["results"].append(result.to_dict())
        record.write(result.output, spec.input, _run_id)
        _writing = None

    global _writing
    try:
        run_spec(spec, info=info, progress=progress, skip=skip, on_start=on_start, on_result=on_result)
    finally:
        _writing = None


def _never_over_another(output: Path, spec) -> None:
    """No job writes over an input of its own run, nor over what another input of this run wrote;
    and an existing output made from another input is never "already done" for this one."""
    if os.path.realpath(output) in _run_inputs:
        raise OutputExists(f"{output} is also an input of this run; not writing over it",
                           hint="choose another output with -o")
    if not os.path.lexists(output):
        return
    other = record.made_from_another(output, spec.input)
    if other is None:
        return
    if other.get("run") == _run_id and _run_id is not None:
        raise OutputExists(f"{output} was written by this run from {other['input']}; not writing over it",
                           hint="two inputs of this run give the same output name; rename one, "
                                "or run them into different folders")
    if not spec.overwrite:
        raise OutputExists(f"{output} exists and was made from {other['input']}, not from {spec.input}",
                           hint="use --overwrite to replace it")


LOUDNESS_TOLERANCE = 1.0  # LU: an existing normalised output further off was made for another target


def _already_done(plan) -> dict:
    """An existing output counts as done only if it verifies against this plan."""
    from extractor.errors import VerificationFailed
    from extractor.verify import verify_output

    try:
        check = verify_output(plan, plan.output)
    except VerificationFailed as exc:
        raise OutputExists(f"{plan.output} exists but is not this job's output ({exc.one_line()})",
                           hint="use --overwrite to replace it") from None
    target = plan.spec.loudness
    if target is not None and check.loudness_lufs is not None and check.loudness_lufs > -70 \
            and abs(check.loudness_lufs - target) > LOUDNESS_TOLERANCE:
        raise OutputExists(f"{plan.output} exists at {check.loudness_lufs:.1f} LUFS, not {target:g} LUFS",
                           hint="use --overwrite to replace it")
    return {"output": str(plan.output), "reason": "already done", "verification": check.to_dict()}
