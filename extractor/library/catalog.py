"""The catalogue: one SQLite database (stdlib ``sqlite3``, WAL mode), written only by the client.

``files``: one row per file seen under the scanned roots: size, mtime, fingerprint, what it is
(media, not-media, unreadable, skipped), the probe as JSON and a few columns pulled out of it
for counting; ``present`` is 0 once it has vanished. ``jobs``: one row per (file, job key), the
key naming the extract options and destination, with the status (done, failed, interrupted),
the outputs with their verification figures, the source fingerprint the output was made from,
the error and the timings. Workers send plain dicts back; only this module writes.

WAL lets `vax library status` read while an extract is writing; rows are committed in small
groups (``COMMIT_EVERY``) so a killed client loses at most a second of records, and those
outputs are found again (verified on disk) by the next run.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from extractor.errors import UsageError

COMMIT_EVERY = 1.0  # seconds
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, rel TEXT, size INTEGER, mtime_ns INTEGER, fingerprint TEXT, kind TEXT, reason TEXT,
    container TEXT, duration REAL, codecs TEXT, audio_tracks INTEGER, probe TEXT,
    present INTEGER NOT NULL DEFAULT 1, seen_at REAL, probed_at REAL);
CREATE TABLE IF NOT EXISTS jobs (
    path TEXT NOT NULL, job_key TEXT NOT NULL, options TEXT, dest TEXT, status TEXT, outputs TEXT,
    source_fp TEXT, error TEXT, message TEXT, exit_code INTEGER, attempts INTEGER DEFAULT 0,
    elapsed REAL, finished_at REAL, PRIMARY KEY (path, job_key));
"""
FILE_COLUMNS = ("path", "rel", "size", "mtime_ns", "fingerprint", "kind", "reason", "container", "duration", "codecs",
                "audio_tracks", "probe", "present", "seen_at", "probed_at")


class Catalog:
    def __init__(self, path: str | Path, *, create: bool = True):
        path = Path(path)
        if not create and not path.exists():
            raise UsageError(f"no catalogue at {path}", hint="run `vax library scan ROOT --catalog FILE` first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise UsageError(f"cannot open the catalogue {path}: {exc}") from None
        self.db.row_factory = sqlite3.Row
        self.path = path
        self._last_commit = time.monotonic()

    # -- files ------------------------------------------------------------------------
    def known_files(self) -> dict[str, sqlite3.Row]:
        return {row["path"]: row for row in self.db.execute("SELECT * FROM files")}

    def put_file(self, row: dict) -> None:
        values = [row.get(name) for name in FILE_COLUMNS]
        self.db.execute(f"INSERT OR REPLACE INTO files ({', '.join(FILE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in FILE_COLUMNS)})", values)
        self.maybe_commit()

    def seen(self, path: str, when: float) -> None:
        self.db.execute("UPDATE files SET present = 1, seen_at = ? WHERE path = ?", (when, path))

    def mark_vanished(self, paths) -> None:
        self.db.executemany("UPDATE files SET present = 0 WHERE path = ?", [(p,) for p in paths])
        self.commit()

    def source_changed(self, path: str, fingerprint: str) -> None:
        """A worker saw other content than the scan did: the probe is out of date until the next scan."""
        self.db.execute("UPDATE files SET fingerprint = ?, kind = 'changed', reason = ? WHERE path = ?",
                        (fingerprint, "changed since the scan; run `vax library scan` again", path))

    def media_files(self) -> list[sqlite3.Row]:
        return list(self.db.execute(
            "SELECT * FROM files WHERE present = 1 AND kind IN ('media', 'changed') ORDER BY path"))

    # -- jobs ---------------------------------------------------------------------------
    def jobs_for(self, job_key: str) -> dict[str, sqlite3.Row]:
        return {row["path"]: row for row in self.db.execute("SELECT * FROM jobs WHERE job_key = ?", (job_key,))}

    def put_job(self, path: str, job_key: str, *, options: str, dest: str, status: str, outputs=(),
                source_fp: str | None = None, error: dict | None = None, elapsed: float | None = None) -> None:
        error = error or {}
        self.db.execute(
            "INSERT INTO jobs (path, job_key, options, dest, status, outputs, source_fp, error, message, exit_code,"
            " attempts, elapsed, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
            " ON CONFLICT (path, job_key) DO UPDATE SET status = excluded.status, outputs = excluded.outputs,"
            " source_fp = excluded.source_fp, error = excluded.error, message = excluded.message,"
            " exit_code = excluded.exit_code, attempts = jobs.attempts + 1, elapsed = excluded.elapsed,"
            " finished_at = excluded.finished_at",
            (path, job_key, options, dest, status, json.dumps(list(outputs)), source_fp, error.get("error"),
             error.get("message"), error.get("exit_code"), elapsed, time.time()))
        self.maybe_commit()

    # -- reading for status -------------------------------------------------------------
    def rows(self, sql: str, params=()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params))

    # -- transactions -------------------------------------------------------------------
    def maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        self.db.commit()
        self._last_commit = time.monotonic()

    def close(self) -> None:
        self.commit()
        self.db.close()
