"""Atomic outputs: write beside the destination under a temporary name, publish by hard link.

A user never sees a half-written file: the temporary file is removed on any error, on
Ctrl-C, SIGTERM and SIGHUP (the interfaces turn those into ``Interrupted`` so these
``finally`` blocks run). Without ``overwrite`` an existing file is never replaced, not even
one that appeared while we were working: publishing uses a hard link, which fails if the
name exists.

Signals: publishing and cleaning up are critical sections (``critical``). A signal handler
that lands inside one calls ``interrupt``, which keeps the stop for the end of the section
instead of raising in the middle of it, so a SIGTERM as the output is published, or a
second Ctrl-C during cleanup, never leaves a temporary file or half a publish.

A ``kill -9`` cannot be cleaned up at the time. Every temporary file is therefore created
by this module with an advisory lock (``flock``) held for as long as it is written; the
kernel drops the lock when its process dies, however it dies. The temporary name carries
the writer's process id. The next job writing into the same folder removes the files that
have vax's temporary name pattern, are not locked, and whose process is gone (or that are
older than a moment: a reused process id) (``sweep_stale_temps``): only vax's own, only
the dead ones.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from pathlib import Path

from extractor.errors import OutputError, OutputExists, UsageError
from extractor.naming import NAME_MAX, same_file

try:  # POSIX; elsewhere stale temporary files are left for the user (they are hidden files)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

TEMP_MARK = ".vax-part-"
# ".<stem>.vax-part-<pid>-<8 hex>.<ext>": the pipeline's temporary outputs and nothing else
# (the web page's own temporary files carry the mark without a process id).
_TEMP_NAME = re.compile(r"^\..*" + re.escape(TEMP_MARK) + r"([0-9]+)-[0-9a-f]{8}\.[A-Za-z0-9]{1,8}$", re.DOTALL)
# Seconds: an unlocked temporary file of a process still alive may be being created right now
# (between its creation and its lock); after this long it is not.
STALE_AFTER = 2.0

# Every temporary file still open, with its lock, so an emergency handler can remove them too.
_LIVE_TEMPS: dict[Path, int | None] = {}
_swept: set[str] = set()
_critical = 0
_deferred: BaseException | None = None


@contextlib.contextmanager
def critical():
    """Hold off a stop (``interrupt``) until the end of the block."""
    global _critical, _deferred
    _critical += 1
    try:
        yield
    finally:
        _critical -= 1
        if _critical == 0 and _deferred is not None:
            error, _deferred = _deferred, None
            raise error


def interrupt(error: BaseException, frame=None) -> None:
    """For signal handlers: raise ``error`` now, or once it is safe. Not inside a critical
    section (it waits for the end of it), and not while ``frame`` (the code the signal
    landed in) is inside the import system (the first job imports PyAV: an exception there
    leaves an import half done, which fails later in odd ways) or inside ``Thread.join`` (see
    ``_THREADING``). Then the stop is looked at again every 10 ms (SIGALRM) until it is over."""
    global _deferred
    if _critical:
        _deferred = _deferred or error
        return
    if _in_machinery(frame):
        _deferred = _deferred or error
        _retry_soon()
        return
    raise error


def take_deferred() -> BaseException | None:
    """The stop ``interrupt`` is holding back, taken: for a process about to fork, which must raise
    it itself first (a child would inherit it and raise it too)."""
    global _deferred
    error, _deferred = _deferred, None
    return error


_IMPORTS = "<frozen importlib"
# Thread.join interrupted between taking and releasing the thread's lock marks the thread
# stopped while it still runs (or leaves the lock taken, and the next join hangs): an engine
# then closed its file under its writer thread (SIGSEGV in libsndfile) about once in 200 stops.
# Likewise Condition.wait (under Event.wait: the sinks wait for their writer thread) stopped
# inside the helpers that give back and take again the condition's lock: the lock is left
# released, and the next release fails (RuntimeError, exit 70; once in 400 random-moment stops).
_THREADING = os.path.join(os.path.dirname(contextlib.__file__), "threading.py")
_JOIN = frozenset({"join", "_wait_for_tstate_lock", "_acquire_restore", "_release_save"})
# libsndfile calls back into Python (soundfile's virtual I/O: vio_read, vio_seek, vio_tell...):
# an exception raised there cannot travel through C, so cffi prints it as "Exception ignored"
# with a traceback and swallows it (seen about once in 60 random-moment SIGTERMs): the stop waits.
_SOUNDFILE = "soundfile.py"
_CALLBACK = "vio_"
RETRY_EVERY = 0.01  # seconds


def _in_machinery(frame) -> bool:
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_IMPORTS) or (code.co_filename == _THREADING and code.co_name in _JOIN):
            return True
        if code.co_name.startswith(_CALLBACK) and code.co_filename.endswith(_SOUNDFILE):
            return True
        frame = frame.f_back
    return False


def _retry_soon() -> None:
    import signal
    import threading

    if hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGALRM, _on_retry)
        signal.setitimer(signal.ITIMER_REAL, RETRY_EVERY)


def _on_retry(signum, frame) -> None:
    global _deferred
    if _deferred is None or _critical:
        return  # delivered meanwhile, or the critical section will deliver it
    if _in_machinery(frame):
        _retry_soon()
        return
    error, _deferred = _deferred, None
    raise error


def check_destination(output: Path, source: Path, overwrite: bool) -> None:
    """Refuse early, before any work, the outputs that can never be published."""
    if same_file(output, source):
        raise UsageError(f"the output {output} is the input itself", hint="choose another name with -o")
    if output.is_symlink() and not output.exists():
        raise OutputExists(f"{output} is a symbolic link to {os.readlink(output)}, which does not exist",
                           hint="remove the link, or use --overwrite to replace the link itself")
    if output.is_dir():
        raise OutputExists(f"{output} is a folder")
    if output.exists() and not stat.S_ISREG(output.stat().st_mode):
        raise UsageError(f"{output} is not a regular file (a device, pipe or socket)",
                         hint="give a file name")
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
    sweep_stale_temps(folder)


def temp_path_for(output: Path) -> Path:
    """A hidden name beside ``output``, never longer than a name may be (a long output name is cut)."""
    tail = f"{TEMP_MARK}{os.getpid()}-{os.urandom(4).hex()}{output.suffix}"
    room = NAME_MAX - 1 - len(tail.encode())
    stem = output.stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return output.with_name(f".{stem}{tail}")


def _create_locked(temp: Path) -> int | None:
    """Create ``temp`` (it must not exist) and lock it; the descriptor keeps the lock."""
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot write {temp.parent}: {exc.strerror or exc}") from None
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


@contextlib.contextmanager
def atomic_output(output: Path, *, overwrite: bool):
    """Yield a temporary path; on clean exit the caller calls ``publish``; otherwise it is removed."""
    temp = temp_path_for(output)
    with critical():
        _LIVE_TEMPS[temp] = _create_locked(temp)
    try:
        yield temp
    finally:
        with critical():
            _drop(temp)


def _drop(temp: Path) -> None:
    remove_quietly(temp)
    fd = _LIVE_TEMPS.pop(temp, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def publish(temp: Path, output: Path, *, overwrite: bool) -> None:
    with critical():
        _publish(temp, output, overwrite)


def _publish(temp: Path, output: Path, overwrite: bool) -> None:
    try:
        if overwrite:
            os.replace(temp, output)
            return
        try:
            os.link(temp, output)
        except FileExistsError:
            what = "a symbolic link that appeared" if output.is_symlink() else "a file that appeared"
            raise OutputExists(f"{output} is {what} while extracting; not replacing it",
                               hint="use --overwrite to replace it") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
                raise
            # A file system without hard links (FAT, some network mounts): check, then rename.
            if os.path.lexists(output):
                raise OutputExists(f"{output} already exists", hint="use --overwrite to replace it") from None
            os.replace(temp, output)
            return
        remove_quietly(temp)
    except OSError as exc:
        if isinstance(exc, OutputExists):
            raise
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None


def sweep_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files of vax runs that died in ``folder`` (see the module's note);
    once per folder per process. Returns what was removed."""
    key = os.path.realpath(folder)
    if fcntl is None or key in _swept:
        return []
    _swept.add(key)
    return _remove_dead_temps(folder, lambda path, pid: path not in _LIVE_TEMPS)


def remove_temps_of(pid: int, folder: Path) -> list[Path]:
    """Remove the temporary files in ``folder`` written by process ``pid``, which has died
    (a crashed job's supervisor calls this): those with its id in their name that no live
    process holds locked. Returns what was removed."""
    return _remove_dead_temps(folder, lambda path, owner: owner == pid)


def _remove_dead_temps(folder: Path, chosen) -> list[Path]:
    """Remove the vax temp files in ``folder`` that ``chosen(path, pid)`` picks and whose writer is
    gone (``_is_stale``); what was removed."""
    removed = []
    try:
        names = [n for n in os.listdir(folder) if TEMP_MARK in n]
    except OSError:
        return []
    for name in names:
        match = _TEMP_NAME.match(name)
        path = Path(folder) / name
        if match and chosen(path, int(match.group(1))) and _is_stale(path, int(match.group(1))):
            remove_quietly(path)
            removed.append(path)
    return removed


def _is_stale(path: Path, pid: int) -> bool:
    """Unlocked, and its process is gone (or it is too old to be in the middle of being made)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return False
        if _alive(pid) and time.time() - info.st_mtime < STALE_AFTER:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live process holds it
        return True
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        os.unlink(path)


def remove_live_temps() -> None:
    with critical():
        for temp in list(_LIVE_TEMPS):
            _drop(temp)

