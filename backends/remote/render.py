"""Export the session's timeline to an MP4, wait for it, and download it, streamed and capped.

The render endpoints answer in any of three envelopes and put the status and the download
URL in several places (``status`` or ``data.status``; ``output.url``, ``data.output.url`` or
``data.outputUrl``); ``render_status`` reads them all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

import httpx

from extractor.errors import RemoteError

from .client import NemoClient, _describe, check_url

DONE = "completed"
FAILED = ("failed", "error", "cancelled", "canceled")
DOWNLOAD_CHUNK = 256 * 1024


def draft_ready(draft) -> bool:
    """A draft can be exported when some track holds a segment."""
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return isinstance(tracks, list) and any(isinstance(t, dict) and t.get("sg") for t in tracks)


def start_export(client: NemoClient, session_id: str, draft: dict) -> str:
    # The service refuses a reused id, and every attempt (a retry, a second job) gets a fresh one.
    render_id = f"render_{int(time.time() * 1000)}{secrets.randbelow(1000):03d}"
    data = client.call("POST", "/api/render/proxy/lambda", json={
        "id": render_id, "sessionId": session_id, "draft": draft,
        "output": {"format": "mp4", "quality": "high"},
    })
    given = _field(data, "id")
    return str(given) if given else render_id


def render_status(data) -> tuple[str, str | None, str | None]:
    """(status, download URL or None, failure reason or None) from any documented shape."""
    status = _field(data, "status") or ""
    url = None
    for keys in (("output", "url"), ("data", "output", "url"), ("data", "outputUrl"), ("outputUrl",),
                 ("url",), ("data", "url")):
        value = _dig(data, keys)
        if isinstance(value, str) and value:
            url = value
            break
    reason = _field(data, "error") or _field(data, "message")
    return str(status).lower(), url, (str(reason) if reason else None)


def wait_for_render(client: NemoClient, render_id: str, progress=None) -> str | None:
    """Poll until the render completes; its download URL (None: use the download endpoint)."""
    settings = client.settings
    started = time.monotonic()
    polls = 0
    while True:
        data = client.call("GET", f"/api/render/proxy/lambda/{render_id}")
        polls += 1
        status, url, reason = render_status(data)
        if status == DONE or (url and status in ("", "success", "succeeded", "done")):
            return url
        if status in FAILED:
            raise RemoteError(f"the cloud render failed: {client.scrub(reason or status)}",
                              hint="nothing was written; try again, or check the file plays")
        if time.monotonic() - started + settings.poll_interval > settings.render_timeout:
            raise RemoteError(f"the cloud render did not finish within {settings.render_timeout:g}s "
                              f"(last status {status or 'unknown'})", hint="try again later")
        percent = _field(data, "progress")
        known = isinstance(percent, (int, float)) and not isinstance(percent, bool)
        client.status(f"rendering in the cloud: {status or 'waiting'}" + (f" {percent:g}%" if known else "")
                      + f" (poll {polls})")
        if progress:  # the service's own percentage when it gives one, else a slow creep
            progress(min(0.99, percent / 100) if known else polls / (polls + 5))
        time.sleep(settings.poll_interval)


def download(client: NemoClient, render_id: str, url: str | None, destination: Path) -> int:
    """Stream the rendered file to ``destination``; bytes written. Retries a dropped download whole."""
    target = url or f"{client.base_url}/api/render/proxy/{render_id}/download"
    check_url(target, "the render's download URL")
    failures = 0
    while True:
        try:
            return _fetch(client, target, destination)
        except (httpx.TransportError, _Incomplete) as exc:
            _remove(destination)
            failures += 1
            if failures >= client.settings.retries:
                raise RemoteError(f"the download of the rendered file kept failing ({_describe(exc)})",
                                  hint="nothing was written; try again") from None
            wait = client.settings.backoff * 2 ** (failures - 1)
            client.status(f"download interrupted ({_describe(exc)}); retrying in {wait:g}s")
            time.sleep(wait)
        except BaseException:
            _remove(destination)
            raise


class _Incomplete(Exception):
    pass


def _fetch(client: NemoClient, url: str, destination: Path) -> int:
    cap = client.settings.download_cap
    with client.http.stream("GET", url, headers=client.download_headers(url)) as response:
        if response.status_code >= 400:
            raise RemoteError(f"the rendered file cannot be downloaded (HTTP {response.status_code})")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise RemoteError(f"the rendered file is {int(declared):,} bytes, over the {cap:,}-byte limit",
                              hint="raise VAX_REMOTE_DOWNLOAD_CAP if that is expected")
        written = 0
        with open(destination, "wb") as out:
            for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                written += len(chunk)
                if written > cap:
                    raise RemoteError(f"the rendered file exceeds the {cap:,}-byte download limit",
                                      hint="raise VAX_REMOTE_DOWNLOAD_CAP if that is expected")
                out.write(chunk)
        received = response.num_bytes_downloaded
    if declared and declared.isdigit() and received != int(declared):
        raise _Incomplete(f"got {received} of {declared} bytes")
    if written == 0:
        raise RemoteError("the cloud render produced an empty file")
    return written


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _dig(data, keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _field(data, name: str):
    """A field at the top level or under ``data`` (the envelopes nest differently)."""
    if not isinstance(data, dict):
        return None
    if name in data:
        return data[name]
    inner = data.get("data")
    return inner.get(name) if isinstance(inner, dict) else None
