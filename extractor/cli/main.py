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
from importlib import import_module

import click

from extractor import __version__
from extractor.errors import Interrupted, exit_code_table
from extractor.units import human_size


def _exit_codes_epilog() -> str:
    rows = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in exit_code_table())
    return f"\b\nExit codes:\n{rows}"


class Context:
    def __init__(self, debug: bool = False):
        self.debug = debug


def _on_terminate(signum, frame):  # pragma: no cover - exercised through a subprocess test
    name = signal.Signals(signum).name
    raise Interrupted(f"stopped by {name}; unfinished outputs were removed")


def run_guarded(func, *, debug: bool, report=None) -> int:
    """The shared guard (``extractor.guard``), letting click's own exits and usage errors through."""
    from extractor.guard import run_guarded as guarded

    try:
        return guarded(func, debug=debug, report=report or _error_line,
                       passthrough=(click.exceptions.Exit, click.ClickException))
    except click.exceptions.Exit as exc:
        return exc.exit_code


def _error_line(exc) -> None:
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
             lazy_commands={"extract": ".extract:extract", "serve": ".serve:serve",
                            "credits": ".remote:credits",  # `vax credits`: the cloud account's balance
                            "do": ".do:do",  # `vax do "REQUEST"`: plain-language requests
                            "library": ".library:library"})  # `vax library ...`: a catalogue, extracted once
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
        from extractor.mediainfo import probe as do_probe

        info = do_probe(file)
        if as_json:
            click.echo(json.dumps(info.to_dict(), indent=2))
            return
        click.echo(format_probe(info))

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def format_probe(info) -> str:
    from extractor.timeparse import format_time

    lines = [
        f"{info.path}",
        (f"  container: {info.container_long} ({info.container}), {human_size(info.size)}, "
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


def main() -> None:
    signal.signal(signal.SIGTERM, _on_terminate)
    # numpy's OpenBLAS starts a thread pool at import (~50 ms here); vax never does linear algebra.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        cli.main(prog_name="vax", standalone_mode=True)
    except KeyboardInterrupt:  # Ctrl-C outside a job (e.g. while click parses)
        click.echo("vax: interrupted", err=True)
        sys.exit(Interrupted.exit_code)

