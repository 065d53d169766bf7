"""One extraction job in its own process, so the page can cancel it by stopping the process.

Reads ``{"spec": {...}}`` on stdin, runs it, and writes JSON lines on stdout:
``{"event": "progress", "fraction": f, "output": name}``, then one
``{"event": "done", "results": [...]}`` or ``{"event": "error", ...}``. SIGTERM becomes an
exception, so the engine's ``finally`` blocks remove the temporary file as with Ctrl-C.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from ..errors import Interrupted
from ..guard import run_guarded

PROGRESS_EVERY = 0.1  # seconds between progress lines


def _on_sigterm(signum, frame):
    raise Interrupted("cancelled; the unfinished output was removed")


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


# Results a browser's <audio> cannot decode: the lossless file stays the download, and the
# player gets a stereo Opus preview made from it through the same pipeline.
NEEDS_PREVIEW = frozenset({"ac3", "eac3", "mka"})


def waveform_name(output: Path) -> str:
    return f".{output.name}.waveform.png"


def preview_name(output: Path) -> str:
    return f".{output.name}.preview.opus"


def make_preview(output: Path) -> str | None:
    """A browser-playable copy of ``output`` when the browser cannot play it; its name, or None."""
    if output.suffix.lower().lstrip(".") not in NEEDS_PREVIEW:
        return None
    from ..api import run_spec
    from ..jobspec import JobSpec

    target = output.parent / preview_name(output)
    run_spec(JobSpec.build(str(output), output=str(target), format="opus", channels=2, bitrate="96k",
                           overwrite=True))
    return target.name


def run(request: dict) -> None:
    from ..api import run_spec, write_waveform
    from ..jobspec import JobSpec

    spec = JobSpec.from_dict(request["spec"])
    place = [0, 1]  # the running output's position among the outputs, and their count
    last = [0.0]

    def on_start(_plan, position: int, count: int) -> None:
        place[:] = [position, count]

    def progress(plan, fraction):
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY and fraction < 1.0:
            return
        last[0] = now
        emit({"event": "progress", "fraction": (place[0] + fraction) / place[1], "output": plan.output.name})

    results = run_spec(spec, progress=progress, on_start=on_start)
    described = []
    for result in results:
        entry = result.to_dict()
        entry["name"] = result.output.name
        entry["format"] = result.plan.format.name
        entry["format_label"] = result.plan.format.label
        try:
            write_waveform(result.output, result.verification.samples,
                           result.output.parent / waveform_name(result.output))
            entry["waveform"] = waveform_name(result.output)
        except Exception as exc:  # noqa: BLE001 - a missing picture must not fail a verified extraction
            entry["waveform"] = None
            entry["notes"] = list(entry.get("notes", [])) + [f"no waveform picture: {exc}"]
        try:
            entry["preview"] = make_preview(result.output)
        except Exception as exc:  # noqa: BLE001 - the verified result stands; only the player is missing
            entry["preview"] = None
            entry["notes"] = list(entry.get("notes", [])) + [f"no preview for the browser's player: {exc}"]
        described.append(entry)
    emit({"event": "done", "results": described})


def main() -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    request = json.loads(sys.stdin.read())
    return run_guarded(lambda: run(request),
                       report=lambda error: emit({"event": "error", "label": error.label,
                                                  "message": error.one_line(), "exit_code": error.exit_code}))


if __name__ == "__main__":
    sys.exit(main())
