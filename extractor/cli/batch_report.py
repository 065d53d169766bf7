"""What a person sees of a batch: the overall bar, a line per finished file, the summary."""

from __future__ import annotations

import click

from extractor.batch.worker import outcome_for
from extractor.errors import VaxError, outcome_of


class BatchReporter:
    """Everything the user sees: the overall bar, a line per finished file, the summary."""

    def __init__(self, total: int, *, as_json: bool, quiet: bool):
        from .progress import ProgressBar

        self.total = total
        self.as_json = as_json
        self.quiet = quiet
        self.bar = ProgressBar(enabled=False if (quiet or as_json) else None)
        self.finished = 0
        self.running: dict[int, float] = {}
        self.rows: list[tuple[str, str, str]] = []  # (status, what, detail)
        self.codes: list[int] = []
        self.done_ids: set[int] = set()

    def progress(self, job_id: int, fraction: float) -> None:
        if job_id in self.done_ids:  # a late message from a job already reported
            return
        self.running[job_id] = fraction
        overall = (self.finished + sum(self.running.values())) / max(self.total, 1)
        self.bar.update(f"of {self.total} files", overall)  # one label: the bar keeps its place

    def skipped(self, path: str, reason: str) -> None:
        self._count(None)
        self._line("skipped", path, reason)
        if self.as_json:
            click.echo(_json({"status": "skipped", "input": path, "output": None, "reason": reason}))

    def failed(self, what: str, exc: VaxError, job_id: int | None = None) -> None:
        self.done({**outcome_for(job_id or 0, what), "status": "failed", "error": outcome_of(exc)})

    def done(self, outcome: dict) -> None:
        self.running.pop(outcome["id"], None)
        error = outcome["error"]
        self._count(error["exit_code"] if outcome["status"] == "failed" else None)
        source = outcome["input"]
        for result in outcome["results"]:
            v = result["verification"]
            loud = f", {v['loudness_lufs']:.1f} LUFS" if v.get("loudness_lufs") is not None else ""
            self._line("ok", f"{source} -> {result['output']}",
                       f"{result['mode']}, {v['duration']:.3f}s verified{loud}, {result['elapsed']:.2f}s")
            if self.as_json:
                click.echo(_json(result))
        for skip in outcome["skipped"]:
            what = f"{source} -> {skip['output']}" if skip["output"] else source
            self._line("skipped", what, skip["reason"])
            if self.as_json:
                click.echo(_json({"status": "skipped", "input": source, **skip}))
        for note in outcome.get("notes") or ():
            self._line("note", source, note)
            if self.as_json:
                click.echo(_json({"status": "note", "input": source, "note": note}))
        if outcome["status"] == "failed":
            self._line("failed", source, _without_prefix(error["message"], source))
            if self.as_json:
                click.echo(_json({"status": "error", "input": source, **error}))
        # Only now: a Ctrl-C landing while this prints leaves it to be reported after the stop.
        self.done_ids.add(outcome["id"])

    def _count(self, code: int | None) -> None:
        self.finished += 1
        if code:
            self.codes.append(code)

    def _line(self, status: str, what: str, detail: str) -> None:
        self.rows.append((status, what, detail))
        self.bar.clear()
        counter = f"[{self.finished}/{self.total}]"
        if status == "failed":
            click.echo(f"vax: error: {counter} {what}: {detail}", err=True)
        elif not (self.quiet or self.as_json):
            click.echo(f"{counter} {status}: {what} ({detail})")

    def note(self, message: str) -> None:
        """Something the user should know about the run as a whole (not an error)."""
        if self.quiet or self.as_json:
            return
        self.bar.clear()
        click.echo(f"note: {message}")

    def error(self, message: str) -> None:
        self.bar.clear()
        click.echo(f"vax: error: {message}", err=True)

    def summary(self) -> None:
        self.bar.clear()
        if self.quiet or self.as_json or len(self.rows) < 2:
            return
        counts = {s: sum(1 for row in self.rows if row[0] == s) for s in ("ok", "skipped", "failed")}
        click.echo(f"summary: {counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed")
        for status, what, detail in self.rows:
            click.echo(f"  {status:<8} {what}" + (f"  ({detail})" if status != "ok" else ""))

    def exit_code(self) -> int:
        if not self.codes:
            return 0
        return self.codes[0] if len(set(self.codes)) == 1 else 1


def _without_prefix(message: str, source: str) -> str:
    """Messages usually start with the input's path; the line already names it."""
    return message.removeprefix(f"{source}: ")


def _json(data: dict) -> str:
    import json

    return json.dumps(data, default=str)
