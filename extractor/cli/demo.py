"""`vax demo [FOLDER]`: make a sample clip and run the commands a new user would try on it.

For someone who installed the wheel and never saw the repository: the sample comes from the
package's own fixture generator (``fixtures.generate.make_demo``: 12 s of 640x360 video with an
English and a Spanish audio track, tones of known pitch), then each step runs as the very
command line it prints, so what the demo shows is what the user can type next. ``make demo``
runs this command too.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from extractor.cli.app import _debug_of, run_guarded

REQUEST = "the Spanish track as flac, podcast loudness"


def demo_steps(sample: Path) -> list[list[str]]:
    """The commands the demo runs (the same as the README's first examples)."""
    s = str(sample)
    return [
        ["probe", s],
        ["extract", s, "--overwrite"],
        ["extract", s, "-f", "mp3", "--start", "0:01", "--duration", "3", "--overwrite"],
        ["do", REQUEST, s, "--overwrite"],
    ]


@click.command("demo")
@click.argument("folder", default="vax-demo", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sample-only", is_flag=True, help="Only make the sample clip; run nothing on it.")
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def demo(ctx: click.Context, folder: Path, sample_only: bool, debug: bool) -> None:
    """Make a sample clip in FOLDER (default ./vax-demo), then probe it and extract its audio three ways.

    \b
    Writes only inside FOLDER: sample.mp4 and the audio taken from it.
    """
    debug = _debug_of(ctx, debug)
    holder: dict = {}

    def make_sample():
        from extractor.errors import OutputError

        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the demo folder {folder}: {exc.strerror or exc}") from None
        from fixtures.generate import make_demo

        holder["sample"] = make_demo(folder)
        click.echo(f"made {holder['sample']}: 12 s of video with an English and a Spanish audio track")

    code = run_guarded(make_sample, debug=debug)
    if code or sample_only:
        sys.exit(code)
    for args in demo_steps(holder["sample"]):
        code = _run_step(ctx, args, debug=debug)
        if code:
            sys.exit(code)
    click.echo(f"\ndemo outputs are in {folder}; try the web page with: vax serve --open")


def _run_step(ctx: click.Context, args: list[str], *, debug: bool) -> int:
    """Run one step as `vax ARGS` in this process (no second interpreter start), echoing it first."""
    from extractor.cli.app import cli

    click.echo(f"\n$ vax {shlex.join(args)}")
    root = ctx.find_root()
    prefix = ["--debug"] if debug else []
    if root.color is not None:  # keep `vax --color ... demo` for the steps
        prefix += ["--color", "always" if root.color else "never"]
    try:
        cli.main(args=prefix + args, prog_name="vax", standalone_mode=False)
    except SystemExit as exc:  # every command ends with sys.exit(code)
        return int(exc.code or 0)
    except click.ClickException as exc:  # pragma: no cover - the steps are fixed, valid command lines
        exc.show()
        return exc.exit_code
    return 0
