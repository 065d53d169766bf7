"""Reading the input from a pipe (``vax extract - -o out.m4a``) and writing the output to one
(``-o -``), as ffmpeg users expect.

Both go through a private temporary folder, on purpose. vax reads an input more than once
(the probe, the engine, and the verification that compares the output with it) and verifies
an output before anyone sees it; a pipe can be read once and what went down a pipe cannot be
taken back. So standard input is copied to a temporary file as it arrives (in 1 MiB pieces:
memory stays flat, disk use is the input's size), and an output for standard output is
written, verified and only then copied out. A side effect: every format works through a
pipe, including an MP4 whose index comes last (a streaming reader of it would need to seek).
The folder is removed whatever happens, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

from extractor.errors import NotMedia, OutputError, UsageError

PIECE = 1 << 20
STDIN_NAME = "stdin"  # the input's stem: `-o out/` gives out/stdin.<ext>


@contextlib.contextmanager
def private_folder():
    folder = tempfile.mkdtemp(prefix="vax-pipe-")
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def spool_stdin(folder: Path) -> str:
    """Standard input, copied into ``folder``; its path."""
    source = sys.stdin.buffer if sys.stdin is not None else None
    if source is None or sys.stdin.isatty():
        raise UsageError("'-' reads the input from a pipe, and standard input is a terminal",
                         hint="e.g. cat video.mkv | vax extract - -o out.m4a")
    path = folder / STDIN_NAME
    try:
        with open(path, "wb") as spool:
            while piece := source.read1(PIECE):  # what has arrived, not a full piece
                spool.write(piece)
    except OSError as exc:
        raise OutputError(f"cannot keep standard input in a temporary file: {exc.strerror or exc}",
                          hint="set TMPDIR to a folder with more room") from None
    if path.stat().st_size == 0:
        raise NotMedia("standard input: nothing arrived (0 bytes)")
    return str(path)


def only_output(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if len(files) != 1:
        raise UsageError(f"-o - writes one file to standard output, and this job made {len(files)}",
                         hint="choose one track (--track or --lang)")
    return files[0]


def copy_to_stdout(path: Path) -> None:
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        raise OutputError("standard output cannot take bytes here")
    try:
        with open(path, "rb") as source:
            shutil.copyfileobj(source, out, PIECE)
        out.flush()
    except OSError as exc:
        raise OutputError(f"cannot write to standard output ({exc.strerror or exc})") from None


def check_piped(inputs: tuple[str, ...], kw: dict, as_json: bool) -> None:
    """What a run that reads or writes a pipe may combine."""
    output = kw.get("output")
    if "-" in inputs and len(inputs) > 1:
        raise UsageError("'-' (standard input) must be the only input")
    if "-" in inputs and not output:
        raise UsageError("reading from a pipe needs an output: -o FILE, -o FOLDER/ or -o - (standard output)")
    if output == "-":
        if len(inputs) > 1:
            raise UsageError("-o - writes one file to standard output; give one input")
        if as_json:
            raise UsageError("-o - and --json both want standard output", hint="drop --json")


def run_piped(inputs: tuple[str, ...], kw: dict, *, dry_run: bool, as_json: bool, quiet: bool, debug: bool) -> int:
    """One job whose input is standard input, or whose output is standard output."""
    from .app import run_guarded
    from .jobs import run_jobs, spec_from_options

    code = run_guarded(lambda: check_piped(inputs, kw, as_json), debug=debug)
    if code:
        return code
    with private_folder() as folder:
        to_stdout = kw.get("output") == "-"
        options = {**kw, "output": f"{folder / 'out'}/"} if to_stdout else kw
        holder: dict = {}

        def spool() -> None:
            holder["input"] = spool_stdin(folder) if inputs == ("-",) else inputs[0]

        code = run_guarded(spool, debug=debug)
        if code:
            return code
        code = run_jobs([lambda: spec_from_options(holder["input"], options)], dry_run=dry_run,
                        as_json=as_json, quiet=quiet or to_stdout, debug=debug,
                        labels={holder["input"]: "-"} if inputs == ("-",) else None)
        if code or not to_stdout or dry_run:
            return code
        return run_guarded(lambda: copy_to_stdout(only_output(folder / "out")), debug=debug)
