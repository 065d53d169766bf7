"""Which input an output was made from: a record attached to the output file itself.

A batch resumes by looking at what is already there; a name alone cannot say whose output
a file is (every camera names its clips CLIP0001.MP4 in folder after folder). So each
output a batch publishes carries an extended attribute, ``user.vax.source``: the real path
of its input and the id of the run that wrote it. It travels with the file (rename, hard
link), never shows in a folder listing, and is never mistaken for an input. Where the file
system has no extended attributes (FAT, exFAT, some network mounts) there is no record and
resuming falls back to verifying the existing output, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

ATTRIBUTE = "user.vax.source"


def new_run_id() -> str:
    return f"{os.getpid()}-{secrets.token_hex(6)}"


def write(output: Path, input_path: str, run_id: str | None) -> bool:
    data = json.dumps({"input": os.path.realpath(input_path), "run": run_id}).encode()
    with contextlib.suppress(OSError, AttributeError):
        os.setxattr(output, ATTRIBUTE, data, follow_symlinks=False)
        return True
    return False


def read(output: Path) -> dict | None:
    try:
        data = json.loads(os.getxattr(output, ATTRIBUTE, follow_symlinks=False))
    except (OSError, AttributeError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("input"), str) else None


def made_from_another(output: Path, input_path: str) -> dict | None:
    """The record of ``output`` when it names an input other than ``input_path``."""
    found = read(output)
    if found is None or found["input"] == os.path.realpath(input_path):
        return None
    return found
