"""`vax presets`: the named presets and what each sets."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the presets as JSON.")
def presets(as_json: bool) -> None:
    """List the presets for --preset (and for words such as "for my podcast", "for whisper")."""
    from extractor.presets import PRESETS, describe_settings

    if as_json:
        click.echo(json.dumps({p.name: {"purpose": p.purpose, "sets": p.options, "notes": list(p.notes)}
                               for p in PRESETS.values()}, indent=2))
        return
    for preset in PRESETS.values():
        click.echo(f"{preset.name:<10} {preset.purpose}")
        click.echo(f"{'':<10} sets: {describe_settings(preset.options)}")
        for note in preset.notes:
            click.echo(f"{'':<10} note: {note}")
