"""`vax library scan|extract|status|report`: a catalogue of the media under some folders, and
extraction of all of it, once, resumably, on a local process pool or a Dask cluster.

The work is ``extractor.library``'s; this module only reads the options and prints.
"""

from __future__ import annotations

import sys

import click

from extractor.cli.app import _debug_of, run_guarded
from extractor.cli.jobs import extract_options, spec_from_options


def engine_options(func):
    options = [
        click.option("--engine", type=click.Choice(["dask", "local"]), default="dask", show_default=True,
                     help="dask: a Dask cluster (a local one unless --address); local: a process pool here."),
        click.option("--address", metavar="tcp://HOST:8786",
                     help="A running Dask scheduler (default: $DASK_SCHEDULER_ADDRESS, else a local cluster)."),
        click.option("--workers", type=click.IntRange(min=1), metavar="N",
                     help="Worker processes of a local cluster or pool (default: one per core)."),
        click.option("--path-map", "path_map", multiple=True, metavar="LOCAL=REMOTE",
                     help="Workers see files under LOCAL at REMOTE (repeatable)."),
        click.option("--catalog", required=True, type=click.Path(dir_okay=False), help="The catalogue (SQLite)."),
        click.option("--json", "as_json", is_flag=True, help="One JSON line per file and a summary on stdout."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
        click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def library() -> None:
    """A media library: catalogue the files under some folders, extract them all once, resume after anything.

    \b
    Examples:
      vax library scan /media/archive --catalog lib.db
      vax library extract --catalog lib.db -o /srv/audio
      vax library extract --catalog lib.db -o /srv/mp3 -f mp3 --bitrate 128k --address tcp://10.0.0.5:8786
      vax library status --catalog lib.db
      vax library report --catalog lib.db -o report.html
    """


def _with_engine(ctx, kw, body) -> None:
    from extractor.library.catalog import Catalog
    from extractor.library.engines import make_engine
    from extractor.library.paths import PathMap

    def run():
        path_map = PathMap(kw["path_map"])
        catalog = Catalog(kw["catalog"])
        try:
            engine = make_engine(kw["engine"], workers=kw["workers"], address=kw["address"])
            try:
                body(catalog, engine, path_map)
            finally:
                engine.close()
        finally:
            catalog.close()

    sys.exit(run_guarded(run, debug=_debug_of(ctx, kw["debug"])))


@library.command()
@click.argument("roots", nargs=-1, required=True, type=click.Path(file_okay=False))
@engine_options
@click.pass_context
def scan(ctx: click.Context, roots: tuple[str, ...], **kw) -> None:
    """Build or refresh the catalogue of the media under ROOTS (new and changed files are probed)."""
    from extractor.library.progress import RunProgress
    from extractor.library.scan import scan as do_scan

    def body(catalog, engine, path_map):
        progress = RunProgress("scan", 0, as_json=kw["as_json"], quiet=kw["quiet"])
        counts = do_scan(catalog, roots, engine, path_map=path_map, progress=progress)
        progress.summary(**counts.to_dict())
        if not kw["quiet"] and not kw["as_json"]:
            click.echo(f"{counts.found} files: {counts.unchanged} unchanged, {counts.probed} probed "
                       f"({_kinds(counts.kinds)}), {counts.not_media} not media, {counts.vanished} vanished",
                       err=True)

    _with_engine(ctx, kw, body)


def _kinds(kinds: dict) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"


def _dest_and_spec(kw: dict):
    """-o is the destination folder; the other options make the job spec every file shares."""
    from extractor.errors import UsageError

    dest = kw["output"]
    if not dest or "{" in dest:
        raise UsageError("give the destination folder with -o DEST", hint="outputs mirror the source tree")
    return dest, spec_from_options("library", {**kw, "output": None})


@library.command(name="extract", context_settings={"ignore_unknown_options": False})
@extract_options
@engine_options
@click.option("--retry-failed", is_flag=True, help="Also run the files that failed before.")
@click.pass_context
def extract_command(ctx: click.Context, retry_failed: bool, **kw) -> None:
    """Extract every catalogued file not yet done for these options into -o DEST, mirroring the tree.

    Takes the options of `vax extract`. A re-run does only what is missing, failed (with
    --retry-failed) or stale (the source changed since its output was made). Ctrl-C stops
    cleanly: finished outputs stay and are recorded, unfinished ones are removed (exit 130).
    Exits 0 when nothing failed, 1 otherwise.
    """
    from extractor.errors import VaxError
    from extractor.library.progress import RunProgress
    from extractor.library.run import extract_library

    def body(catalog, engine, path_map):
        dest, spec = _dest_and_spec(kw)
        progress = RunProgress("extract", 0, as_json=kw["as_json"], quiet=kw["quiet"])
        counts = extract_library(catalog, spec, dest, engine, retry_failed=retry_failed, path_map=path_map,
                                 progress=progress)
        progress.summary(counts=counts)
        if counts.get("failed"):
            raise VaxError(f"{counts['failed']} of {sum(counts.values())} files failed",
                           hint="`vax library status` lists them; --retry-failed runs them again")

    _with_engine(ctx, kw, body)


@library.command()
@click.argument("roots", nargs=-1, required=True, type=click.Path(file_okay=False))
@extract_options
@engine_options
@click.option("--settle", type=click.FloatRange(min=0.1), default=2.0, show_default=True, metavar="SECONDS",
              help="How long a new file must stop growing before it is taken.")
@click.pass_context
def watch(ctx: click.Context, roots: tuple[str, ...], settle: float, **kw) -> None:
    """Scan ROOTS and extract into -o DEST now, then again whenever files appear or change.

    Takes the options of `library extract`. A file is taken once its size has stopped
    changing for --settle seconds. Ctrl-C stops it (exit 130), as for `library extract`.
    """
    from extractor.library.progress import RunProgress
    from extractor.library.run import extract_library
    from extractor.library.scan import scan as do_scan
    from extractor.library.watch import watch as do_watch

    def body(catalog, engine, path_map):
        dest, spec = _dest_and_spec(kw)

        def run_once():
            do_scan(catalog, roots, engine, path_map=path_map)
            progress = RunProgress("extract", 0, as_json=kw["as_json"], quiet=kw["quiet"])
            counts = extract_library(catalog, spec, dest, engine, path_map=path_map, progress=progress)
            if counts:
                progress.summary(counts=counts)

        do_watch(roots, run_once, settle=settle, ignore=dest)

    _with_engine(ctx, kw, body)


@library.command()
@click.option("--catalog", required=True, type=click.Path(dir_okay=False), help="The catalogue (SQLite).")
@click.option("--json", "as_json", is_flag=True, help="The figures as JSON.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def status(ctx: click.Context, catalog: str, as_json: bool, debug: bool) -> None:
    """Counts by status, container and codec, hours of audio, failures with their reasons."""
    import json

    from extractor.library.report import as_text

    def body():
        figures = _figures(catalog)
        click.echo(json.dumps(figures, indent=2) if as_json else as_text(figures))

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


@library.command()
@click.option("--catalog", required=True, type=click.Path(dir_okay=False), help="The catalogue (SQLite).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (.html or .md); default stdout.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's extension, else md.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def report(ctx: click.Context, catalog: str, output: str | None, fmt: str | None, debug: bool) -> None:
    """The status as a small Markdown or HTML report."""
    from extractor.library.report import as_html, as_markdown

    def body():
        figures = _figures(catalog)
        kind = fmt or ("html" if output and output.lower().endswith((".html", ".htm")) else "md")
        text = as_html(figures) if kind == "html" else as_markdown(figures)
        if output:
            from pathlib import Path

            from extractor.publish import atomic_output, publish

            with atomic_output(Path(output), overwrite=True) as temp:
                temp.write_text(text, encoding="utf-8")
                publish(temp, Path(output), overwrite=True)
        else:
            click.echo(text, nl=False)

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def _figures(catalog: str) -> dict:
    """The status figures of an existing catalogue (status and report show the same)."""
    from extractor.library.catalog import Catalog
    from extractor.library.report import status as figures_of

    opened = Catalog(catalog, create=False)
    try:
        return figures_of(opened)
    finally:
        opened.close()
