"""`vax extract`: one or many inputs, each into its own verified file (a batch runs in parallel).

Its own module so that other commands (`vax probe`) do not import the batch runner.
"""

from __future__ import annotations

import os
import sys

import click

from extractor.batch.expand import BatchSettings, expand_inputs
from extractor.cli.app import _debug_of
from extractor.cli.creator_options import creator_options
from extractor.cli.jobs import extract_options, run_jobs, spec_from_options
from extractor.cli.options import batch_options, output_options


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@extract_options
@creator_options
@output_options()
@batch_options
@click.pass_context
def extract(ctx: click.Context, inputs: tuple[str, ...], dry_run: bool, as_json: bool, quiet: bool,
            debug: bool, recursive: bool, jobs: int | None, skip_existing: bool, **kw) -> None:
    """Extract the audio of each INPUT (files, folders, patterns) into its own file, verified.

    Several inputs run in parallel (one process per core) and resume: an output that already
    exists and verifies is skipped, one that does not verify is left alone and reported
    (exit 8); --overwrite redoes both. Non-media files are skipped with a note. A single
    file keeps the plain rule: an existing output is an error (exit 8) unless
    --skip-existing. A batch exits 0 when nothing failed, else with the failures' common
    exit code, or 1 when they differ; Ctrl-C stops it (130) keeping finished outputs.
    """
    debug = _debug_of(ctx, debug)
    output = kw.get("output")
    if "-" in inputs or output == "-":  # a pipe: `cat film.mkv | vax extract - -o out.m4a`, `-o -`
        from extractor.cli.pipes import run_piped

        sys.exit(run_piped(inputs, kw, dry_run=dry_run, as_json=as_json, quiet=quiet, debug=debug))
    found = expand_inputs(inputs, recursive=recursive,
                          exclude=output if output and "{" not in output and output.endswith(("/", "\\")) else None)
    batch = BatchSettings(jobs=jobs, skip_existing=skip_existing, many=found.many, skipped=found.skipped,
                          problems=found.problems)
    subfolders = found.subfolders() if _is_folder_target(output) else {}
    code = run_jobs([lambda path=path: spec_from_options(path, _placed(kw, subfolders.get(path)))
                     for path in found.files],
                    dry_run=dry_run, as_json=as_json, quiet=quiet, debug=debug, batch=batch)
    sys.exit(code)


def _is_folder_target(output: str | None) -> bool:
    return bool(output) and "{" not in output and (output.endswith(("/", os.sep)) or os.path.isdir(output))


def _placed(kw: dict, subfolder: str | None) -> dict:
    """The options of one input, its output folder moved into ``subfolder`` (mirroring the input tree)."""
    if not subfolder:
        return kw
    return {**kw, "output": os.path.join(kw["output"], subfolder) + "/"}
