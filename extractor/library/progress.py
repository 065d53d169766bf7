"""What a person (stderr) and a script (``--json`` lines on stdout) see of a library run.

The stderr line: files done/total, files per second, bytes, ETA, failures so far; redrawn in
place on a terminal, printed every ``LINE_EVERY`` seconds otherwise (a log stays short).
"""

from __future__ import annotations

import json
import sys
import time

from extractor.units import human_size

REDRAW_EVERY = 0.2
LINE_EVERY = 5.0


class RunProgress:
    def __init__(self, verb: str, total: int, total_bytes: int = 0, *, as_json: bool = False,
                 quiet: bool = False, err=None, out=None):
        self.verb, self.total, self.total_bytes = verb, total, total_bytes
        self.as_json, self.quiet = as_json, quiet
        self.err, self.out = err or sys.stderr, out or sys.stdout
        self.tty = self.err.isatty()
        self.done = self.failed = self.bytes = 0
        self.started = time.monotonic()
        self._drawn = 0.0 if self.tty else self.started  # a log gets its first line after LINE_EVERY

    def file(self, path: str, status: str, size: int = 0, **detail) -> None:
        self.done += 1
        self.bytes += size
        if status == "failed":
            self.failed += 1
            if not self.quiet and not self.as_json:
                self._clear()
                message = (detail.get("error") or {}).get("message", "failed")
                self.err.write(f"vax: failed: {path}: {message}\n")
        if self.as_json:
            self.out.write(json.dumps({"event": "file", "path": path, "status": status, **detail}) + "\n")
            self.out.flush()
        self.draw()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = _clock(left / rate) if rate > 0 and left else ("0:00" if not left else "?")
        size = human_size(self.bytes) + (f" of {human_size(self.total_bytes)}" if self.total_bytes else "")
        return (f"{self.verb}: {self.done}/{self.total} files, {rate:.1f} files/s, {size}, ETA {eta}, "
                f"{self.failed} failed")

    def draw(self, final: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        every = REDRAW_EVERY if self.tty else LINE_EVERY
        if not final and now - self._drawn < every:
            return
        self._drawn = now
        self.err.write(("\r" if self.tty else "") + self.line() + ("" if self.tty and not final else "\n"))
        self.err.flush()

    def summary(self, **counts) -> None:
        self.draw(final=True)
        if self.as_json:
            self.out.write(json.dumps({"event": "summary", "verb": self.verb, "total": self.total, "done": self.done,
                                       "failed": self.failed, "bytes": self.bytes,
                                       "seconds": round(time.monotonic() - self.started, 3), **counts}) + "\n")
            self.out.flush()

    def _clear(self) -> None:
        if self.tty:
            self.err.write("\r\x1b[K")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
