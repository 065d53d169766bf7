"""The `vax` command line.

Errors become exit codes in exactly one place, ``run_guarded``: every command raises
VaxError subclasses and never calls sys.exit itself. Heavy imports (PyAV, numpy) happen
inside commands, so `vax --help` answers instantly.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from importlib import import_module

import click

from extractor import __version__
from extractor.errors import Interrupted, exit_code_table
from extractor.units import human_size

from .stop import ignore_stop_signals, install_signal_handlers, pending, ready, report_interrupted


def _exit_codes_epilog() -> str:
    rows = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in exit_code_table())
    return f"\b\nExit codes:\n{rows}"


class Context:
    def __init__(self, debug: bool = False):
        self.debug = debug


def run_guarded(func, *, debug: bool, report=None) -> int:
    """The shared guard (``extractor.guard``), letting click's own exits and usage errors through."""
    from extractor.guard import run_guarded as guarded

    def body():
        ready()  # a stop noted during start-up is raised here, inside the guard
        startup_over()
        return func()

    try:
        return guarded(body, debug=debug, report=report or _error_line,
                       passthrough=(click.exceptions.Exit, click.ClickException))
    except click.exceptions.Exit as exc:
        return exc.exit_code


def _error_line(exc) -> None:
    click.echo(f"{click.style('vax: error:', fg='red', bold=True)} {exc.one_line()}", err=True)


def _print_version(ctx: click.Context, param, value: bool) -> None:
    """The versions a bug report needs: PyAV (imported only here) and the FFmpeg bundled with it."""
    if not value or ctx.resilient_parsing:
        return
    try:
        import av

        engine = f"PyAV {av.__version__}, FFmpeg {getattr(av, 'ffmpeg_version_info', 'unknown')}"
    except ImportError as exc:  # a broken install should still say which vax it is
        engine = f"PyAV not importable ({exc})"
    click.echo(f"vax {__version__} ({engine}, Python {sys.version.split()[0]})")
    ctx.exit()


def _choose_color(ctx: click.Context, param, value: str | None) -> None:
    """--color sets click's context colour, so every styled ``click.echo`` of every command agrees
    (auto: a terminal decides). It wins over NO_COLOR (no-color.org: an explicit option overrides)."""
    no_color = bool(os.environ.get("NO_COLOR"))  # any non-empty value counts
    ctx.color = {"always": True, "never": False}.get(value or "", False if no_color else None)


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
                            "bench": ".bench:bench",  # `vax bench`: local against the cloud or ffmpeg
                            "credits": ".remote:credits",  # `vax credits`: the cloud account's balance
                            "do": ".do:do",  # `vax do "REQUEST"`: plain-language requests
                            "presets": ".presets:presets",  # `vax presets`: what each preset sets
                            "loudness": ".loudness:loudness",  # `vax loudness`: levels of every track
                            "demo": ".demo:demo",  # `vax demo`: a sample clip, probed and extracted
                            "config": ".config:config",  # `vax config show`: the settings file
                            "library": ".library:library"})  # `vax library ...`: a catalogue, extracted once
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version of vax, PyAV and FFmpeg, and exit.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None, expose_value=False,
              is_eager=True, callback=_choose_color, help="Colour on a terminal (auto, the default; NO_COLOR=1 "
                                                           "turns it off).")
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
    if ctx.invoked_subcommand not in STARTS_WHEN_JOBS_DO:
        ready()


# Commands that end start-up themselves (``stop.ready``) once their engines are imported.
STARTS_WHEN_JOBS_DO = frozenset({"extract", "do", "probe", "credits"})


def _debug_of(ctx: click.Context, local: bool) -> bool:
    return local or bool(ctx.obj and ctx.obj.debug)


# -- probe ------------------------------------------------------------------------------

@cli.command()
@click.argument("file", type=click.Path(path_type=str, readable=False))
@click.option("--json", "as_json", is_flag=True, help="Print the probe as JSON.")
@click.option("--loudness", "with_levels", is_flag=True,
              help="Also measure every track: loudness, range, true peak, RMS, peak (one decode).")
@click.option("--silence", "with_silence", is_flag=True, help="Also list the silent spans of every track.")
@click.option("--silence-threshold", type=float, metavar="DBFS", help="Silence is under this level (default -50).")
@click.option("--min-silence", metavar="SECONDS", help="Shortest silence listed (default 0.5 s).")
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def probe(ctx: click.Context, file: str, as_json: bool, with_levels: bool, with_silence: bool,
          silence_threshold: float | None, min_silence: str | None, debug: bool) -> None:
    """Show the container, audio tracks and video streams of FILE."""

    def body():
        from extractor.mediainfo import probe as do_probe

        info = do_probe(file)
        extra = _probe_extras(info, with_levels, with_silence, silence_threshold, min_silence)
        if as_json:
            click.echo(json.dumps({**info.to_dict(), **extra}, indent=2, default=_plain))
            return
        click.echo(format_probe(info))
        if "levels" in extra:
            from .tables import format_levels

            click.echo(format_levels(extra["levels"]))
        for number, spans in extra.get("silences", {}).items():
            listed = ", ".join(f"{s.start:.2f}-{s.end:.2f}s" for s in spans) or "none"
            click.echo(f"  silence in track {number}: {listed}")

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def _probe_extras(info, with_levels, with_silence, threshold, shortest) -> dict:
    extra: dict = {}
    if with_levels:
        from extractor.levels import measure_levels

        extra["levels"] = measure_levels(info.path)
    if with_silence:
        from extractor.silence import DEFAULT_MIN_SILENCE, DEFAULT_THRESHOLD, find_silences
        from extractor.timeparse import parse_time

        extra["silences"] = {
            track.number: find_silences(info, track, threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
                                        min_silence=parse_time(shortest) or DEFAULT_MIN_SILENCE)[0]
            for track in info.audio if track.decodable}
    return extra


def _plain(value):
    return value.to_dict()


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


_collector_paused = False


def pause_collector() -> None:
    """Start-up makes tens of thousands of objects that live as long as the process (modules,
    classes, click's commands; PyAV's are most of them), and the cyclic collector would walk
    them over and over while they are being made, and once more at exit. So it is off until
    ``startup_over``. Measured: importing what a copy needs, 0.129 s of CPU -> 0.105 s."""
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def startup_over() -> None:
    """The command starts its work: what start-up made is frozen out of every later collection
    (the one at exit included; forked batch workers then share those pages untouched) and the
    collector runs again. Idempotent; leaves alone a collector someone else turned off."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def main() -> None:
    pause_collector()
    install_signal_handlers()  # again, in case main() is called directly
    from .stdout import install

    stdout = install()
    # numpy's OpenBLAS starts a thread pool at import (~50 ms here); vax never does linear algebra.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        code = _exit_code_of(_run_cli)
    except KeyboardInterrupt as exc:  # between the steps above
        code = report_interrupted(exc)
    try:
        ignore_stop_signals()
        stdout.finish()
    except KeyboardInterrupt:
        pass  # a signal that landed before the handlers were set aside: the run is already over
    if pending() is not None:  # a stop during start-up, and no job began
        code = report_interrupted(pending())
    problem = stdout.error_line()
    if problem:
        from extractor.errors import OutputError

        sys.stderr.write(f"vax: error: {problem}\n")
        code = code or OutputError.exit_code
    if code == Interrupted.exit_code:
        # A stopped run has cleaned up; skip the interpreter's teardown, which frees the objects of an
        # engine stopped mid-call (once in about 500 random-moment stops that crashed, after the cleanup).
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        _release_process_resources()
        os._exit(code)
    sys.exit(code)


def _release_process_resources() -> None:
    """What os._exit would skip and another process would notice: the named semaphores of a
    batch's queues, which the resource tracker of spawned workers would report as leaked."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        with contextlib.suppress(Exception):
            util._run_finalizers(0)


def _exit_code_of(run) -> int:
    try:
        return run()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        sys.stderr.write(f"{exc.code}\n")
        return 1


def _run_cli() -> int:
    """click without its standalone mode, so that a Ctrl-C while click itself runs (start-up,
    argument parsing) is vax's interruption, not click's "Aborted!" with exit 1."""
    try:
        try:
            result = cli.main(prog_name="vax", standalone_mode=False)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                raise exc.__cause__ from None
            raise Interrupted() from None
        return result if isinstance(result, int) else 0
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return report_interrupted(exc)
