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

from ..errors import InternalError, Interrupted, VaxError

PROGRESS_EVERY = 0.1  # seconds between progress lines


def _on_sigterm(signum, frame):
    raise Interrupted("cancelled; the unfinished output was removed")


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def waveform_name(output: Path) -> str:
    return f".{output.name}.waveform.png"


def run(request: dict) -> None:
    from ..api import run_spec
    from ..jobspec import JobSpec
    from ..mediainfo import probe
    from ..planner import plan_jobs
    from .waveform import write_waveform

    spec = JobSpec.from_dict(request["spec"])
    info = probe(spec.input)
    plans = plan_jobs(spec, info)
    names = [p.output.name for p in plans]
    last = [0.0]

    def progress(plan, fraction):
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY and fraction < 1.0:
            return
        last[0] = now
        position = names.index(plan.output.name) if plan.output.name in names else 0
        emit({"event": "progress", "fraction": (position + fraction) / len(plans), "output": plan.output.name})

    results = run_spec(spec, progress=progress, info=info)
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
        described.append(entry)
    emit({"event": "done", "results": described})


def main() -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        run(json.loads(sys.stdin.read()))
        return 0
    except VaxError as exc:
        emit({"event": "error", "label": exc.label, "message": exc.one_line(), "exit_code": exc.exit_code})
        return exc.exit_code
    except KeyboardInterrupt:
        exc = Interrupted("cancelled; the unfinished output was removed")
        emit({"event": "error", "label": exc.label, "message": exc.one_line(), "exit_code": exc.exit_code})
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: still one line for the page
        wrapped = InternalError(f"{type(exc).__name__}: {exc}")
        emit({"event": "error", "label": wrapped.label, "message": wrapped.one_line(),
              "exit_code": wrapped.exit_code})
        return wrapped.exit_code
    finally:
        from ..outputs import remove_live_temps

        remove_live_temps()


if __name__ == "__main__":
    sys.exit(main())
