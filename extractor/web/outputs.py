"""The results' files: served to the page's players and downloads by short-lived signed links.

A player (``<audio src>``) or a download cannot send the token header, and a cookie would
reach every port of 127.0.0.1. So each job the page sees carries one signed link per file
(result, waveform picture, browser preview), valid for ``guard.LINK_LIFETIME``; the page asks
for fresh ones (``GET /api/jobs/ID``) when they are old.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.responses import FileResponse

from extractor.publish import TEMP_MARK

from ..errors import InputNotFound, UsageError
from .guard import signed_link

JOB_ID = re.compile(r"^j[0-9a-f]{10}$")
AUDIO_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "wav": "audio/wav",
               "flac": "audio/flac", "opus": "audio/ogg", "ogg": "audio/ogg", "mka": "audio/x-matroska",
               "ac3": "audio/ac3", "eac3": "audio/eac3", "png": "image/png"}
OUTSIDE = "refused: that path leads outside the workspace's outputs"


def file_names(job: dict) -> list[str]:
    """Every file of a job the page may fetch: results, their pictures and previews."""
    found = []
    for result in job.get("results") or []:
        found += [result.get(key) for key in ("name", "waveform", "preview")]
    return [name for name in found if isinstance(name, str) and name]


def with_links(job: dict, token: str) -> dict:
    job = dict(job)
    job["links"] = {name: signed_link(token, job["id"], name) for name in file_names(job)}
    return job


def checked_name(job_id: str, name: str) -> None:
    if "\x00" in job_id or "\x00" in name:
        raise UsageError("refused: a file name may not hold a NUL character")
    if len(name.encode("utf-8", errors="replace")) > 255 or len(job_id) > 64:
        raise UsageError("refused: that file name is longer than any output's")
    if not JOB_ID.match(job_id) or "/" in name or "\\" in name or name in ("", ".", "..") or TEMP_MARK in name:
        raise UsageError(OUTSIDE)


def output_response(folder: Path, job_id: str, name: str, download: bool) -> FileResponse:
    checked_name(job_id, name)
    folder = folder.resolve()
    path = (folder / name).resolve()
    if path.parent != folder:
        raise UsageError(OUTSIDE)
    if not path.is_file():
        raise InputNotFound(f"no output {name} for this job; it may have been removed")
    media_type = AUDIO_TYPES.get(path.suffix.lower().lstrip("."), "application/octet-stream")
    return FileResponse(path, media_type=media_type, filename=name if download else None,
                        content_disposition_type="attachment" if download else "inline",
                        headers={"Cache-Control": "private, max-age=600"})
