"""The remote backend: the cloud renders an MP4, the local engine takes the audio out of it.

NemoVideo renders video, so its answer is always an MP4. The user asked for a format, a
range and a track layout; the local engine gets exactly that out of the downloaded MP4, by
re-planning the same job spec against the MP4's probe. The codec, rate and channels of the
undecodable original were never known, so this backend returns the plan it really carried
out (``RunReport.effective_plan``) and verification checks the output against that.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from extractor.errors import RemoteError

from ..base import ProgressFn, RunReport
from . import config
from .phases import PhaseClock

StatusFn = Callable[[str], None]
STATUS_EVERY = 2.0  # seconds between status lines on a terminal


class RemoteBackend:
    name = "remote"

    def __init__(self, *, base_url: str | None = None, settings: config.RemoteSettings | None = None,
                 status: StatusFn | None = None, transport=None):
        self.base_url = base_url
        self.settings = settings
        self.status = status or _terminal_status()
        self.transport = transport  # an httpx transport, for tests

    def unsupported_reason(self, plan) -> str | None:
        """Refused before anything is uploaded: types the service does not take, files over its limit."""
        source = Path(plan.source.path)
        ext = source.suffix.lower().lstrip(".")
        if ext not in config.ACCEPTED_TYPES:
            return (f"NemoVideo accepts only {', '.join(config.ACCEPTED_TYPES)} files, "
                    f"not .{ext or '(no extension)'}")
        limit = (self.settings or config.RemoteSettings()).upload_limit
        size = plan.source.size or source.stat().st_size
        if size > limit:
            return (f"{source.name} is {megabytes(size)}, over NemoVideo's {limit / 1e6:.0f} MB upload limit "
                    "(trim or compress it first)")
        return None

    def upload_offer(self, plan) -> str:
        """What the cloud could do for this plan and what it would upload, for the 'not allowed' message."""
        return (f"the NemoVideo cloud backend can render it to MP4 and vax would then extract the audio "
                f"locally as .{plan.format.ext}, but that uploads {Path(plan.source.path).name} "
                f"({megabytes(plan.source.size or 0)}) to NemoVideo and uses its credits")

    def allowed_by_user(self) -> bool:
        """VAX_ALLOW_CLOUD=1, or ``allow_cloud = true`` in the vax config file: the user's own decision."""
        return config.cloud_allowed_by_user()

    def how_to_allow(self) -> str:
        return config.how_to_allow()

    def run(self, plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
        clock = PhaseClock()  # started first: loading the client (httpx) and making it count as the session
        from .client import NemoClient
        from .job import run_cloud_job

        report = progress or (lambda fraction: None)
        base_url = getattr(plan.spec, "remote_url", None) or self.base_url
        source = Path(plan.source.path)
        started = time.perf_counter()
        # The MP4 goes beside the output (the system temp dir may be a small tmpfs) and is removed on any exit.
        with NemoClient(base_url, settings=self.settings, status=self.status, transport=self.transport) as client, \
                tempfile.TemporaryDirectory(prefix=".vax-cloud-", dir=destination.parent) as work:
            outcome = run_cloud_job(client, source, Path(work), progress=lambda f: report(0.9 * f), clock=clock)
            cloud_seconds = time.perf_counter() - started
            local_report, effective = extract_from_render(plan, outcome.rendered, destination,
                                                          lambda f: report(0.9 + 0.1 * f))
        clock.mark("extract")  # the local extraction from the MP4, and removing the MP4
        notes = list(local_report.notes)
        notes.append(f"NemoVideo rendered the upload ({megabytes(outcome.uploaded_bytes)}) in "
                     f"{cloud_seconds:.1f}s (render {outcome.render_id}); the audio was then extracted locally")
        if outcome.agent_said:
            notes.append(f"the cloud agent said: {outcome.agent_said[-1][:200]}")
        return dataclasses.replace(local_report, backend=self.name, notes=notes, effective_plan=effective,
                                   phases=dict(clock.seconds),
                                   transferred={"upload": outcome.uploaded_bytes,
                                                "download": outcome.downloaded_bytes})


def extract_from_render(plan, rendered: Path, destination: Path, progress: ProgressFn | None):
    """Re-plan the user's job against the rendered MP4 and run it with the local engine.

    The format stays the one the original plan chose (so the output name's extension holds);
    everything the undecodable source could not tell us (codec, rate, channels, length)
    now comes from the MP4.
    """
    from backends.local import LocalBackend
    from extractor.errors import NotMedia
    from extractor.jobspec import TrackSelection
    from extractor.mediainfo import probe
    from extractor.planner import explain, plan_jobs

    try:
        info = probe(rendered)
    except NotMedia:
        raise RemoteError("the cloud render is not a media file vax can read", hint="nothing was written") from None
    if not info.audio:
        raise RemoteError("the cloud render has no audio track", hint="nothing was written")
    spec = plan.spec.replace(input=str(rendered), output=None, format=plan.format.name, tracks=TrackSelection(),
                             backend="local", allow_cloud=False, remote_url=None)
    local_plan = plan_jobs(spec, info)[0]
    if not local_plan.track.decodable:
        raise RemoteError(f"the cloud render's audio ({local_plan.track.codec}) cannot be decoded here either")
    local_report = LocalBackend().run(local_plan, destination, progress)

    notes = list(plan.notes) + list(local_plan.notes)
    notes.append("the audio comes from NemoVideo's MP4 render of the file (a re-encode), not from the original "
                 "track bit for bit")
    if len(plan.source.audio) > 1:
        notes.append("the cloud render carries one audio track; NemoVideo chose which")
    effective = dataclasses.replace(
        plan, mode=local_plan.mode, codec=local_plan.codec, sample_rate=local_plan.sample_rate,
        channels=local_plan.channels, bitrate=local_plan.bitrate, sample_bits=local_plan.sample_bits,
        lead_silence=local_plan.lead_silence, expected_duration=local_plan.expected_duration,
        tolerance=local_plan.tolerance, sample_exact=False, notes=tuple(notes))
    shown = dataclasses.replace(local_plan, output=plan.output)
    effective = dataclasses.replace(effective, explanation=f"cloud fallback: NemoVideo rendered an MP4, then "
                                                           f"{explain(shown)}")
    return local_report, effective


def _terminal_status() -> StatusFn:
    """Status lines on stderr, only for a person watching a terminal, at most every few seconds."""
    last = [0.0]

    def show(message: str) -> None:
        if not sys.stderr.isatty():
            return
        now = time.monotonic()
        if now - last[0] < STATUS_EVERY:
            return
        last[0] = now
        sys.stderr.write(f"\rvax: cloud: {message}\n")
        sys.stderr.flush()

    return show


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} KB"
