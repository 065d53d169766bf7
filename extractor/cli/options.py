"""click options shared by the commands that run jobs."""

from __future__ import annotations

import click


def output_options(dry_run_help: str = "Show the plan and the job spec, write nothing.",
                   json_help: str = "One JSON result per job on stdout."):
    """--dry-run, --json, --quiet, --debug: how a command that runs jobs reports them."""
    options = [
        click.option("--dry-run", is_flag=True, help=dry_run_help),
        click.option("--json", "as_json", is_flag=True, help=json_help),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
        click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
    ]

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def batch_options(func):
    """Options for commands that take many inputs."""
    options = [
        click.option("-r", "--recursive", is_flag=True, help="Also look inside the subfolders of folder inputs."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
                     help="Files to work on at once, each in its own process (default: number of cores)."),
        click.option("--skip-existing", is_flag=True,
                     help="Skip outputs that already exist and verify (the default with several inputs)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
