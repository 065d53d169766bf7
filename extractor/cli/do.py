"""`vax do "REQUEST" FILE...`: say what you want in words; vax shows what it understood, then runs it.

The request is read offline by ``extractor.words.interpret`` (rules, no model). Before
anything runs, vax prints ``Understood: <sentence>`` and, per file, the job it will do.

Refusals (exit 2, nothing touched) come from ``Interpretation.refusal``: unknown words stop
the run, and ``--yes`` runs what was understood only when that does not choose a part of the
file or a track (a missed "not" would invert exactly those); what vax does not do is named as
such; a request for the cloud needs --allow-cloud (or the standing permission), whatever the
words say. A dry run never writes.

A request may start with a dash ("-16 LUFS"): such an argument is taken as the request, not as
an option; after ``--`` the next argument is the request and the rest is read as usual, so
``vax do -- "-16 LUFS" talk.mp4 --dry-run`` is a dry run.

Each file is probed once: the probe made for the request (the last N minutes, track
constraints, lossless) is the one that plans and runs the job (``run_spec(spec, info=...)``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import click

from extractor.batch.expand import BatchSettings, expand_inputs
from extractor.cli.app import _debug_of, format_probe, run_guarded
from extractor.cli.jobs import _json_error_reporter, run_jobs
from extractor.cli.options import batch_options, output_options
from extractor.errors import RemoteError, UsageError, VaxError

_REQUEST_KEY = "vax_do_request"


class _DoCommand(click.Command):
    """Takes the request out before click reads options, so words starting with '-' stay words."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        if "--" in args:
            at = args.index("--")
            if at + 1 < len(args):
                ctx.meta[_REQUEST_KEY] = args[at + 1]
                args = args[:at] + args[at + 2:]
        else:
            for at, arg in enumerate(args):
                if _is_request_word(arg):
                    ctx.meta[_REQUEST_KEY] = args.pop(at)
                    break
        return super().parse_args(ctx, args)


def _is_request_word(arg: str) -> bool:
    """'-16 LUFS' or '-14': a dash before a number or words is a request, never an option."""
    return arg.startswith("-") and not arg.startswith("--") and (bool(re.match(r"-\d", arg)) or " " in arg)


@click.command("do", cls=_DoCommand)
@click.argument("words", nargs=-1, metavar="REQUEST FILE...", type=click.Path(path_type=str))
@click.option("-o", "--output", help="Output file, folder (ending in /) or template; wins over the request's.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("-y", "--yes", is_flag=True,
              help="Run what was understood even if some words were not (never when it chooses a range or track).")
@click.option("--allow-cloud", is_flag=True,
              help="Allow uploading to the NemoVideo cloud when the request asks for it (or VAX_ALLOW_CLOUD=1).")
@output_options(dry_run_help="Show what was understood, the plan and the job spec; write nothing.",
                json_help="JSON on stdout (one line per job); the sentences go to stderr.")
@batch_options
@click.pass_context
def do(ctx: click.Context, words: tuple[str, ...], output: str | None, overwrite: bool, yes: bool,
       allow_cloud: bool, dry_run: bool, as_json: bool, quiet: bool, debug: bool, recursive: bool,
       jobs: int | None, skip_existing: bool) -> None:
    """Do what REQUEST says with each FILE, e.g.

    \b
      vax do "the Spanish track as mp3 320k from 1:00 to 2:30" film.mkv
      vax do "just the audio, lossless" talk.mp4
      vax do "cut off the last 2 minutes, normalize, call it talk.m4a" talk.mp4
      vax do "-16 LUFS" talk.mp4
      vax do "los primeros 30 segundos en mp3" clip.mp4
      vax do "提取音频 mp3" clip.mp4

    Parts it cannot place are named and nothing runs (exit 2) unless --yes.
    """
    debug = _debug_of(ctx, debug)
    request, files = _request_and_files(ctx, words)
    say = _sayer(as_json=as_json, quiet=quiet)
    holder: dict = {}

    def understand():
        from extractor.words.interpret import interpret

        if request is None:
            raise UsageError("no REQUEST given", hint='e.g. vax do "just the audio as mp3" talk.mp4')
        cloud = allow_cloud or _standing_permission()
        interpretation = _interpret(interpret, request, cloud, say, holder)
        holder["interpretation"] = interpretation
        _explain(interpretation, say)
        refusal = interpretation.refusal(yes=yes)
        if refusal:
            stuck = interpretation.needs_cloud or (yes and not interpretation.yes_safe)
            hint = None if stuck else "rephrase it, or add --yes to run only what was understood"
            raise UsageError(refusal, hint=hint)

    code = run_guarded(understand, debug=debug, report=_json_error_reporter({}) if as_json else None)
    if code:
        sys.exit(code)
    interpretation = holder["interpretation"]
    files = (*files, *holder.get("files", ()))
    if interpretation.intent == "credits":
        sys.exit(_credits(ctx, as_json=as_json, debug=debug, dry_run=dry_run))
    if not files:
        sys.exit(run_guarded(_no_files, debug=debug))
    exclude = output if output and "{" not in output and output.endswith(("/", "\\")) else None
    found = expand_inputs(files, recursive=recursive, exclude=exclude)
    if interpretation.intent == "probe":
        sys.exit(_probe_each(found.files, as_json=as_json, debug=debug))
    check = run_guarded(lambda: _check_single_output(interpretation, output, len(found.files)), debug=debug)
    if check:
        sys.exit(check)
    batch = BatchSettings(jobs=jobs, skip_existing=skip_existing, many=found.many, skipped=found.skipped,
                          problems=found.problems)
    overrides = {"output": output, "overwrite": overwrite or None, "allow_cloud": allow_cloud or None}
    sys.exit(_run(interpretation, found.files, overrides, say=say, batch=batch, dry_run=dry_run,
                  as_json=as_json, quiet=quiet, debug=debug))


def _run(interpretation, files: list[str], overrides: dict, *, say, batch: BatchSettings, dry_run: bool,
         as_json: bool, quiet: bool, debug: bool) -> int:
    """One job per file through ``run_jobs``; the probe made here is the one the job runs with."""
    in_workers = not dry_run and batch.applies(len(files))
    probes: dict[str, object] = {}

    def make_spec(path: str):
        spec, info = _spec_and_probe(interpretation, path, keep_open=not (dry_run or in_workers), **overrides)
        if info is not None and not in_workers:
            probes[spec.input] = info
        sentence = _describe_quietly(spec, info)
        if sentence:
            say(sentence)
        return spec

    return run_jobs([lambda path=path: make_spec(path) for path in files], dry_run=dry_run, as_json=as_json,
                    quiet=quiet, debug=debug, batch=batch, info_of=lambda spec: probes.pop(spec.input, None))


def _standing_permission() -> bool:
    try:
        from extractor.cli.remote import standing_cloud_permission
    except ImportError:  # a build without the cloud client
        return False
    return standing_cloud_permission()


def _interpret(interpret, request: str, cloud: bool, say, holder: dict):
    """The request read, with the files it names taken out as inputs ("convert talk.mp4 to mp3")."""
    interpretation = interpret(request, cloud_allowed=cloud)
    named, rest = _files_named_in(request, interpretation.unknown)
    if not named:
        return interpretation
    say("Input: " + ", ".join(named))
    holder["files"] = named
    return interpret(rest, cloud_allowed=cloud)


def _files_named_in(request: str, unknown) -> tuple[list[str], str]:
    """Words the request could not place that name existing files, and the request without them.
    Only words the interpreter left over: an output name it read ("call it take.m4a") never counts."""
    named, rest = [], request
    for piece in unknown:
        for word in piece.split():
            path = word.strip("\"'`,;:()[]")
            if path and os.path.isfile(path) and path not in named:
                named.append(path)
                rest = rest.replace(word, " ", 1)
    return named, rest


def _request_and_files(ctx: click.Context, words: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    if _REQUEST_KEY in ctx.meta:
        return ctx.meta[_REQUEST_KEY], words
    return (words[0], words[1:]) if words else (None, ())


def _explain(interpretation, say) -> None:
    for written, read in interpretation.corrections:
        say(f"Read {written!r} as {read!r}")
    say(f"Understood: {interpretation.understood}")
    if interpretation.out_of_scope:
        click.echo("Not something vax does: " + ", ".join(repr(p) for p in interpretation.out_of_scope), err=True)
    unknown = [p for p in interpretation.unknown if p not in interpretation.out_of_scope]
    if unknown:
        line = "Did not understand: " + ", ".join(repr(p) for p in unknown)
        if interpretation.suggestions:
            line += " (did you mean " + ", ".join(f"{b!r} for {a!r}" for a, b in interpretation.suggestions) + "?)"
        click.echo(line, err=True)


def _sayer(*, as_json: bool, quiet: bool):
    def say(line: str) -> None:
        if quiet:
            return
        click.echo(line, err=as_json)  # stdout stays pure JSON with --json

    return say


def _no_files() -> None:
    raise UsageError("no FILE given", hint='e.g. vax do "just the audio as mp3" talk.mp4')


def _spec_and_probe(interpretation, path: str, *, keep_open: bool, **overrides):
    """The job spec for one file and the one probe of it (None when it cannot be probed: the job
    then fails with the usual one-line error, without stopping the other files)."""
    from extractor.jobspec import JobSpec
    from extractor.mediainfo import probe, release_kept_open

    try:
        info = probe(path, keep_open=keep_open)
    except VaxError:
        options = {**interpretation.options, **{k: v for k, v in overrides.items() if v is not None}}
        options.pop("preset", None)
        return JobSpec.build(path, **options), None
    try:
        return interpretation.spec_for(path, info=info, **overrides), info
    except BaseException:
        release_kept_open(info)
        raise


def _describe_quietly(spec, info) -> str | None:
    """The per-file sentence, or None when planning fails: the job then reports that failure itself."""
    from extractor.api import plan
    from extractor.words.interpret import describe

    if info is None:
        return None
    try:
        return describe(spec, plan(spec, info))
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
