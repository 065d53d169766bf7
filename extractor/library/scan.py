"""`vax library scan`: build or refresh the catalogue of the media under some roots.

A file whose size and mtime are what the catalogue holds is not read at all; a new or changed
one is fingerprinted and probed on the engine, in parallel; a file that is gone is marked
vanished (its row and its jobs stay: the outputs may still be wanted). Files whose extension
says "not media" are recorded as such without being opened, once. Finding the files is the
batch runner's (``extractor.batch.expand``), so both agree on what a media file is.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from extractor.batch.expand import expand_inputs, extension_verdict
from extractor.errors import UsageError

from .catalog import Catalog
from .paths import PathMap
from .progress import RunProgress
from .tasks import probe_file


@dataclass
class ScanCounts:
    found: int = 0
    unchanged: int = 0
    probed: int = 0
    not_media: int = 0
    vanished: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def rel_of(root: str, path: str) -> str:
    """The root's own name, then the path under it: the folder an output mirrors."""
    name = os.path.basename(os.path.abspath(root).rstrip(os.sep)) or "root"
    return "/".join([name, *os.path.relpath(path, root).split(os.sep)])


def scan(catalog: Catalog, roots, engine, *, path_map: PathMap | None = None,
         progress: RunProgress | None = None) -> ScanCounts:
    path_map = path_map or PathMap()
    counts = ScanCounts()
    known = catalog.known_files()
    now = time.time()
    seen: set[str] = set()
    to_probe: dict[str, tuple[str, os.stat_result]] = {}
    for root in roots:
        if not os.path.isdir(root):
            raise UsageError(f"{root} is not a folder", hint="give the folders that hold the media")
        found = expand_inputs([root], recursive=True)
        entries = [(p, None) for p in found.files] + list(found.skipped)
        for path, skip_reason in entries:
            path = os.path.abspath(path)
            seen.add(path)
            counts.found += 1
            _take(catalog, known.get(path), path, rel_of(root, path), skip_reason, now, counts, to_probe)
    catalog.commit()
    _probe_all(catalog, engine, to_probe, path_map, now, counts, progress)
    vanished = [p for p, row in known.items() if row["present"] and p not in seen and _under(p, roots)]
    catalog.mark_vanished(vanished)
    counts.vanished = len(vanished)
    return counts


def _take(catalog, row, path, rel, skip_reason, now, counts, to_probe) -> None:
    try:
        stat = os.stat(path)
    except OSError:
        return  # gone between the walk and now: the next scan sees it vanished
    if row is not None and row["size"] == stat.st_size and row["mtime_ns"] == stat.st_mtime_ns \
            and row["kind"] != "changed":
        catalog.seen(path, now)
        counts.unchanged += 1
        return
    reason = skip_reason or extension_verdict(path)
    if reason:
        kind = "skipped" if skip_reason else "not-media"
        catalog.put_file({"path": path, "rel": rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                          "kind": kind, "reason": reason, "present": 1, "seen_at": now})
        counts.not_media += 1
        return
    to_probe[path] = (rel, stat)


def _probe_all(catalog, engine, to_probe, path_map, now, counts, progress) -> None:
    if not to_probe:
        return
    if progress:
        progress.total = len(to_probe)
        progress.total_bytes = sum(stat.st_size for _, stat in to_probe.values())
    tasks = [(path, (path_map.to_worker(path),)) for path in to_probe]
    for path, row in engine.run(probe_file, tasks):
        rel, stat = to_probe[path]
        catalog.put_file(_file_row(path, rel, row, now))
        counts.probed += 1
        counts.kinds[row["kind"]] = counts.kinds.get(row["kind"], 0) + 1
        if progress:
            progress.file(path, row["kind"], row.get("size") or stat.st_size, reason=row.get("reason"))
    catalog.commit()


def _file_row(path: str, rel: str, row: dict, now: float) -> dict:
    import json

    probe = row.get("probe")
    audio = (probe or {}).get("audio") or []
    return {"path": path, "rel": rel, "size": row.get("size"), "mtime_ns": row.get("mtime_ns"),
            "fingerprint": row.get("fingerprint"), "kind": row.get("kind", "unreadable"), "reason": row.get("reason"),
            "container": (probe or {}).get("container"), "duration": (probe or {}).get("duration"),
            "codecs": ",".join(sorted({t["codec"] for t in audio})) or None, "audio_tracks": len(audio),
            "probe": json.dumps(probe) if probe else None, "present": 1, "seen_at": now, "probed_at": now}


def _under(path: str, roots) -> bool:
    return any(path.startswith(os.path.abspath(root).rstrip(os.sep) + os.sep) for root in roots)
