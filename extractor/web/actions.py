"""What a request typed on the page does: preview it, then run it as jobs or answer it.

The words go through the same interpreter as ``vax do`` (``extractor.request``). The page
adds two rules of its own: every output lands in the job's own folder inside the workspace
(a requested name keeps only its file name), and the cloud is used only when the page's
cloud switch is on.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ..errors import CloudNotAllowed, UsageError, VaxError
from ..mediainfo import AudioTrack
from .session import Session, new_id


def interpreter():
    """The ``extractor.request`` module, imported on first use."""
    try:
        return import_module("extractor.words")
    except ImportError as exc:
        raise UsageError(f"the request interpreter is not available in this build ({exc})") from None


def interpret(session: Session, file: dict, text: str):
    text = (text or "").strip()
    if not text:
        raise UsageError("say what you want first, e.g. \"just the audio as mp3\"")
    if len(text) > 2000:
        raise UsageError("that request is too long (over 2000 characters)")
    return interpreter().interpret(text, previous=file.get("last_options"),
                                   duration=(file.get("probe") or {}).get("duration"))


def build_spec(session: Session, file: dict, interpretation, options: dict, job_id: str):
    """The job spec for this file, with its outputs fenced into the job's folder."""
    overrides = {"output": output_inside(session.job_folder(job_id), options.get("output")),
                 "overwrite": True}
    cloud = bool(session.setting("cloud"))
    if not cloud and (options.get("backend") == "remote" or options.get("allow_cloud")):
        raise CloudNotAllowed("this asks for the cloud, which is off on this page",
                              hint="switch the cloud on first; it uploads the file")
    overrides["allow_cloud"] = cloud
    spec = _spec_for(interpretation, file["path"], options, overrides)
    check_outputs_inside(spec, session.job_folder(job_id))
    return spec


def _spec_for(interpretation, input_path: str, options: dict, overrides: dict):
    if options is interpretation.options:
        return interpretation.spec_for(input_path, **overrides)
    from ..jobspec import JobSpec

    return JobSpec.build(input_path, **{**options, **overrides})


def output_inside(folder: Path, requested) -> str:
    """A requested name ("call it interview.mp3") keeps only its file name; folders are ignored."""
    if requested:
        name = Path(str(requested)).name
        if name and "{" not in name and Path(name).suffix and name not in (".", ".."):
            return str(folder / name)
    return str(folder) + "/"


def check_outputs_inside(spec, folder: Path) -> None:
    from ..mediainfo import probe
    from ..planner import plan_jobs

    root = folder.resolve()
    for plan in plan_jobs(spec, probe(spec.input)):
        if root not in plan.output.resolve().parents:
            raise UsageError(f"refused: the output {plan.output.name} would be written outside the workspace")


def preview(session: Session, file: dict, text: str) -> dict:
    """What a request would do, in words, without running it."""
    found = interpret(session, file, text)
    answer = {"intent": found.intent, "understood": found.understood, "unknown": list(found.unknown),
              "options": found.options, "outputs": []}
    if found.intent == "extract":
        try:
            spec = build_spec(session, file, found, found.options, "preview")
            from ..mediainfo import probe
            from ..planner import plan_jobs

            plans = plan_jobs(spec, probe(spec.input))
            answer["outputs"] = [p.output.name for p in plans]
            answer["plan"] = [p.explanation for p in plans]
        except VaxError as exc:
            answer["problem"] = exc.one_line()
    elif found.intent == "apply_all":
        others = [f["name"] for f in session.files() if f["id"] != file["id"]]
        answer["targets"] = others
    return answer


def run(session: Session, runner, file: dict, text: str) -> dict:
    """Run a request: new jobs (extract, upload, apply_all) or a direct answer (probe, credits)."""
    found = interpret(session, file, text)
    if found.intent == "probe":
        return {"kind": "answer", "interpretation": _brief(found), "answer": describe_tracks(session, file)}
    if found.intent == "credits":
        return {"kind": "answer", "interpretation": _brief(found), "answer": credits_text(session)}
    if found.intent == "upload" and not session.setting("cloud"):
        raise CloudNotAllowed("uploading needs the cloud, which is off on this page",
                              hint="switch the cloud on first; it says what will be uploaded")
    if found.intent == "apply_all":
        options = found.options or file.get("last_options")
        if not options:
            raise UsageError("there is no earlier request on this file to repeat; say what you want first")
        targets = [f for f in session.files() if f["id"] != file["id"]]
        if not targets:
            raise UsageError("this is the only file in the session; add more files first")
        jobs = [_start(session, runner, each, found, options, text) for each in targets]
        return {"kind": "jobs", "interpretation": _brief(found), "jobs": jobs}
    options = dict(found.options)
    if found.intent == "upload":
        options.update(backend="remote", allow_cloud=True)
    return {"kind": "jobs", "interpretation": _brief(found),
            "jobs": [_start(session, runner, file, found, options, text)]}


def _start(session: Session, runner, file: dict, interpretation, options: dict, text: str) -> dict:
    job_id = new_id("j")
    spec = build_spec(session, file, interpretation, options, job_id)
    job = session.add_job(file_id=file["id"], request=text, options=options,
                          understood=interpretation.understood, job_id=job_id)
    session.remember_options(file["id"], options)
    runner.start(job_id, spec.to_dict())
    return job


def _brief(found) -> dict:
    return {"intent": found.intent, "understood": found.understood, "unknown": list(found.unknown)}


def describe_tracks(session: Session, file: dict) -> str:
    probe = file.get("probe") or {}
    tracks = probe.get("audio") or []
    count = f"{len(tracks)} audio track{'s' if len(tracks) != 1 else ''}"
    lines = [f"{file['name']}: {probe.get('container_long', 'media')}, {count}"]
    lines += [AudioTrack(**t).describe() for t in tracks]
    jobs = [j for j in session.snapshot()["jobs"] if j["file_id"] == file["id"]]
    if jobs:
        last = jobs[-1]
        lines.append(f"last request: \"{last['request']}\" ({last['status']})")
    return "\n".join(lines)


def credits_text(session: Session) -> str:
    if not session.setting("cloud"):
        return ("The cloud is off, so vax has not contacted NemoVideo. Switch the cloud on to see your credits.")
    try:
        remote = import_module("backends.remote")
        summary = remote.credits_summary
    except (ImportError, AttributeError):
        return "Credits belong to the NemoVideo cloud backend, which is not available in this build."
    try:
        found = summary()
    except VaxError as exc:
        return f"Could not read the credits: {exc.one_line()}"
    if not isinstance(found, dict):
        return f"NemoVideo credits: {found}"
    def number(value) -> str:
        return f"{value:g}" if isinstance(value, (int, float)) else "unknown"

    held = f", {number(found['frozen'])} held for running jobs" if found.get("frozen") else ""
    who = " (anonymous trial account)" if found.get("anonymous") else ""
    return f"NemoVideo credits: {number(found.get('available'))} available{held}{who}."
