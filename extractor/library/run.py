"""`vax library extract`: one task per catalogued file that is not done for these options.

A job is keyed by the options and the destination (``job_key``): the same catalogue serves
several extractions (say, lossless copies and MP3s). What runs: files with no record for
the key, ones whose record is not done (failed ones only with ``retry_failed``, unless
their source changed since), and stale ones (the source changed since its output was
made, or the output is gone from disk), which are redone with overwrite. The client alone
writes the catalogue, from the plain dicts the tasks return, and records an output as done
only when it is on disk with the size its verification measured.

Stopping (Ctrl-C, SIGTERM): the engine stops starting tasks and asks those in progress to
stop; they remove their temporary files; the results that still arrive within the grace
period are recorded; left-over temporary files of the tasks in flight are swept; then
``Interrupted`` goes up to the guard (exit 130).
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from extractor.errors import Interrupted
from extractor.jobspec import JobSpec

from .catalog import Catalog
from .paths import PathMap, clashing_stems, output_base, output_template, remove_stale_temps
from .progress import RunProgress
from .tasks import extract_file

IGNORED_IN_KEY = ("input", "output", "overwrite")


def job_key(spec: JobSpec, dest: str) -> tuple[str, str]:
    """(key, options JSON): what makes two runs the same job for a file."""
    options = {k: v for k, v in spec.to_dict().items() if k not in IGNORED_IN_KEY}
    text = json.dumps(options, sort_keys=True)
    return hashlib.sha1(f"{os.path.abspath(dest)}\n{text}".encode()).hexdigest()[:16], text


def todo(catalog: Catalog, key: str, *, retry_failed: bool) -> list[tuple[object, str]]:
    """(file row, why) for every file this run must do."""
    jobs = catalog.jobs_for(key)
    work = []
    for row in catalog.media_files():
        job = jobs.get(row["path"])
        if job is None:
            work.append((row, "missing"))
        elif job["status"] == "done":
            if job["source_fp"] != row["fingerprint"] or not _outputs_present(job):
                work.append((row, "stale"))
        elif retry_failed or job["status"] == "interrupted" or job["source_fp"] != row["fingerprint"]:
            work.append((row, job["status"]))
    return work


def _outputs_present(job) -> bool:
    outputs = json.loads(job["outputs"] or "[]")
    return all(os.path.exists(o["output"]) for o in outputs)


def extract_library(catalog: Catalog, spec: JobSpec, dest: str, engine, *, retry_failed: bool = False,
                    path_map: PathMap | None = None, progress: RunProgress | None = None,
                    task=extract_file) -> dict:
    """Run what is not done; returns counts by status. ``spec`` holds the options (its input is ignored)."""
    path_map = path_map or PathMap()
    dest = os.path.abspath(dest)
    key, options = job_key(spec, dest)
    work = todo(catalog, key, retry_failed=retry_failed)
    clash = clashing_stems(row["rel"] for row in catalog.media_files())
    jobs: dict[str, dict] = {}
    for row, why in work:
        folder, base = output_base(dest, row["rel"], row["rel"] in clash)
        one = spec.replace(input=path_map.to_worker(row["path"]), overwrite=spec.overwrite or why == "stale",
                           output=output_template(path_map.to_worker(folder), base, spec.tracks.all))
        jobs[row["path"]] = {"input": one.input, "spec": one.to_json(), "folder": path_map.to_worker(folder),
                             "base": base, "local_folder": folder, "row": row}
    if progress:
        progress.total = len(jobs)
        progress.total_bytes = sum(j["row"]["size"] or 0 for j in jobs.values())
    record = _Recorder(catalog, key, options, dest, path_map, progress)
    stop = engine.stop_flag()
    tasks = [(path, ({k: v for k, v in job.items() if k not in ("row", "local_folder")}, stop))
             for path, job in jobs.items()]
    arrived = None  # the outcome being recorded when a stop came, if any: it must not be lost
    try:
        for path, outcome in engine.run(task, tasks):
            arrived = (path, outcome)
            record(jobs[path], outcome)
            arrived = None
    except KeyboardInterrupt:
        if arrived and arrived[0] not in record.recorded:
            record(jobs[arrived[0]], arrived[1])
        _stop(engine, jobs, record)
        raise Interrupted("stopped; finished outputs are kept and recorded, unfinished ones removed") from None
    finally:
        catalog.commit()
    return record.counts


def _stop(engine, jobs: dict, record) -> None:
    for path, outcome in engine.stop():
        record(jobs[path], outcome)
    catalog = record.catalog
    catalog.commit()
    for path, job in jobs.items():
        if path not in record.recorded:
            remove_stale_temps(job["local_folder"], job["base"])


class _Recorder:
    """Turns each task's dict into the file's job record, checking its outputs on disk."""

    def __init__(self, catalog, key, options, dest, path_map, progress):
        self.catalog, self.key, self.options, self.dest = catalog, key, options, dest
        self.path_map, self.progress = path_map, progress
        self.counts: dict[str, int] = {}
        self.recorded: set[str] = set()

    def __call__(self, job: dict, outcome: dict) -> None:
        row = job["row"]
        path = row["path"]
        seen = outcome.get("fingerprint")
        if seen and seen != row["fingerprint"]:
            self.catalog.source_changed(path, seen)
        outputs, missing = self._outputs(outcome)
        status, error = _status_of(outcome, outputs, missing)
        if status != "interrupted" or outputs:
            self.catalog.put_job(path, self.key, options=self.options, dest=self.dest, status=status,
                                 outputs=outputs, source_fp=seen or row["fingerprint"], error=error,
                                 elapsed=outcome.get("elapsed"))
        self.recorded.add(path)
        self.counts[status] = self.counts.get(status, 0) + 1
        if self.progress:
            self.progress.file(path, status, row["size"] or 0, outputs=[o["output"] for o in outputs],
                               error=error)

    def _outputs(self, outcome: dict) -> tuple[list[dict], list[str]]:
        """Every output the task made or found done, as the client sees it; and those not on disk."""
        found = [(r["output"], r["verification"]) for r in outcome.get("results", [])]
        found += [(s["output"], s["verification"]) for s in outcome.get("skipped", []) if s.get("verification")]
        outputs, missing = [], []
        for output, verification in found:
            local = self.path_map.to_client(output)
            try:
                on_disk = os.path.getsize(local) == verification.get("size", -1)
            except OSError:
                on_disk = False
            (outputs if on_disk else missing).append(
                {"output": local, "size": verification.get("size"), "duration": verification.get("duration"),
                 "codec": verification.get("codec"), "verified_at": time.time()} if on_disk else local)
        return outputs, missing


def _status_of(outcome: dict, outputs: list, missing: list) -> tuple[str, dict | None]:
    if missing:
        return "failed", {"error": "output missing", "exit_code": 9,
                          "message": f"{missing[0]} is not on disk (or not as verified) after the run"}
    status = outcome.get("status")
    if status == "interrupted":
        return "interrupted", None
    if status == "failed":
        return "failed", outcome.get("error")
    if status == "skipped" and not outputs:
        reason = "; ".join(s["reason"] for s in outcome.get("skipped", [])) or "nothing to extract"
        return "skipped", {"error": "skipped", "message": reason, "exit_code": 0}
    return "done", None
