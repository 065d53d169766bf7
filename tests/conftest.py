"""Shared fixtures: the standard media set (made once per session) and a `vax` subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.generate import make_standard_set

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Exactly what the `vax` console script runs. (`python -m extractor.cli` would load cli.py twice,
# once as __main__, which breaks modules that register themselves on the imported `extractor.cli`.)
VAX_MAIN = "from extractor.cli import main; main()"


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """name -> Path of every file of ``fixtures.generate.STANDARD``, generated once per session.

    Treat these files as read-only: write outputs elsewhere (``tmp_path``), or copy a file first.
    """
    return make_standard_set(tmp_path_factory.mktemp("standard-media"))


def _run_vax(*args, cwd: str | os.PathLike | None = None, env: dict | None = None,
             timeout: float = 60) -> tuple[int, str, str]:
    """Run the CLI as a user would, in its own process: (exit code, stdout, stderr)."""
    full_env = dict(os.environ)
    # The checkout must be importable whatever the working directory is.
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), full_env.get("PYTHONPATH")]))
    full_env.pop("COLUMNS", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", VAX_MAIN, *[str(a) for a in args]],
        cwd=cwd, env=full_env, capture_output=True, text=True, check=False, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="session")
def run_vax():
    """``run_vax(*args, cwd=None, env=None)`` -> (code, stdout, stderr) of the `vax` command."""
    return _run_vax
