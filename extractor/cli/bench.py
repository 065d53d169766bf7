"""`vax bench`: the same job through the local engine and the cloud (or ffmpeg), side by side.

The comparison logic is in ``extractor.benchmark``; this module is the command: options, the
upload permission and confirmation, and printing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from extractor.cli.app import _debug_of, run_guarded
from extractor.cli.jobs import extract_options, spec_from_options
from extractor.errors import CloudNotAllowed, UsageError
from extractor.units import human_size


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@extract_options
@click.option("--remote", is_flag=True, help="Compare with the NemoVideo cloud backend (uploads every FILE once "
                                             "per round and spends credits; needs --allow-cloud or standing "
                                             "permission).")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs per file and backend; the summary gives their median, min and max.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before uploading (--remote).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON document.")
@click.option("--chart", type=click.Path(path_type=Path, dir_okay=False),
              help="Also draw a bar chart to this PNG (needs matplotlib: the bench extra).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def bench(ctx: click.Context, files: tuple[str, ...], remote: bool, rounds: int, yes: bool, as_json: bool,
          chart: Path | None, debug: bool, **kw) -> None:
    """Time the same extraction of each FILE locally and in the cloud (--remote), or against
    Debian's ffmpeg CLI when it is installed; each output is verified and the outputs compared.

    \b
    Outputs are written to a temporary folder and removed, unless -o names a folder to keep
    them in ({stem}-{track}-{backend}-r{round}.{ext}). The cloud's time is shown by phase:
    auth and session, upload (MB/s), the agent, render queue and render, download, and the
    local extraction from its MP4. The first credit or plan error stops the bench (exit 12).
    """

    def body():
        _check_options(kw, remote, chart)
        specs = [spec_from_options(path, {**kw, "output": None}) for path in files]
        if remote:
            _ask_before_upload(specs, rounds, yes, kw.get("remote_url"))
        with _workdir(kw.get("output")) as folder:
            _run_and_report(specs, remote, rounds, folder, keep=bool(kw.get("output")), as_json=as_json,
                            chart=chart)

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def _check_options(kw: dict, remote: bool, chart: Path | None) -> None:
    if kw.get("backend") not in (None, "auto"):
        raise UsageError("vax bench runs both backends itself", hint="leave out --backend; add --remote for the cloud")
    output = kw.get("output")
    if output and not (output.endswith(("/", os.sep)) or Path(output).is_dir()):
        raise UsageError(f"-o for vax bench is a folder to keep the outputs in, not {output!r}",
                         hint="end it with /")
    if chart is not None:
        from extractor.benchmark.report import check_chart_possible

        check_chart_possible()
    if remote and not kw.get("allow_cloud"):
        from extractor.cli.remote import standing_cloud_permission

        if not standing_cloud_permission():
            from backends.remote.config import how_to_allow

            raise CloudNotAllowed("vax bench --remote uploads your files to NemoVideo, which needs your permission",
                                  hint=how_to_allow())


def _ask_before_upload(specs: list, rounds: int, yes: bool, remote_url: str | None) -> None:
    """Credits are real money: say what would be uploaded, and ask (no answer, no upload)."""
    size = sum(os.stat(spec.input).st_size for spec in specs)
    where = remote_url or "NemoVideo"
    click.echo(f"vax bench --remote uploads {len(specs)} file(s), {human_size(size)}, to {where} "
               f"{rounds} time(s) ({human_size(size * rounds)} in all), and each render spends credits.", err=True)
    if yes:
        return
    try:
        agreed = click.confirm("Upload and spend credits?", default=False, err=True)
    except click.exceptions.Abort:
        raise UsageError("no answer to the upload question (no input)", hint="add --yes to confirm") from None
    if not agreed:
        raise UsageError("nothing uploaded: you declined", hint="add --yes to skip the question")


@contextlib.contextmanager
def _workdir(output: str | None):
    if output:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="vax-bench-") as folder:
        yield Path(folder)


def _run_and_report(specs: list, remote: bool, rounds: int, folder: Path, *, keep: bool, as_json: bool,
                    chart: Path | None) -> None:
    from extractor.benchmark import reference, report
    from extractor.benchmark.runner import BenchSettings, run_bench

    if remote:
        against, heading = "remote", "vax bench: local engine against the NemoVideo cloud backend"
    elif reference.ffmpeg_path():
        against, heading = "ffmpeg", "vax bench: local engine against Debian's ffmpeg CLI"
    else:
        against, heading = None, "vax bench: local engine only"
        click.echo(f"vax: note: Debian's ffmpeg CLI is not installed, so there is nothing to compare with "
                   f"({reference.INSTALL_HINT})", err=True)
    settings = BenchSettings(reference=against, rounds=rounds, workdir=folder, keep=keep)
    shown = None if as_json else (lambda entry, run: click.echo(
        f"  ... {Path(entry.path).name}: {run.backend} round {run.round}: {run.wall:.3f} s", err=True))
    bench = run_bench(specs, settings, on_run=shown, credits=_credits if remote else None)
    if as_json:
        click.echo(json.dumps(report.to_data(bench), indent=2))
    else:
        click.echo(report.to_text(bench, f"{heading}, {len(specs)} file(s), {rounds} round(s)"))
    if chart is not None and bench.files:
        report.write_chart(bench, chart)
    if bench.error is not None:
        raise bench.error


def _credits(remote_url: str | None) -> float | None:
    """The account's available credits (None when the service does not say)."""
    from backends.remote import credits_summary
    from extractor.errors import RemoteError

    try:
        return credits_summary(remote_url).get("available")
    except RemoteError:
        return None
