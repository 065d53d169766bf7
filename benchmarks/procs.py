"""Run one process and measure it (through launch.py): wall time, CPU time, peak RSS, and
the bytes it read; evict a file from the page cache for cold-cache runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "launch.py"


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds, the process and the children it waited for
    maxrss_mb: float
    rchar: int | None  # bytes returned by read() calls (page cache or not)
    read_bytes: int | None  # bytes fetched from the storage layer
    returncode: int
    stderr: str
    stdout: str = ""
    tree_rss_mb: float | None = None  # peak summed RSS of the process tree, sampled (run(..., tree=True))
    tree_pss_mb: float | None = None  # peak summed PSS of the tree: shared pages counted once


def run(
    argv: list[str] | str,
    *,
    shell: bool = False,
    env: dict | None = None,
    stdin: str | None = None,
    cwd: str | None = None,
    tree: bool = False,
) -> Sample:
    command = ["--shell", argv] if shell else [str(a) for a in argv]
    if tree:
        command = ["--tree", *command]
    with (
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as out,
        tempfile.NamedTemporaryFile(suffix=".json") as result,
    ):
        proc = subprocess.Popen(
            [sys.executable, "-S", str(LAUNCHER), result.name, *command],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        )
        if stdin is not None:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        proc.wait()
        err.seek(0)
        text = err.read().decode(errors="replace")
        out.seek(0)
        printed = out.read(1 << 20).decode(errors="replace")  # a --json line or two; never a flood
        try:
            measured = json.loads(Path(result.name).read_text())
        except ValueError:
            return Sample(0.0, 0.0, 0.0, None, None, proc.returncode or 1, text)
    return Sample(
        wall=measured["wall"],
        cpu=measured["cpu"],
        maxrss_mb=measured["maxrss_kb"] / 1024,
        rchar=measured["rchar"],
        read_bytes=measured["read_bytes"],
        returncode=measured["returncode"],
        stderr=text,
        stdout=printed,
        tree_rss_mb=_mb(measured.get("tree_rss_peak_kb")),
        tree_pss_mb=_mb(measured.get("tree_pss_peak_kb")),
    )


def _mb(kb):
    return None if kb is None else kb / 1024


def checked(argv, **kw) -> Sample:
    sample = run(argv, **kw)
    if sample.returncode != 0:
        shown = argv if isinstance(argv, str) else " ".join(map(str, argv))
        raise RuntimeError(
            f"benchmark command failed ({sample.returncode}): {shown}\n{sample.stderr[-2000:]}"
        )
    return sample


def evict(path) -> None:
    """Drop one file's pages from the page cache (no root needed, and it spares everyone else's cache)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_fraction(path) -> float | None:
    """How much of a file is in the page cache (mincore through mmap), to confirm an eviction worked."""
    import ctypes
    import mmap

    size = os.path.getsize(path)
    if size == 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    page = mmap.PAGESIZE
    pages = (size + page - 1) // page
    with open(path, "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_COPY)  # private: ctypes needs writable
        try:
            buf = (ctypes.c_char * size).from_buffer(mapped)
            vec = (ctypes.c_ubyte * pages)()
            rc = libc.mincore(ctypes.c_void_p(ctypes.addressof(buf)), ctypes.c_size_t(size), vec)
            del buf
            if rc != 0:
                return None
            return sum(v & 1 for v in vec) / pages
        finally:
            mapped.close()
