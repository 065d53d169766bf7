"""`vax do "REQUEST" FILE...`: say what you want in words; vax shows what it understood, then runs it.

The request is read offline by ``extractor.request.interpret`` (rules, no model). Before
anything runs, vax prints ``Understood: <sentence>`` and, per file, the job it will do.

Unknown words stop the run: when part of the request could not be placed, vax prints
``Did not understand: 'x', 'y'`` and exits with code 2 without touching any file, because
running something other than what was asked is worse than asking again. ``--yes`` runs what
was understood anyway. Contradictions ("as mp3 ... as flac") are exit 2 as well.

Intents: extraction (and "upload": the same job on the cloud backend) runs through the very
same machinery as `vax extract` (``run_jobs``: batch, parallel workers, resume, --json);
"status"/"show tracks" prints `vax probe` for each file; "credits"/"balance" runs `vax credits`
(exit 12 when this build has no cloud backend).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from extractor.batch.expand import BatchSettings, expand_inputs
from extractor.cli.jobs import _json_error_reporter, run_jobs
from extractor.cli.main import _debug_of, format_probe, run_guarded
from extractor.cli.options import batch_options, output_options
from extractor.errors import RemoteError, UsageError, VaxError


@click.command("do")
@click.argument("request")
@click.argument("files", nargs=-1, type=click.Path(path_type=str))
@click.option("-o", "--output", help="Output file, folder (ending in /) or template; wins over the request's.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("-y", "--yes", is_flag=True, help="Run even if part of the request was not understood.")
@output_options(dry_run_help="Show what was understood, the plan and the job spec; write nothing.",
                json_help="JSON on stdout (one line per job); the sentences go to stderr.")
@batch_options
@click.pass_context
def do(ctx: click.Context, request: str, files: tuple[str, ...], output: str | None, overwrite: bool, yes: bool,
       dry_run: bool, as_json: bool, quiet: bool, debug: bool, recursive: bool, jobs: int | None,
       skip_existing: bool) -> None:
    """Do what REQUEST says with each FILE, e.g.

    \b
      vax do "the Spanish track as mp3 320k from 1:00 to 2:30" film.mkv
      vax do "just the audio, lossless" talk.mp4
      vax do "the last 2 minutes, normalize for podcast, call it outro.m4a" talk.mp4
      vax do "show tracks" film.mkv
      vax do "提取音频 mp3" clip.mp4

    Parts it cannot place are named and nothing runs (exit 2) unless --yes.
    """
    debug = _debug_of(ctx, debug)
    say = _sayer(as_json=as_json, quiet=quiet)
    holder: dict = {}

    def understand():
        from extractor.words.interpret import interpret

        interpretation = interpret(request)
        holder["interpretation"] = interpretation
        say(f"Understood: {interpretation.understood}")
        if interpretation.unknown:
            click.echo("Did not understand: " + ", ".join(repr(p) for p in interpretation.unknown), err=True)
            if not yes:
                raise UsageError("nothing was run, because part of the request was not understood",
                                 hint="rephrase it, or add --yes to run only what was understood")

    code = run_guarded(understand, debug=debug, report=_json_error_reporter({}) if as_json else None)
    if code:
        sys.exit(code)
    interpretation = holder["interpretation"]

    if interpretation.intent == "credits":
        sys.exit(_credits(ctx, as_json=as_json, debug=debug, dry_run=dry_run))
    if not files:
        sys.exit(run_guarded(_no_files, debug=debug))
    exclude = output if output and "{" not in output and output.endswith(("/", "\\")) else None
    found = expand_inputs(files, recursive=recursive, exclude=exclude)
    if interpretation.intent == "probe":
        sys.exit(_probe_each(found.files, as_json=as_json, debug=debug))

    def make_spec(path: str):
        spec = _spec_for(interpretation, path, output=output, overwrite=overwrite or None)
        sentence = _describe_quietly(spec)
        if sentence:
            say(sentence)
        return spec

    check = run_guarded(lambda: _check_single_output(interpretation, output, len(found.files)), debug=debug)
    if check:
        sys.exit(check)
    batch = BatchSettings(jobs=jobs, skip_existing=skip_existing, many=found.many, skipped=found.skipped,
                          problems=found.problems)
    sys.exit(run_jobs([lambda path=path: make_spec(path) for path in found.files],
                      dry_run=dry_run, as_json=as_json, quiet=quiet, debug=debug, batch=batch))


def _sayer(*, as_json: bool, quiet: bool):
    def say(line: str) -> None:
        if quiet:
            return
        click.echo(line, err=as_json)  # stdout stays pure JSON with --json

    return say


def _no_files() -> None:
    raise UsageError("no FILE given", hint='e.g. vax do "just the audio as mp3" talk.mp4')


def _spec_for(interpretation, path: str, **overrides):
    """The job spec for one file. A file that cannot be probed gets its spec without the
    probe-dependent parts ("the last N minutes", the exact-copy container): the job then probes
    it again and fails with the usual one-line error, without stopping the other files."""
    from extractor.jobspec import JobSpec
    from extractor.mediainfo import probe

    info = None
    if interpretation.from_end is not None or interpretation.lossless:
        try:
            info = probe(path)
        except VaxError:
            options = {**interpretation.options, **{k: v for k, v in overrides.items() if v is not None}}
            return JobSpec.build(path, **options)
    return interpretation.spec_for(path, info=info, **overrides)


def _describe_quietly(spec) -> str | None:
    """The per-file sentence, or None when planning fails: the job then reports that failure itself."""
    from extractor.api import plan
    from extractor.words.interpret import describe

    try:
        return describe(spec, plan(spec))
    except VaxError:
        return None


def _check_single_output(interpretation, output: str | None, count: int) -> None:
    target = output or interpretation.options.get("output")
    if count < 2 or not target or "{" in target or target.endswith(("/", "\\")) or Path(target).is_dir():
        return
    several = "every track of " if interpretation.options.get("all_tracks") else ""
    raise UsageError(f"one output name ({target!r}) for {several}{count} files",
                     hint="name a folder ending in / or a template like 'out/{stem}.{ext}'")


def _probe_each(paths: list[str], *, as_json: bool, debug: bool) -> int:
    from extractor.mediainfo import probe

    codes = []
    for path in paths:
        def body(path=path):
            info = probe(path)
            click.echo(json.dumps(info.to_dict()) if as_json else format_probe(info))

        codes.append(run_guarded(body, debug=debug))
    failures = [c for c in codes if c]
    return failures[0] if failures else 0


def _credits(ctx: click.Context, *, as_json: bool, debug: bool, dry_run: bool) -> int:
    if dry_run:
        click.echo("dry run: would ask the cloud service for the credit balance", err=as_json)
        return 0
    try:
        from extractor.cli.remote import credits
    except ImportError:
        credits = None
    if credits is None:
        def body():
            raise RemoteError("this build has no cloud backend, so there is no credit balance to show")

        return run_guarded(body, debug=debug)
    try:
        ctx.invoke(credits, remote_url=None, as_json=as_json, debug=debug)
    except SystemExit as exc:  # the credits command exits with its own code
        return int(exc.code or 0)
    return 0
