"""`vax library status` and `vax library report`: what the catalogue knows, counted.

One function gathers the figures (``status``, a plain dict, also the ``--json`` output);
the text, Markdown and HTML views only lay them out.
"""

from __future__ import annotations

import html
import json

from .catalog import Catalog

FAILURES_SHOWN = 50


def status(catalog: Catalog) -> dict:
    one = catalog.rows
    files = {r["kind"] if r["present"] else "vanished": r["n"] for r in one(
        "SELECT kind, present, COUNT(*) AS n FROM files GROUP BY kind, present")}
    media = "present = 1 AND kind IN ('media', 'changed')"
    seconds = one(f"SELECT COALESCE(SUM(duration), 0) AS s, COALESCE(SUM(size), 0) AS b FROM files WHERE {media}")[0]
    containers = {r["container"] or "?": r["n"] for r in one(
        f"SELECT container, COUNT(*) AS n FROM files WHERE {media} GROUP BY container ORDER BY n DESC")}
    codecs = {r["codecs"] or "?": r["n"] for r in one(
        f"SELECT codecs, COUNT(*) AS n FROM files WHERE {media} GROUP BY codecs ORDER BY n DESC")}
    media_count = sum(containers.values())
    extractions = []
    for job in one("SELECT job_key, dest, options FROM jobs GROUP BY job_key ORDER BY MIN(finished_at)"):
        by_status = {r["status"]: r["n"] for r in one(
            "SELECT status, COUNT(*) AS n FROM jobs WHERE job_key = ? GROUP BY status", (job["job_key"],))}
        failures = [{"path": r["path"], "error": r["error"], "message": r["message"]} for r in one(
            "SELECT path, error, message FROM jobs WHERE job_key = ? AND status = 'failed' ORDER BY path LIMIT ?",
            (job["job_key"], FAILURES_SHOWN))]
        extractions.append({"key": job["job_key"], "dest": job["dest"], "options": _short(job["options"]),
                            "statuses": by_status, "not_done": max(0, media_count - by_status.get("done", 0)),
                            "failures": failures})
    unreadable = [{"path": r["path"], "reason": r["reason"]} for r in one(
        "SELECT path, reason FROM files WHERE present = 1 AND kind = 'unreadable' ORDER BY path LIMIT ?",
        (FAILURES_SHOWN,))]
    return {"catalog": str(catalog.path), "files": files, "media": media_count,
            "audio_hours": round(seconds["s"] / 3600, 3), "media_bytes": seconds["b"], "containers": containers,
            "codecs": codecs, "extractions": extractions, "unreadable": unreadable}


def _short(options_json: str | None) -> str:
    """The options that differ from the defaults, as `key=value` words."""
    from extractor.jobspec import JobSpec

    options = json.loads(options_json or "{}")
    defaults = JobSpec(input="x").to_dict()
    changed = [f"{k}={v}" for k, v in sorted(options.items()) if defaults.get(k) != v]
    return " ".join(changed) or "defaults (lossless copy)"


def as_text(figures: dict) -> str:
    return "\n".join(_lines(figures, heading=lambda text, level: text + ":", bullet="  "))


def as_markdown(figures: dict) -> str:
    return "\n".join(_lines(figures, heading=lambda text, level: "#" * level + " " + text, bullet="- ")) + "\n"


def as_html(figures: dict) -> str:
    body = []
    for line in _lines(figures, heading=lambda text, level: f"<h{level}>{html.escape(text)}</h{level}>", bullet="\0"):
        body.append(f"<li>{html.escape(line[1:])}</li>" if line.startswith("\0") else line)
    return ("<!doctype html><meta charset=utf-8><title>vax library report</title>"
            "<style>body{font:14px system-ui;max-width:60em;margin:2em auto}</style>\n" + "\n".join(body) + "\n")


def _lines(figures: dict, *, heading, bullet: str):
    yield heading(f"Library {figures['catalog']}", 1)
    yield f"{bullet}{figures['media']} media files, {figures['audio_hours']:.2f} hours of audio"
    yield heading("Files", 2)
    yield from (f"{bullet}{kind}: {n}" for kind, n in sorted(figures["files"].items()))
    yield heading("Containers", 2)
    yield from (f"{bullet}{name}: {n}" for name, n in figures["containers"].items())
    yield heading("Audio codecs", 2)
    yield from (f"{bullet}{name}: {n}" for name, n in figures["codecs"].items())
    for each in figures["extractions"]:
        yield heading(f"Extraction to {each['dest']} ({each['options']})", 2)
        yield from (f"{bullet}{name}: {n}" for name, n in sorted(each["statuses"].items()))
        yield f"{bullet}not done yet: {each['not_done']}"
        yield from (f"{bullet}failed: {f['path']}: {f['message']}" for f in each["failures"])
    if figures["unreadable"]:
        yield heading("Unreadable files", 2)
        yield from (f"{bullet}{u['path']}: {u['reason']}" for u in figures["unreadable"])
