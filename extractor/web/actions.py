"""What a request typed on the page does: preview it, then run it as jobs or answer it.

The words go through the same interpreter as ``vax do`` (``extractor.words``), with the same
safety rule: a request with words it could not place never runs (a dropped "not" or "last"
could invert it). The page adds rules of its own: every output lands in the job's own folder
inside the workspace, named by what was asked (a requested name keeps only its file name);
the cloud is used only when the page's cloud switch is on; "do the same for all" runs on the
files where the request fits and says why it skipped the others; "start over" forgets the
file's earlier request, so the next one inherits nothing.
"""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

from ..errors import CloudNotAllowed, UsageError, VaxError
from ..mediainfo import AudioTrack
from . import names
from .session import Session, new_id
from .speech import page_text

START_OVER = re.compile(r"^\s*(?:let'?s\s+)?(?:start(?:ing)?\s+(?:over|again|afresh|from\s+scratch)|from\s+scratch|"
                        r"reset|forget\s+(?:that|it|the\s+last(?:\s+one)?)|new\s+request)\b[\s,.;:!-]*",
                        re.IGNORECASE)


def interpreter():
    """The ``extractor.request`` module, imported on first use."""
    try:
        return import_module("extractor.words")
    except ImportError as exc:
        raise UsageError(f"the request interpreter is not available in this build ({exc})") from None


def split_start_over(text: str) -> tuple[bool, str]:
    """(whether the request starts over, the rest of it)."""
    found = START_OVER.match(text or "")
    return (True, text[found.end():].strip()) if found else (False, (text or "").strip())


def interpret(session: Session, file: dict, text: str, *, fresh: bool = False):
    text = (text or "").strip()
    if not text:
        raise UsageError("say what you want first, e.g. \"just the audio as mp3\"")
    if len(text) > 2000:
        raise UsageError("that request is too long (over 2000 characters)")
    return interpreter().interpret(text, previous=None if fresh else file.get("last_options"),
                                   duration=(file.get("probe") or {}).get("duration"))


def refuse_unknown(found) -> None:
    if found.unknown:
        words = ", ".join(f"\u201c{u}\u201d" for u in found.unknown)
        raise UsageError(f"I did not understand {words}, so nothing was run; change or remove "
                         f"{'that part' if len(found.unknown) == 1 else 'those parts'} and run it again")


def build_spec(session: Session, file: dict, interpretation, options: dict, job_id: str):
    """The job spec for this file, with its outputs fenced into the job's folder and named
    by what was asked; a name an earlier result of the session has gets a number."""
    folder = session.job_folder(job_id)
    overrides = {"output": output_inside(folder, options.get("output")), "overwrite": True}
    cloud = bool(session.setting("cloud"))
    if not cloud and (options.get("backend") == "remote" or options.get("allow_cloud")):
        raise CloudNotAllowed("this asks for the cloud, which is off on this page",
                              hint="switch the cloud on first; it uploads the file")
    overrides["allow_cloud"] = cloud
    spec = _spec_for(interpretation, file["path"], options, overrides)
    plans = plan_outputs(spec)
    if not options.get("output"):
        spec, plans = _named(spec, plans, folder, names.output_stem(file["name"], options), session.output_names())
    check_outputs_inside(plans, folder)
    return spec, plans


def _named(spec, plans: list, folder: Path, stem: str, taken: set[str]):
    track = ".{track}-{lang}" if len(plans) > 1 else ""
    for number in range(1, 1000):
        numbered = stem if number == 1 else f"{stem} ({number})"
        candidate = spec.replace(output=str(folder / f"{_template_safe(numbered)}{track}.{{ext}}"))
        plans = plan_outputs(candidate)
        if not taken.intersection(p.output.name for p in plans):
            return candidate, plans
    raise UsageError("too many results with this name; clear the session or name the output")


def _template_safe(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def plan_outputs(spec) -> list:
    from ..mediainfo import probe
    from ..planner import plan_jobs

    return plan_jobs(spec, probe(spec.input))


def _spec_for(interpretation, input_path: str, options: dict, overrides: dict):
    if options == interpretation.options:  # the request as said (its "lossless" rule included)
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


def check_outputs_inside(plans: list, folder: Path) -> None:
    root = folder.resolve()
    for plan in plans:
        if root not in plan.output.resolve().parents:
            raise UsageError(f"refused: the output {plan.output.name} would be written outside the workspace")


def preview(session: Session, file: dict, text: str) -> dict:
    """What a request would do, in words, without running it."""
    fresh, rest = split_start_over(text)
    if fresh and not rest:
        return {"intent": "start_over", "understood": STARTED_OVER, "unknown": [], "options": {}, "outputs": []}
    found = interpret(session, file, rest, fresh=fresh)
    answer = {"intent": found.intent, "understood": found.understood, "unknown": list(found.unknown),
              "options": found.options, "outputs": []}
    if found.intent == "extract":
        try:
            _spec, plans = build_spec(session, file, found, found.options, "preview")
            answer["outputs"] = [p.output.name for p in plans]
            answer["plan"] = [page_text(p.explanation, session.path_names()) for p in plans]
        except VaxError as exc:
            answer["problem"] = speak(session, exc)
    elif found.intent == "apply_all":
        options = found.options or file.get("last_options") or {}
        fits, skipped = [], []
        for each in session.files():
            if each["id"] != file["id"]:
                try:
                    build_spec(session, each, found, options, "preview")
                    fits.append(each["name"])
                except VaxError as exc:
                    skipped.append({"name": each["name"], "reason": speak(session, exc)})
        answer["targets"], answer["skipped"] = fits, skipped
    return answer


STARTED_OVER = "Start over: forget the earlier request on this file, so the next one starts from scratch"


def speak(session: Session, error: VaxError) -> str:
    return page_text(error.one_line(), session.path_names())


def run(session: Session, runner, file: dict, text: str) -> dict:
    """Run a request: new jobs (extract, upload, apply_all) or a direct answer (probe, credits)."""
    fresh, rest = split_start_over(text)
    if fresh:
        session.remember_options(file["id"], None)
        if not rest:
            return {"kind": "answer", "answer": "Starting over: the next request on this file starts from scratch.",
                    "interpretation": {"intent": "start_over", "understood": STARTED_OVER, "unknown": []}}
    found = interpret(session, file, rest, fresh=fresh)
    refuse_unknown(found)
    if found.intent == "probe":
        return {"kind": "answer", "interpretation": _brief(found), "answer": describe_tracks(session, file)}
    if found.intent == "credits":
        return {"kind": "answer", "interpretation": _brief(found), "answer": credits_text(session)}
    if found.intent == "upload" and not session.setting("cloud"):
        raise CloudNotAllowed("uploading needs the cloud, which is off on this page",
                              hint="switch the cloud on first; it says what will be uploaded")
    if found.intent == "apply_all":
        return _apply_all(session, runner, file, found, text)
    options = dict(found.options)
    if found.intent == "upload":
        options.update(backend="remote", allow_cloud=True)
    return {"kind": "jobs", "interpretation": _brief(found),
            "jobs": [_start(session, runner, file, found, options, text)]}


def _apply_all(session: Session, runner, file: dict, found, text: str) -> dict:
    """The same request on every other file where it fits; the others are skipped with the reason."""
    options = found.options or file.get("last_options")
    if not options:
        raise UsageError("there is no earlier request on this file to repeat; say what you want first")
    targets = [f for f in session.files() if f["id"] != file["id"]]
    if not targets:
        raise UsageError("this is the only file in the session; add more files first")
    jobs, skipped = [], []
    for each in targets:
        try:
            jobs.append(_start(session, runner, each, found, options, text))
        except VaxError as exc:
            skipped.append({"file_id": each["id"], "name": each["name"], "reason": speak(session, exc)})
    if not jobs:
        reasons = "; ".join(s["reason"] for s in skipped)
        raise UsageError(f"that request fits none of the other files, so nothing was run: {reasons}")
    return {"kind": "jobs", "interpretation": _brief(found), "jobs": jobs, "skipped": skipped}


def _start(session: Session, runner, file: dict, interpretation, options: dict, text: str) -> dict:
    job_id = new_id("j")
    spec, plans = build_spec(session, file, interpretation, options, job_id)
    job = session.add_job(file_id=file["id"], request=text, options=options, understood=interpretation.understood,
                          job_id=job_id, outputs=[p.output.name for p in plans])
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
