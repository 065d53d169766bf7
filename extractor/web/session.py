"""The workspace: uploaded files, probes, jobs and results, kept as JSON on disk.

Everything the page shows lives in ``session.json`` inside the workspace, so a restarted
server picks up where the user left off. Uploads go to ``uploads/<file id>/``, each job's
outputs to ``outputs/<job id>/``: a job owns its folder, which makes cancelling and
clearing exact (nothing outside those folders is ever deleted; files added by path stay).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

from extractor.publish import TEMP_MARK, remove_quietly

SESSION_FILE = "session.json"
FINISHED = ("done", "failed", "cancelled", "interrupted")
INTERRUPTED = "vax serve stopped before this job finished, so no file was kept; run the request again"


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(5)}"


class Session:
    """Thread-safe store of the session's state; every change is written through to disk."""

    def __init__(self, workspace: Path):
        self.root = Path(workspace).resolve()
        self.uploads = self.root / "uploads"
        self.outputs = self.root / "outputs"
        for folder in (self.root, self.uploads, self.outputs):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.version = 0  # bumped on every change, so event streams know when to send
        self._state = self._load()

    # -- persistence ----------------------------------------------------------------------
    def _load(self) -> dict:
        state = {"files": [], "jobs": [], "settings": {"cloud": False}}
        path = self.root / SESSION_FILE
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return state
        if isinstance(saved, dict):
            for key, empty in state.items():
                if isinstance(saved.get(key), type(empty)):
                    state[key] = saved[key]
        # Jobs that were running when the server stopped did not finish: say so, and
        # remove whatever temporary file their worker left behind.
        for job in state["jobs"]:
            if job.get("status") not in FINISHED:
                job.update(status="interrupted", message=INTERRUPTED)
                self._sweep_temps(job["id"])
        return state

    def _save(self) -> None:
        self.version += 1
        path = self.root / SESSION_FILE
        temp = path.with_name(f".{SESSION_FILE}{TEMP_MARK}{secrets.token_hex(4)}")
        temp.write_text(json.dumps(self._state, indent=1), encoding="utf-8")
        os.replace(temp, path)

    # -- reading --------------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._state)

    def file(self, file_id: str) -> dict | None:
        with self._lock:
            found = next((f for f in self._state["files"] if f["id"] == file_id), None)
            return copy.deepcopy(found)

    def files(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._state["files"])

    def job(self, job_id: str) -> dict | None:
        with self._lock:
            found = next((j for j in self._state["jobs"] if j["id"] == job_id), None)
            return copy.deepcopy(found)

    def output_names(self) -> set[str]:
        """Names the results of this session have or will have (failed and cancelled jobs keep none)."""
        with self._lock:
            return {name for job in self._state["jobs"] if job["status"] not in FINISHED[1:]
                    for name in [*job.get("outputs", []), *(r.get("name", "") for r in job.get("results", []))]}

    def path_names(self) -> dict[str, str]:
        """Each file's path on this computer -> the name the page shows for it."""
        with self._lock:
            return {f["path"]: f["name"] for f in self._state["files"]}

    def setting(self, name: str):
        with self._lock:
            return self._state["settings"].get(name)

    # -- changing -------------------------------------------------------------------------
    def add_file(self, *, name: str, path: str, size: int, source: str, probe: dict,
                 file_id: str | None = None) -> dict:
        with self._lock:
            # Two files of one name get "talk (2).mp4": each card, control and result then has its own name.
            taken = {f["name"] for f in self._state["files"]}
            stem, suffix = Path(name).stem, Path(name).suffix
            number = 2
            while name in taken:
                name, number = f"{stem} ({number}){suffix}", number + 1
            entry = {"id": file_id or new_id("f"), "name": name, "path": path, "size": size, "source": source,
                     "probe": probe, "last_options": None, "added": time.time()}
            self._state["files"].append(entry)
            self._save()
        return copy.deepcopy(entry)

    def remember_options(self, file_id: str, options: dict) -> None:
        with self._lock:
            for entry in self._state["files"]:
                if entry["id"] == file_id:
                    entry["last_options"] = options
            self._save()

    def add_job(self, *, file_id: str, request: str, options: dict, understood: str, job_id: str,
                outputs: list[str] = ()) -> dict:
        job = {"id": job_id, "file_id": file_id, "request": request, "options": options,
               "understood": understood, "status": "queued", "progress": 0.0, "message": "",
               "results": [], "outputs": list(outputs), "created": time.time()}
        with self._lock:
            self._state["jobs"].append(job)
            self._save()
        return copy.deepcopy(job)

    def update_job(self, job_id: str, **changes) -> dict | None:
        with self._lock:
            for job in self._state["jobs"]:
                if job["id"] == job_id:
                    if job["status"] in FINISHED and changes.get("status") not in (None, *FINISHED):
                        return copy.deepcopy(job)  # a late progress line must not revive a finished job
                    job.update(changes)
                    self._save_throttled(changes)
                    return copy.deepcopy(job)
        return None

    def _save_throttled(self, changes: dict) -> None:
        # Progress ticks arrive many times a second: count them as changes for the event
        # streams, but only write the file for the changes worth keeping across a restart.
        if set(changes) <= {"progress", "current"}:
            self.version += 1
        else:
            self._save()

    def set_setting(self, name: str, value) -> None:
        with self._lock:
            self._state["settings"][name] = value
            self._save()

    def job_folder(self, job_id: str) -> Path:
        return self.outputs / job_id

    def upload_folder(self, file_id: str) -> Path:
        return self.uploads / file_id

    def discard_job_outputs(self, job_id: str) -> None:
        shutil.rmtree(self.job_folder(job_id), ignore_errors=True)

    def _sweep_temps(self, job_id: str) -> None:
        folder = self.job_folder(job_id)
        if folder.is_dir():
            for leftover in folder.glob(f"*{TEMP_MARK}*"):
                remove_quietly(leftover)

    def remove_file(self, file_id: str) -> dict | None:
        """Forget one file and its jobs, and delete its outputs and (only if uploaded) its copy.

        The caller cancels the file's running jobs first, so no worker still writes here.
        A file added by path is the user's own: it is never deleted, only forgotten.
        """
        with self._lock:
            entry = next((f for f in self._state["files"] if f["id"] == file_id), None)
            if entry is None:
                return None
            jobs = [j for j in self._state["jobs"] if j.get("file_id") == file_id]
            for job in jobs:
                _remove_inside(self.outputs, self.job_folder(job["id"]))
            if entry.get("source") == "upload":
                _remove_inside(self.uploads, self.upload_folder(file_id))
            self._state["files"] = [f for f in self._state["files"] if f["id"] != file_id]
            self._state["jobs"] = [j for j in self._state["jobs"] if j.get("file_id") != file_id]
            self._save()
            return copy.deepcopy(entry)

    def clear(self) -> None:
        """Forget every file and job, and delete the uploads and outputs (never files added by path)."""
        with self._lock:
            shutil.rmtree(self.uploads, ignore_errors=True)
            shutil.rmtree(self.outputs, ignore_errors=True)
            self.uploads.mkdir(parents=True, exist_ok=True)
            self.outputs.mkdir(parents=True, exist_ok=True)
            self._state["files"] = []
            self._state["jobs"] = []
            self._save()


def _remove_inside(parent: Path, folder: Path) -> None:
    # Ids come from session.json, which is a file on disk: a doctored id must not lead
    # the deletion out of the workspace's own folders.
    if folder.resolve().parent == parent.resolve():
        shutil.rmtree(folder, ignore_errors=True)
