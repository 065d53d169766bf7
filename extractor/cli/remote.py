"""The cloud side of the command line: `vax credits`, and the standing permission to upload.

Registered at the end of ``cli.py``. Nothing here imports httpx until a command runs, so
`vax --help` stays instant.
"""

from __future__ import annotations

import json
import sys

import click

from extractor.cli.app import _debug_of, run_guarded


def standing_cloud_permission() -> bool:
    """VAX_ALLOW_CLOUD=1, or ``allow_cloud = true`` in the vax config file: the user's own decision."""
    try:
        from backends.remote.config import cloud_allowed_by_user
    except ImportError:  # a build without the cloud backend
        return False
    return cloud_allowed_by_user()


@click.command()
@click.option("--remote-url", help="NemoVideo service URL (default: $VAX_REMOTE_URL, else production).")
@click.option("--json", "as_json", is_flag=True, help="Print the balance as JSON.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def credits(ctx: click.Context, remote_url: str | None, as_json: bool, debug: bool) -> None:
    """Show the NemoVideo cloud credits: available, frozen (held by running jobs) and total.

    Uses NEMO_TOKEN when set, else this install's free anonymous token (made on first use).
    Uploads nothing.
    """

    def body():
        from backends.remote import credits_summary

        summary = credits_summary(remote_url)
        if as_json:
            click.echo(json.dumps(summary))
            return
        account = "anonymous (free tier)" if summary["anonymous"] else "NEMO_TOKEN"
        click.echo(f"NemoVideo credits at {summary['service']} ({account})\n"
                   f"  available: {_amount(summary['available'])}\n"
                   f"  frozen:    {_amount(summary['frozen'])}\n"
                   f"  total:     {_amount(summary['total'])}")

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def _amount(value) -> str:
    if value is None:
        return "unknown"
    return f"{value:g}" if isinstance(value, float) else str(value)
