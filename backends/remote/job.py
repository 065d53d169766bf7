"""One cloud job, step by step: session, upload, ask the agent, export, download.

    session -> upload (streamed from disk) -> agent message (SSE) -> state (the draft)
            -> export -> poll -> download the MP4

A lost session (code 1002) restarts the steps once from a new session. The agent's message
is never resent automatically: a stream that ends without text, or with heartbeats only, is
followed by reading the session state to see what the agent did.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from extractor.errors import RemoteError

from . import render, sse
from .client import NemoClient, SessionLost, _describe
from .phases import PhaseClock

APP = "nemo_agent"
# The agent answers as if the user had its editor open; what we need is the upload, unchanged, on the timeline.
AGENT_REQUEST = ("Put the video I just uploaded on the timeline exactly as it is: the whole clip, with its "
                 "original audio, no edits, no music, no captions. Then it is ready to export.")
STATE_READS = 3  # reads of the session state while waiting for the draft to appear

PhaseProgress = Callable[[float], None]


@dataclass
class CloudOutcome:
    rendered: Path
    render_id: str
    session_id: str
    uploaded_bytes: int
    agent_said: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    downloaded_bytes: int = 0


def run_cloud_job(client: NemoClient, source: Path, workdir: Path, *, language: str = "en",
                  progress: PhaseProgress | None = None, clock: PhaseClock | None = None) -> CloudOutcome:
    clock = clock or PhaseClock()
    try:
        return _attempt(client, source, workdir, language, progress, clock)
    except SessionLost:
        clock.mark("lost session")  # the failed attempt's time, shown apart rather than hidden in a phase
        client.status("the cloud session was lost; starting a new one")
        try:
            return _attempt(client, source, workdir, language, progress, clock)
        except SessionLost:
            raise RemoteError("the NemoVideo session was lost twice (code 1002)", hint="try again later") from None


def _attempt(client: NemoClient, source: Path, workdir: Path, language: str, progress,
             clock: PhaseClock) -> CloudOutcome:
    report = progress or (lambda fraction: None)
    session_id = create_session(client, language)  # the first call also gets the token
    clock.mark("session")
    report(0.02)
    uploaded = upload(client, session_id, source)
    clock.mark("upload")
    report(0.25)
    said = ask_agent(client, session_id, AGENT_REQUEST, lambda f: report(0.25 + 0.2 * f))
    draft = read_draft(client, session_id, waited_for_text=bool(said))
    clock.mark("agent")
    report(0.45)
    render_id = render.start_export(client, session_id, draft)
    url = render.wait_for_render(client, render_id, lambda f: report(0.45 + 0.35 * f))
    clock.mark("render")
    report(0.8)
    rendered = workdir / "render.mp4"
    downloaded = render.download(client, render_id, url, rendered)
    clock.mark("download")
    report(0.9)
    return CloudOutcome(rendered=rendered, render_id=render_id, session_id=session_id, uploaded_bytes=uploaded,
                        agent_said=said, downloaded_bytes=downloaded)


def create_session(client: NemoClient, language: str) -> str:
    data = client.call("POST", f"/api/tasks/me/with-session/{APP}", json={"task_name": "project", "language": language})
    session_id = data.get("session_id") if isinstance(data, dict) else None
    if not session_id:
        raise RemoteError("NemoVideo did not open a session (no session_id in its answer)")
    return str(session_id)


def upload(client: NemoClient, session_id: str, source: Path) -> int:
    """Multipart upload, streamed: httpx reads the open file in 64 KB chunks as it sends."""
    size = source.stat().st_size
    mime = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    client.status(f"uploading {source.name} ({size / 1e6:.1f} MB) to NemoVideo")
    with open(source, "rb") as handle:
        data = client.call("POST", f"/api/upload-video/{APP}/me/{session_id}",
                           files={"files": (source.name, handle, mime)}, timeout=client.settings.sse_timeout)
    files = (data.get("files") or data.get("uploaded_files")) if isinstance(data, dict) else None
    if not files:
        raise RemoteError("NemoVideo accepted the upload but lists no uploaded file")
    return size


def ask_agent(client: NemoClient, session_id: str, text: str, progress: PhaseProgress) -> list[str]:
    """Send one message and listen to the answer; the texts the agent said (boilerplate dropped)."""
    settings = client.settings
    body = {"app_name": APP, "user_id": "me", "session_id": session_id, "new_message": {"parts": [{"text": text}]}}
    said: list[str] = []
    errors: list[str] = []
    started = last_news = time.monotonic()
    beats = 0
    with client.open_stream("/run_sse", json=body, timeout=settings.sse_timeout) as response:
        try:
            for raw in sse.parse_events(response.iter_lines()):
                now = time.monotonic()
                event = sse.interpret(raw)
                if event.kind == "heartbeat":
                    beats += 1
                    if beats % 10 == 1:
                        client.status(f"the cloud agent is still working ({now - started:.0f}s)")
                    progress(beats / (beats + 20))
                    if now - last_news > settings.heartbeat_giveup:
                        client.status(f"only heartbeats for {settings.heartbeat_giveup:g}s; "
                                      "checking the session instead")
                        break
                else:
                    last_news = now
                    if event.kind == "text" and event.text.strip() and not sse.is_boilerplate(event.text):
                        said.append(client.scrub(event.text.strip()))
                    elif event.kind == "error":
                        errors.append(client.scrub(event.text))
                    elif event.kind == "tool_call":
                        client.status(f"the cloud agent is working ({event.name or 'a tool'})")
                if now - started > settings.sse_timeout:
                    break
        except Exception as exc:  # a dropped stream: what the agent managed to do shows in the state
            if not _is_transport_error(exc):
                raise
            client.status(f"the agent's stream ended abruptly ({_describe(exc)}); checking the session")
    if errors and not said:
        said.append(f"(agent error: {errors[-1]})")
    return said


def _is_transport_error(exc: Exception) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


def read_state(client: NemoClient, session_id: str) -> dict:
    data = client.call("GET", f"/api/state/{APP}/me/{session_id}/latest")
    state = data.get("state") if isinstance(data, dict) else None
    return state if isinstance(state, dict) else {}


def read_draft(client: NemoClient, session_id: str, *, waited_for_text: bool) -> dict:
    """The timeline to export. A stream that closed quietly may still have changed it: look, a few times."""
    for attempt in range(STATE_READS):
        draft = read_state(client, session_id).get("draft")
        if render.draft_ready(draft):
            return draft
        if attempt + 1 < STATE_READS:
            time.sleep(client.settings.backoff)
    quiet = "" if waited_for_text else " (its answer held no text)"
    raise RemoteError(f"the NemoVideo agent did not put the video on its timeline{quiet}, so there is "
                      "nothing to export", hint="nothing was written; try again later")
