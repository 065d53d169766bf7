"""What runs on a worker: probe one file, or extract one file through the one pipeline.

Each takes and returns plain data (paths as the worker sees them) and never raises, so any
engine can carry it; nothing here touches the catalogue. Extraction is the batch worker's
``run_job`` (``extractor.batch.worker``): the pipeline with resume, i.e. an existing
output that verifies against this job's plan counts as done instead of being redone. That
is what makes a task safe to run twice (a retry after a lost worker, a re-run after a
killed client).
"""

from __future__ import annotations

import os
from pathlib import Path

from extractor.errors import InputNotFound, Interrupted, NotMedia, as_vax_error, outcome_of

from .engine_base import NeverStop, failed
from .fingerprint import fingerprint
from .paths import remove_stale_temps


def probe_file(path: str) -> dict:
    """Fingerprint and probe: what the catalogue records of a new or changed file."""
    from extractor.batch.expand import MEDIA_EXTENSIONS
    from extractor.mediainfo import probe

    row: dict = {"kind": "media", "reason": None, "probe": None}
    try:
        stat = os.stat(path)
        row.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns, fingerprint=fingerprint(path, stat))
        row["probe"] = probe(path).to_dict()
        if not row["probe"]["audio"]:
            row.update(kind="no-audio", reason="no audio track")
    except NotMedia as exc:
        media = Path(path).suffix.lower() in MEDIA_EXTENSIONS
        row.update(kind="unreadable" if media else "not-media", reason=exc.one_line())
    except OSError as exc:
        row.update(kind="unreadable", reason=f"cannot read it: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001  (a damaged file must not stop the scan)
        row.update(kind="unreadable", reason=as_vax_error(exc).one_line())
    return row


def extract_file(job: dict, stop=None) -> dict:
    """Run one library job: ``job`` has the spec (JSON), the output folder and base name."""
    from extractor.batch.worker import run_job

    stop = stop or NeverStop()
    remove_stale_temps(job["folder"], job["base"])  # left by a worker that died writing this output
    source = job["input"]
    try:
        seen = fingerprint(source)
    except OSError as exc:
        return _failed(InputNotFound(f"{source}: {exc.strerror or exc}"))
    if stop.check():
        return {"status": "interrupted", "results": [], "skipped": [], "error": None, "fingerprint": seen}
    outcome = run_job(0, job["spec"], True, False, progress=_stopper(stop))
    outcome["fingerprint"] = seen
    if outcome["status"] in ("ok", "skipped") and _changed(source, seen):
        _remove_new_outputs(outcome)
        return {**_failed(InputNotFound(f"{source} changed while it was being extracted; run again")),
                "fingerprint": seen}
    return outcome


def _failed(error) -> dict:
    return {**failed(error.one_line()), "error": outcome_of(error)}


def _stopper(stop):
    def progress(_plan, fraction: float) -> None:
        # Never after publishing (fraction 1.0): an output on disk must reach the client's records.
        if fraction < 1.0 and stop.is_set():
            raise Interrupted()

    return progress


def _changed(source: str, seen: str) -> bool:
    try:
        return fingerprint(source) != seen
    except OSError:
        return True


def _remove_new_outputs(outcome: dict) -> None:
    """Outputs made from a source that changed under the decoder hold a mix of both versions."""
    for result in outcome["results"]:
        try:
            os.unlink(result["output"])
        except OSError:
            pass
    outcome["results"] = []
