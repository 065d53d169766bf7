"""`vax loudness FILE...`: integrated loudness, range, true peak, RMS and peak of every audio track."""

from __future__ import annotations

import json
import sys

import click

from .app import _debug_of, run_guarded
from .tables import format_levels


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def loudness(ctx: click.Context, files: tuple[str, ...], as_json: bool, debug: bool) -> None:
    """Measure every audio track of each FILE in one decode: EBU R128 loudness (LUFS), loudness range
    (LU), true peak (dBTP), RMS and sample peak (dBFS), and whether the track is silent."""
    codes = []
    for path in files:
        codes.append(run_guarded(lambda path=path: _report(path, as_json), debug=_debug_of(ctx, debug)))
    failures = [c for c in codes if c]
    sys.exit(failures[0] if failures else 0)


def _report(path: str, as_json: bool) -> None:
    from extractor.levels import measure_levels

    tracks = measure_levels(path)
    if as_json:
        click.echo(json.dumps({"input": path, "tracks": [t.to_dict() for t in tracks]}))
        return
    click.echo(path)
    click.echo(format_levels(tracks))
