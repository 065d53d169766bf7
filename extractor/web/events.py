"""Server-sent events: every open tab hears of every change to the session.

One stream per tab sends ``job`` events (a job's status, progress or results changed),
``files`` events (a file was added or removed, in this tab or another) and ``settings``
events (the cloud switch). With ``only`` set, the stream follows one job and ends with it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from .session import FINISHED, Session

EVENTS_LIFETIME = 600.0  # seconds before a stream ends (the page reconnects)
EVENTS_POLL = 0.1


def _event(kind: str, data) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


async def stream(session: Session, *, only: str | None, decorate: Callable[[dict], dict],
                 stopping: Callable[[], bool]):
    loop = asyncio.get_running_loop()
    ends = loop.time() + EVENTS_LIFETIME
    sent: dict[str, tuple] = {}
    files = settings = None
    version = -1
    yield "retry: 1000\n\n"
    while loop.time() < ends and not stopping():
        if session.version != version:
            version = session.version
            snapshot = session.snapshot()
            if not only:
                ids = [f["id"] for f in snapshot["files"]]
                if ids != files:  # the first time too: a file added before the stream opened
                    yield _event("files", snapshot["files"])
                if snapshot["settings"] != settings:
                    yield _event("settings", snapshot["settings"])
                files, settings = ids, snapshot["settings"]
            jobs = [j for j in snapshot["jobs"] if not only or j["id"] == only]
            for job in jobs:
                mark = (job["status"], job["progress"], len(job["results"]), job.get("message"))
                if sent.get(job["id"]) != mark:
                    sent[job["id"]] = mark
                    yield _event("job", decorate(job))
            if only and (not jobs or jobs[0]["status"] in FINISHED):
                yield _event("end", {})
                return
        await asyncio.sleep(EVENTS_POLL)
