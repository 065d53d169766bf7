"""Rules for output paths that hold on Linux, macOS and Windows alike.

Two names that differ only in case (or in Unicode normalisation: macOS stores NFD) are one
file on the default file systems of macOS and Windows, and on the exFAT/FAT sticks and SMB
shares Linux mounts too. So vax treats them as one everywhere: a job that would write both
is refused before anything is written, instead of the second silently replacing the first.

Windows refuses a path of 260 characters or more (MAX_PATH) unless long paths are enabled
in the registry; there the output (and its longer temporary name beside it) is checked
before any work, so the job fails at once with a one-line reason instead of at publish time.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

from .errors import OutputError

WINDOWS_MAX_PATH = 260  # characters, counting the final NUL: 259 usable
TEMP_EXTRA = 20  # publish.temp_path_for adds "." and ".vax-part-" plus 8 hex digits


def same_name_key(path) -> str:
    """One key for every spelling a case-insensitive, normalising file system takes as one name."""
    return unicodedata.normalize("NFC", os.path.abspath(str(path))).casefold()


def windows_long_paths_enabled() -> bool:
    """The machine-wide switch (Windows 10 1607+) that lifts MAX_PATH for programs that opt in,
    as Python does; False when it cannot be read."""
    try:
        import winreg
    except ImportError:  # not Windows
        return True
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            return winreg.QueryValueEx(key, "LongPathsEnabled")[0] == 1
    except OSError:
        return False


def check_path_length(output: Path, *, windows: bool | None = None, long_paths: bool | None = None) -> None:
    """Refuse, on Windows without long paths, an output whose temporary file could not be made.
    ``windows`` and ``long_paths`` are for tests (forcing the Windows rule on Linux)."""
    windows = sys.platform == "win32" if windows is None else windows
    if not windows:
        return
    length = len(os.path.abspath(str(output))) + TEMP_EXTRA
    if length < WINDOWS_MAX_PATH:
        return
    if windows_long_paths_enabled() if long_paths is None else long_paths:
        return
    raise OutputError(f"the output path {output} is too long for Windows ({length - TEMP_EXTRA} characters, "
                      f"with the temporary name {length}; the limit is {WINDOWS_MAX_PATH - 1})",
                      hint="choose a shorter folder or name, or enable Windows long paths (LongPathsEnabled)")
