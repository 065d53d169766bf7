"""Crashes in native code during a single job (issue 21): real crashes in real processes.

Each run is `vax` started through ``python -c`` with an engine's sink patched to crash on its
third write (the temporary output exists by then): ``ctypes.string_at(0)`` is a real SIGSEGV,
``os.abort()`` a real SIGABRT, a second lock of a pthread mutex a real hang inside a C call
that no signal handler can break. Nothing in vax knows about these patches. Before it crashes,
the patch writes down the temporary files it sees, so each test proves there was one to clean.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.errors import EngineCrashed, Interrupted, JobTimedOut
from extractor.publish import TEMP_MARK
from fixtures.badinputs import long_wav
from fixtures.generate import decode_track

CRASHING_VAX = r"""
import ctypes, os, sys
mode, record = sys.argv.pop(1), sys.argv.pop(1)
from backends.local import sinks

def crash(folder):
    with open(record, "w") as seen:
        seen.write("\n".join(n for n in os.listdir(folder) if ".vax-part-" in n))
    if mode == "segv":
        ctypes.string_at(0)
    elif mode == "abort":
        os.abort()
    elif mode == "kill":
        os.kill(os.getpid(), 9)
    elif mode == "hang":
        libc = ctypes.CDLL(None)
        mutex = ctypes.create_string_buffer(64)  # zeroed: an unlocked, default pthread mutex
        libc.pthread_mutex_lock(mutex)
        libc.pthread_mutex_lock(mutex)  # deadlocks in the kernel's futex wait

for cls in (sinks.EncoderSink, sinks.SoundfileSink):
    def write(self, *args, _original=cls.write, **kwargs):
        self._calls = getattr(self, "_calls", 0) + 1
        if self._calls == 3:
            crash(os.environ["CRASH_FOLDER"])
        return _original(self, *args, **kwargs)
    cls.write = write

from extractor.cli import main
main()
"""
VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return long_wav(tmp_path_factory.mktemp("crash-inputs"), 20.0, "clip.wav")


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_MARK in p.name)


def _crash(mode: str, tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    env = {**os.environ, "CRASH_FOLDER": str(out)}
    return subprocess.run(check=False, args=[sys.executable, "-c", CRASHING_VAX, mode, str(tmp_path / "seen.txt"), *args],
                          capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
                          start_new_session=True)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr
    return lines[0]


@pytest.mark.parametrize(("mode", "cause"), [("segv", "segmentation fault in native code"),
                                             ("abort", "abort in native code"),
                                             ("kill", "killed (SIGKILL")])
def test_a_crash_is_one_line_and_leaves_nothing(clip, tmp_path, mode, cause):
    out = tmp_path / "out"
    done = _crash(mode, tmp_path, "extract", str(clip), "-f", "flac", "-o", f"{out}/")
    assert done.returncode == EngineCrashed.exit_code, done.stderr
    line = _one_line(done.stderr)
    assert line.startswith("vax: error:") and cause in line and "clip.wav" in line and "nothing was written" in line
    seen = (tmp_path / "seen.txt").read_text().split()
    assert len(seen) == 1 and seen[0].startswith(".clip.vax-part-")  # there was one to remove...
    assert list(out.iterdir()) == []  # ...and it is gone, and nothing else was written
    assert done.stdout == ""


def test_an_existing_destination_survives_a_crash_and_a_re_run_works(clip, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "clip.flac"
    target.write_bytes(b"the user's own file")
    done = _crash("segv", tmp_path, "extract", str(clip), "-o", str(target), "--overwrite")
    assert done.returncode == EngineCrashed.exit_code, done.stderr
    assert target.read_bytes() == b"the user's own file" and _temps(out) == []
    again = subprocess.run(check=False, args=[*VAX, "extract", str(clip), "-o", str(target), "--overwrite"], capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    samples, rate = decode_track(target)
    assert abs(samples.shape[1] / rate - 20.0) < 0.01
    assert _temps(out) == []


def test_a_crash_under_json_prints_the_error_object(clip, tmp_path):
    out = tmp_path / "out"
    done = _crash("abort", tmp_path, "extract", str(clip), "-f", "flac", "-o", f"{out}/", "--json")
    assert done.returncode == EngineCrashed.exit_code
    (printed,) = done.stdout.splitlines()
    outcome = json.loads(printed)
    assert outcome["status"] == "error" and outcome["exit_code"] == EngineCrashed.exit_code
    assert outcome["input"] == str(clip) and outcome["error"] == EngineCrashed.label
    assert "abort in native code" in _one_line(done.stderr)
    assert list(out.iterdir()) == []


def test_debug_shows_where_it_crashed(clip, tmp_path):
    done = _crash("segv", tmp_path, "--debug", "extract", str(clip), "-f", "flac", "-o", f"{tmp_path / 'out'}/")
    assert done.returncode == EngineCrashed.exit_code
    assert "Fatal Python error: Segmentation fault" in done.stderr and "in write" in done.stderr
    assert "died by SIGSEGV" in done.stderr and "1 temporary file(s) removed" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("vax: error: the engine crashed on")


def test_vax_do_is_contained_too(clip, tmp_path):
    out = tmp_path / "out"
    done = _crash("segv", tmp_path, "do", "as flac", str(clip), "-o", f"{out}/")
    assert done.returncode == EngineCrashed.exit_code, done.stderr
    assert "segmentation fault" in _one_line(done.stderr)
    assert list(out.iterdir()) == []


def test_a_timeout_stops_a_job_stuck_inside_a_c_call(clip, tmp_path):
    """The job's own alarm cannot run while the C call holds the thread; vax kills the job."""
    out = tmp_path / "out"
    started = time.monotonic()
    done = _crash("hang", tmp_path, "extract", str(clip), "-f", "flac", "-o", f"{out}/", "--timeout", "2")
    elapsed = time.monotonic() - started
    assert done.returncode == JobTimedOut.exit_code, done.stderr
    line = _one_line(done.stderr)
    assert "stopped after 2s (--timeout); the unfinished output was removed" in line
    assert (tmp_path / "seen.txt").read_text().startswith(".clip.vax-part-")
    assert list(out.iterdir()) == []
    assert elapsed < 30  # bounded: without the supervisor it would never end


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_stops_sent_to_vax_reach_the_job_and_leave_nothing(tmp_path, signum):
    wav = long_wav(tmp_path, 90.0, "long.wav")
    out = tmp_path / "out"
    with open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen([*VAX, "extract", str(wav), "-f", "mp3", "-o", f"{out}/"], stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (out.exists() and _temps(out)):
            assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "err.txt").read_text()
            time.sleep(0.01)
        writer = int(_temps(out)[0].split(TEMP_MARK)[1].split("-")[0])
        assert writer != proc.pid  # the job runs in a child of vax...
        proc.send_signal(signum)  # ...and the stop is sent to vax alone
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert code == Interrupted.exit_code
    line = _one_line((tmp_path / "err.txt").read_text())
    assert line.startswith("vax: error:") and ("interrupted" if signum == signal.SIGINT else signal.Signals(signum).name) in line
    assert list(out.iterdir()) == []
    deadline = time.monotonic() + 10
    while _exists(writer):  # the job's process is gone too (once the system has reaped it)
        assert time.monotonic() < deadline, "the job's process outlived vax"
        time.sleep(0.01)


def _exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def test_ordinary_outcomes_are_unchanged(clip, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(check=False, args=[*VAX, "extract", str(clip), "-f", "flac", "-o", f"{out}/", "--json"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    (printed,) = done.stdout.splitlines()
    assert json.loads(printed)["status"] == "ok"
    again = subprocess.run(check=False, args=[*VAX, "extract", str(clip), "-f", "flac", "-o", f"{out}/", "--json"], capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 8 and json.loads(again.stdout)["exit_code"] == 8
    assert _one_line(again.stderr).endswith("already exists (use --overwrite to replace it)")
    piped = subprocess.run(check=False, args=[*VAX, "extract", str(clip), "-f", "flac", "-o", "-"], capture_output=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout == (out / "clip.flac").read_bytes()
