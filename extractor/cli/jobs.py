"""Running jobs from the command line: the job-spec options, one job per input through the
pipeline (or a batch), and what is printed for each result."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import TYPE_CHECKING

import click

from extractor.errors import Interrupted, VaxError
from extractor.units import human_size

from .app import _error_line, run_guarded
from .contained import run_contained, stop_heard

if TYPE_CHECKING:  # pragma: no cover
    from extractor.batch.expand import BatchSettings
    from extractor.jobspec import JobSpec


def extract_options(func):
    """The job-spec options shared by every command that runs extraction jobs."""
    from extractor.policy import USER_FORMATS

    options = [
        click.option("-o", "--output", help="Output file, folder (ending in /), or template like "
                                            "'out/{stem}-{lang}.{ext}'."),
        click.option("-f", "--format", "fmt", type=click.Choice(USER_FORMATS), default="auto", show_default=True,
                     help="Output format; auto copies losslessly into the source codec's own container."),
        click.option("--track", type=int, help="Audio track number (1 = first audio track, as `vax probe` lists)."),
        click.option("--lang", help="Audio track by language (eng, spa, es, ...)."),
        click.option("--title", help="Audio track whose title contains this text."),
        click.option("--all-tracks", is_flag=True, help="Every audio track, one file each."),
        click.option("--start", help="Start time: seconds or [HH:]MM:SS[.ms]."),
        click.option("--end", help="End time."),
        click.option("--duration", help="Length instead of --end."),
        click.option("--bitrate", help="Bitrate for lossy formats, e.g. 192k."),
        click.option("--sample-rate", type=int, help="Output sample rate in Hz."),
        click.option("--channels", type=click.Choice(["1", "2"]), help="1 (mono) or 2 (stereo)."),
        click.option("--bits", "sample_bits", type=click.Choice(["16", "24", "32"]),
                     help="Bit depth for WAV/FLAC."),
        click.option("--exact", is_flag=True, help="Transcode so that cuts are sample-accurate."),
        click.option("--drop-offset", is_flag=True,
                     help="Start the output at the first audio sample even if the track starts after the video."),
        click.option("--salvage", is_flag=True, help="Keep every readable part of a damaged or truncated input."),
        click.option("--loudness", type=float, metavar="LUFS",
                     help="Normalise to this integrated loudness (EBU R128, two-pass, true peak under -1.5 dBTP), "
                          "e.g. -16 (podcast) or -23 (broadcast)."),
        click.option("--preset", metavar="NAME",
                     help="Start from a named preset (podcast, streaming, broadcast, audiobook, cd, ringtone, "
                          "speech; see `vax presets`); options given beside it win."),
        click.option("--no-tags", is_flag=True,
                     help="Do not carry the file's tags, cover art and chapters into the output."),
        click.option("--overwrite", is_flag=True, help="Replace existing output files."),
        click.option("--verify", "verify", type=click.Choice(["evidence", "full"]), default="evidence",
                     show_default=True, help="evidence: prove the output from what was written (every packet "
                                             "checked, both ends decoded); full: also decode all of it."),
        click.option("--backend", type=click.Choice(["auto", "local", "remote"]), default="auto",
                     show_default=True, help="auto runs locally, and in the cloud only what the local engine "
                                             "cannot decode (with --allow-cloud)."),
        click.option("--allow-cloud", is_flag=True,
                     help="Allow uploading the input to NemoVideo when the local engine cannot decode it "
                          "(or set VAX_ALLOW_CLOUD=1)."),
        click.option("--remote-url", help="NemoVideo service URL (default: $VAX_REMOTE_URL, else production)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def spec_from_options(input_path: str, kw: dict) -> JobSpec:
    from extractor.jobspec import JobSpec

    from .creator_options import creator_spec_options

    return JobSpec.build(
        input_path,
        output=kw.get("output"), format=kw.get("fmt", "auto"), track=kw.get("track"), lang=kw.get("lang"),
        title=kw.get("title"), all_tracks=kw.get("all_tracks", False), start=kw.get("start"),
        end=kw.get("end"), duration=kw.get("duration"), bitrate=kw.get("bitrate"),
        sample_rate=kw.get("sample_rate"),
        channels=int(kw["channels"]) if kw.get("channels") else None,
        sample_bits=int(kw["sample_bits"]) if kw.get("sample_bits") else None,
        exact=kw.get("exact", False), keep_offset=not kw.get("drop_offset", False),
        salvage=kw.get("salvage", False), keep_tags=not kw.get("no_tags", False), overwrite=kw.get("overwrite", False),
        loudness=kw.get("loudness"), preset=kw.get("preset"), backend=kw.get("backend") or "auto",
        allow_cloud=bool(kw.get("allow_cloud")), remote_url=kw.get("remote_url"), **creator_spec_options(kw),
        verify=kw.get("verify") or "evidence",
    )


def run_jobs(make_specs, *, dry_run: bool, as_json: bool, quiet: bool, debug: bool,
             batch: BatchSettings | None = None, labels: dict[str, str] | None = None, info_of=None) -> int:
    """Run one job per spec factory, reporting each; the exit code is the first failure's.

    ``info_of(spec)``: the probe the caller already made of the spec's input, or None (so a
    file is not probed twice: `vax do` probes to understand the request).

    With ``batch`` settings and several jobs (or a folder/pattern, or --skip-existing), the
    jobs run in parallel worker processes instead (``extractor.batch.pool.run_batch``).
    """
    # Start-up's imports end here, before a stop may land inside a job; PyAV and the local engine
    # too, which nearly every job needs, so that they count as start-up (see app.startup_over).
    import av  # noqa: F401

    import backends.local  # noqa: F401
    import extractor.api  # noqa: F401

    from .app import startup_over
    from .stop import ready

    ready()
    startup_over()
    if batch is not None and not dry_run and batch.applies(len(make_specs)):
        from extractor.batch.pool import run_batch

        from .batch_report import BatchReporter

        return run_batch(make_specs, batch, debug=debug,
                         reporter=lambda total: BatchReporter(total, as_json=as_json, quiet=quiet))
    return _run_each(make_specs, dry_run=dry_run, as_json=as_json, quiet=quiet, debug=debug, labels=labels,
                     info_of=info_of)


def _run_each(make_specs, *, dry_run: bool, as_json: bool, quiet: bool, debug: bool, labels, info_of) -> int:
    """The jobs one after another, each in its own contained process (see contained.py)."""
    from extractor.cli.progress import ProgressBar

    bar = ProgressBar(enabled=None if not (quiet or as_json) else False)
    codes: list[int] = []
    for make_spec in make_specs:
        def job(link, make_spec=make_spec) -> int:
            holder: dict = {}

            def body():
                spec = make_spec()
                holder["spec"] = spec
                link.job(spec)
                info = info_of(spec) if info_of else None
                if dry_run:
                    _print_dry_run(spec, as_json, info)
                    return
                from extractor.api import run_spec

                results = run_spec(spec, info=info, progress=lambda plan, f: bar.update(plan.output.name, f),
                                   on_start=link.on_start, on_result=link.on_result)
                bar.clear()
                for result in results:
                    result.input = (labels or {}).get(result.input, result.input)  # "-" for standard input
                    _print_result(result, as_json=as_json, quiet=quiet)

            report = _json_error_reporter(holder) if as_json else _error_line
            code = run_guarded(body, debug=debug, report=link.reporting(report))
            bar.clear()
            return code

        code = run_contained(job, report=lambda error, source: _report_for_job(error, source, as_json), debug=debug)
        codes.append(code)
        if code == Interrupted.exit_code or stop_heard():
            break  # the user asked to stop: start no further jobs
    failures = [c for c in codes if c]
    return failures[0] if failures else 0


def _report_for_job(error, source: str | None, as_json: bool) -> None:
    """What the job would have said itself, said by vax when the job's process could not (it crashed)."""
    if as_json:
        _json_error_reporter({"spec": SimpleNamespace(input=source)} if source else {})(error)
    else:
        _error_line(error)


def _json_error_reporter(holder: dict):
    def report(exc: VaxError) -> None:
        spec = holder.get("spec")
        click.echo(json.dumps({"status": "error", "input": spec.input if spec else None,
                               "error": exc.label, "message": exc.one_line(), "exit_code": exc.exit_code}))
        _error_line(exc)

    return report


def _print_dry_run(spec: JobSpec, as_json: bool, info=None) -> None:
    from extractor.api import plan as make_plans

    plans = make_plans(spec, info)
    if as_json:
        click.echo(json.dumps({"status": "dry-run", "spec": spec.to_dict(),
                               "plans": [p.to_dict() for p in plans]}))
        return
    click.echo(f"job spec: {spec.to_json()}")
    for each in plans:
        click.echo(f"plan: {each.explanation}")
        for note in each.notes:
            click.echo(f"  note: {note}")


def _print_result(result, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    if quiet:
        return
    v = result.verification
    click.echo(
        f"{result.input} -> {result.output}\n"
        f"  {result.plan.explanation}\n"
        f"  verified: {v.codec} {v.sample_rate} Hz {v.channels}ch, {v.duration:.3f}s"
        + (f" (+{v.start_offset:.3f}s start offset)" if v.start_offset else "")
        + (f", {v.loudness_lufs:.1f} LUFS" if v.loudness_lufs is not None else "")
        + f", {human_size(v.size)}; {result.backend} backend, {result.elapsed:.2f}s")
    for note in result.notes:
        click.echo(f"  note: {note}")
    for at, length in result.gaps:
        click.echo(f"  gap: {length:.3f}s missing at {at:.3f}s")


