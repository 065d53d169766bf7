"""Atomic outputs: write beside the destination under a temporary name, publish by rename.

A user never sees a half-written file: the temporary file is removed on any error, on
Ctrl-C and on SIGTERM (the CLI turns SIGTERM into an exception so these ``finally``
blocks run). Without ``overwrite`` an existing file is never replaced, not even one that
appeared while we were working: publishing uses a hard link, which fails if the name exists.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from extractor.errors import OutputError, OutputExists, UsageError
from extractor.naming import same_file

TEMP_MARK = ".vax-part-"

# Every temporary file still open, so an emergency handler can remove them too.
_LIVE_TEMPS: set[Path] = set()


def check_destination(output: Path, source: Path, overwrite: bool) -> None:
    """Refuse early, before any work, the outputs that can never be published."""
    if same_file(output, source):
        raise UsageError(f"the output {output} is the input itself", hint="choose another name with -o")
    if output.is_dir():
        raise OutputExists(f"{output} is a folder")
    if output.exists() and not overwrite:
        raise OutputExists(f"{output} already exists", hint="use --overwrite to replace it")
    folder = output.parent
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"the output folder {folder} is not writable")


def temp_path_for(output: Path) -> Path:
    return output.with_name(f".{output.stem}{TEMP_MARK}{secrets.token_hex(4)}{output.suffix}")


@contextlib.contextmanager
def atomic_output(output: Path, *, overwrite: bool):
    """Yield a temporary path; on clean exit the caller calls ``publish``; otherwise it is removed."""
    temp = temp_path_for(output)
    _LIVE_TEMPS.add(temp)
    try:
        yield temp
    finally:
        remove_quietly(temp)
        _LIVE_TEMPS.discard(temp)


def publish(temp: Path, output: Path, *, overwrite: bool) -> None:
    try:
        if overwrite:
            os.replace(temp, output)
            return
        try:
            os.link(temp, output)
        except FileExistsError:
            raise OutputExists(f"{output} appeared while extracting; not replacing it",
                               hint="use --overwrite to replace it") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
                raise
            # A file system without hard links (FAT, some network mounts): check, then rename.
            if output.exists():
                raise OutputExists(f"{output} already exists", hint="use --overwrite to replace it") from None
            os.replace(temp, output)
            return
        remove_quietly(temp)
    except OSError as exc:
        if isinstance(exc, OutputExists):
            raise
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        os.unlink(path)


def remove_live_temps() -> None:
    for temp in list(_LIVE_TEMPS):
        remove_quietly(temp)
        _LIVE_TEMPS.discard(temp)
