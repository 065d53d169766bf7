"""The `vax` command line.

Errors become exit codes in exactly one place, ``run_guarded``: every command raises
VaxError subclasses and never calls sys.exit itself. Heavy imports (PyAV, numpy) happen
inside commands, so `vax --help` answers instantly.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from importlib import import_module
from typing import TYPE_CHECKING

import click

from . import __version__
from .errors import InternalError, Interrupted, VaxError, exit_code_table

if TYPE_CHECKING:  # pragma: no cover
    from .batch import BatchSettings
    from .jobspec import JobSpec


def _exit_codes_epilog() -> str:
    rows = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in exit_code_table())
    return f"\b\nExit codes:\n{rows}"


class Context:
    def __init__(self, debug: bool = False):
        self.debug = debug


def _on_sigterm(signum, frame):  # pragma: no cover - exercised through a subprocess test
    raise Interrupted("stopped by SIGTERM; unfinished outputs were removed")


def run_guarded(func, *, debug: bool, report=None) -> int:
    """Run a command body; map every failure to one line (stderr, or ``report``) and its exit code."""
    report = report or _error_line
    try:
        func()
        return 0
    except VaxError as exc:
        if debug:
            traceback.print_exc()
        report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        exc = Interrupted("interrupted; unfinished outputs were removed")
        report(exc)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, with the traceback behind --debug
        if debug:
            traceback.print_exc()
        wrapped = InternalError(f"{type(exc).__name__}: {exc}", hint="run again with --debug for details")
        report(wrapped)
        return wrapped.exit_code
    finally:
        if __package__ + ".outputs" in sys.modules:  # otherwise no output was started (`vax probe`)
            from .outputs import remove_live_temps

            remove_live_temps()


def _error_line(exc: VaxError) -> None:
    click.echo(f"vax: error: {exc.one_line()}", err=True)


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists it), so `vax probe`
    loads neither the batch runner nor the web server nor the cloud client."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})  # name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str):
        if name not in self.commands and name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].split(":")
            self.add_command(getattr(import_module(module, __package__), attribute), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=_exit_codes_epilog(),
             lazy_commands={"extract": ".cli_extract:extract", "serve": ".cli_serve:serve",
                            "credits": ".cli_remote:credits",  # `vax credits`: the cloud account's balance
                            "do": ".cli_do:do"})  # `vax do "REQUEST"`: plain-language requests
@click.version_option(__version__, prog_name="vax")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """vax: get the audio out of a video, locally, losslessly when possible.

    \b
    Examples:
      vax probe talk.mp4
      vax extract talk.mp4                      # lossless copy, e.g. talk.m4a
      vax extract talk.mp4 -f mp3 --bitrate 192k
      vax extract film.mkv --lang spa --start 1:00 --end 2:30
      vax extract *.mp4 -o out/ --json
      vax do "the Spanish track from 1:00 to 2:30 as mp3" film.mkv
      vax serve --open                          # the local web page
    """
    ctx.obj = Context(debug=debug)


def _debug_of(ctx: click.Context, local: bool) -> bool:
    return local or bool(ctx.obj and ctx.obj.debug)


# -- probe ------------------------------------------------------------------------------

@cli.command()
@click.argument("file", type=click.Path(path_type=str, readable=False))
@click.option("--json", "as_json", is_flag=True, help="Print the probe as JSON.")
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def probe(ctx: click.Context, file: str, as_json: bool, debug: bool) -> None:
    """Show the container, audio tracks and video streams of FILE."""

    def body():
        from .mediainfo import probe as do_probe

        info = do_probe(file)
        if as_json:
            click.echo(json.dumps(info.to_dict(), indent=2))
            return
        click.echo(format_probe(info))

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def format_probe(info) -> str:
    from .timeparse import format_time

    lines = [
        f"{info.path}",
        (f"  container: {info.container_long} ({info.container}), {_human_size(info.size)}, "
         f"duration {format_time(info.duration)}"),
    ]
    if not info.audio:
        lines.append("  audio: none")
    for track in info.audio:
        lines.append(f"  audio {track.describe()}")
    for video in info.video:
        lines.append(f"  {video.describe()}")
    if info.other_streams:
        lines.append(f"  other streams: {info.other_streams} (subtitles, data)")
    return "\n".join(lines)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


# -- extract ----------------------------------------------------------------------------

def extract_options(func):
    """The job-spec options shared by every command that runs extraction jobs."""
    from .policy import USER_FORMATS

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
        click.option("--overwrite", is_flag=True, help="Replace existing output files."),
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
    from .jobspec import JobSpec

    return JobSpec.build(
        input_path,
        output=kw.get("output"), format=kw.get("fmt", "auto"), track=kw.get("track"), lang=kw.get("lang"),
        title=kw.get("title"), all_tracks=kw.get("all_tracks", False), start=kw.get("start"),
        end=kw.get("end"), duration=kw.get("duration"), bitrate=kw.get("bitrate"),
        sample_rate=kw.get("sample_rate"),
        channels=int(kw["channels"]) if kw.get("channels") else None,
        sample_bits=int(kw["sample_bits"]) if kw.get("sample_bits") else None,
        exact=kw.get("exact", False), keep_offset=not kw.get("drop_offset", False),
        salvage=kw.get("salvage", False), overwrite=kw.get("overwrite", False), loudness=kw.get("loudness"),
        backend=kw.get("backend") or "auto", allow_cloud=_cloud_permission(kw), remote_url=kw.get("remote_url"),
    )


def _cloud_permission(kw: dict) -> bool:
    """--allow-cloud, or the user's standing permission (env or config file); never on by default."""
    from .cli_remote import standing_cloud_permission

    return bool(kw.get("allow_cloud")) or standing_cloud_permission()


def run_jobs(make_specs, *, dry_run: bool, as_json: bool, quiet: bool, debug: bool,
             batch: BatchSettings | None = None) -> int:
    """Run one job per spec factory, reporting each; the exit code is the first failure's.

    With ``batch`` settings and several jobs (or a folder/pattern, or --skip-existing), the
    jobs run in parallel worker processes instead (``extractor.batch.run_batch``).
    """
    if batch is not None and not dry_run and batch.applies(len(make_specs)):
        from .batch import run_batch

        return run_batch(make_specs, batch, as_json=as_json, quiet=quiet, debug=debug)
    from .progress import ProgressBar

    bar = ProgressBar(enabled=None if not (quiet or as_json) else False)
    codes: list[int] = []
    for make_spec in make_specs:
        holder: dict = {}

        def body(make_spec=make_spec, holder=holder):
            spec = make_spec()
            holder["spec"] = spec
            if dry_run:
                _print_dry_run(spec, as_json)
                return
            from .api import run_spec

            results = run_spec(spec, progress=lambda plan, f: bar.update(plan.output.name, f))
            bar.clear()
            for result in results:
                _print_result(result, as_json=as_json, quiet=quiet)

        report = _json_error_reporter(holder) if as_json else None
        code = run_guarded(body, debug=debug, report=report)
        bar.clear()
        codes.append(code)
        if code == Interrupted.exit_code:
            break  # the user asked to stop: start no further jobs
    failures = [c for c in codes if c]
    return failures[0] if failures else 0


def _json_error_reporter(holder: dict):
    def report(exc: VaxError) -> None:
        spec = holder.get("spec")
        click.echo(json.dumps({"status": "error", "input": spec.input if spec else None,
                               "error": exc.label, "message": exc.one_line(), "exit_code": exc.exit_code}))
        _error_line(exc)

    return report


def _print_dry_run(spec: JobSpec, as_json: bool) -> None:
    from .api import plan as make_plans

    plans = make_plans(spec)
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
        + f", {_human_size(v.size)}; {result.backend} backend, {result.elapsed:.2f}s")
    for note in result.notes:
        click.echo(f"  note: {note}")
    for at, length in result.gaps:
        click.echo(f"  gap: {length:.3f}s missing at {at:.3f}s")


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    # numpy's OpenBLAS starts a thread pool at import (~50 ms here); vax never does linear algebra.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        cli.main(prog_name="vax", standalone_mode=True)
    except KeyboardInterrupt:  # Ctrl-C outside a job (e.g. while click parses)
        click.echo("vax: interrupted", err=True)
        sys.exit(Interrupted.exit_code)

