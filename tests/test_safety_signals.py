"""Signals at random moments, to real `vax` processes (issue 21): during start-up, around the
moment an output is published, twice in a row, SIGHUP (the terminal closed) to the whole
process group, kill -9 and the run after it, a batch worker killed, a stdout nobody reads.

Whatever the moment, the invariants: exit 0 (it finished first) or 130 with one vax error
line; never a traceback or click's "Aborted!"; no temporary file left; an output is either
absent or complete (it decodes to the input's length). Each run gets its own session (so
SIGINT is not inherited as ignored) and writes its stdout and stderr to files.

A moment is drawn at random after the process has installed its handlers (its SigCgt mask
in /proc shows SIGHUP caught): before that instant Python itself is starting and vax has no
say. ``MOMENTS`` per signal keeps each test to a few seconds; the figures are in the report.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.publish import TEMP_MARK
from fixtures.badinputs import long_wav
from fixtures.generate import decode_track

VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]
# Random moments per signal and test; VAX_SIGNAL_MOMENTS=50 for a longer soak.
MOMENTS = int(os.environ.get("VAX_SIGNAL_MOMENTS", "3"))
STOP_TIMEOUT = 10.0
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
IDS = ["SIGINT", "SIGTERM", "SIGHUP"]
_rng = random.Random(int.from_bytes(os.urandom(4), "big"))


@pytest.fixture(scope="module")
def wavs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("signal-inputs")
    made = {"short": long_wav(folder, 1.0, "short.wav"), "mid": long_wav(folder, 20.0, "mid.wav"),
            "long": long_wav(folder, 90.0, "long.wav")}
    for i in range(5):
        made[f"batch{i}"] = long_wav(folder, 15.0, f"b{i}.wav")
    return made


class Run:
    def __init__(self, args, logs: Path, stdout=None):
        logs.mkdir(parents=True, exist_ok=True)
        self.err_path = logs / "stderr.txt"
        out = stdout if stdout is not None else open(logs / "stdout.txt", "w")  # noqa: SIM115
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([*VAX, *map(str, args)], stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        if stdout is None:
            out.close()
        self.out_path = logs / "stdout.txt"

    def wait_for_handlers(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            if _catches_sighup(self.proc.pid):
                return
            time.sleep(0.001)

    def wait_for_temp(self, folder: Path, besides: str | None = None) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            names = [name for name in _temps(folder) if name != besides]
            if names:
                return names[0]
            assert self.proc.poll() is None, f"vax ended ({self.proc.returncode}) before writing"
            time.sleep(0.005)
        pytest.fail("vax never started writing")

    def finish(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            deadline = time.monotonic() + STOP_TIMEOUT
            while _group_alive(self.proc.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not _group_alive(self.proc.pid), "a process of the run outlived it"

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    @property
    def stdout(self) -> str:
        return self.out_path.read_text() if self.out_path.exists() else ""


def _catches_sighup(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
    except OSError:
        pass
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if TEMP_MARK in p.name) if folder.exists() else []


def _assert_clean_end(run: Run, code: int, out: Path, seconds: float, moment: str) -> None:
    err = run.stderr
    # What is on disk first: it is what matters most, and it tells the most about a failure.
    assert _temps(out) == [], f"{moment}: temporary files left (exit {code})"
    for path in (p for p in out.rglob("*") if p.is_file()) if out.exists() else ():
        samples, rate = decode_track(path)
        assert abs(samples.shape[1] / rate - seconds) < 0.06, f"{moment}: {path.name} is not complete"
    assert "Traceback" not in err and "Aborted" not in err, f"{moment}: {err}"
    assert code in (0, 130), f"{moment}: exit {code}\n{err}"
    if code == 130:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("vax: error:"), f"{moment}: {err}"


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=IDS)
def test_signals_during_start_up(wavs, tmp_path, signum):
    for attempt in range(MOMENTS):
        delay = _rng.uniform(0.0, 0.3)
        out = tmp_path / f"out{attempt}"
        run = Run(["extract", wavs["short"], "-f", "flac", "-o", f"{out}/"], tmp_path / f"logs{attempt}")
        run.wait_for_handlers()
        time.sleep(delay)
        run.proc.send_signal(signum)
        _assert_clean_end(run, run.finish(), out, 1.0, f"{signal.Signals(signum).name} at +{delay:.3f}s")


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=IDS)
def test_signals_around_the_publish(wavs, tmp_path, signum):
    """A 20-second WAV to FLAC takes a fraction of a second: the moments land before, during
    and after the engine, the verification and the publish."""
    for attempt in range(MOMENTS):
        delay = _rng.uniform(0.05, 0.7)
        out = tmp_path / f"out{attempt}"
        run = Run(["extract", wavs["mid"], "-f", "flac", "-o", f"{out}/"], tmp_path / f"logs{attempt}")
        run.wait_for_handlers()
        time.sleep(delay)
        run.proc.send_signal(signum)
        _assert_clean_end(run, run.finish(), out, 20.0, f"{signal.Signals(signum).name} at +{delay:.3f}s")


def test_a_second_ctrl_c_during_cleanup_leaves_nothing(wavs, tmp_path):
    for attempt in range(MOMENTS):
        gap = _rng.uniform(0.0, 0.03)
        out = tmp_path / f"out{attempt}"
        run = Run(["extract", wavs["long"], "-f", "mp3", "-o", f"{out}/"], tmp_path / f"logs{attempt}")
        run.wait_for_temp(out)
        run.proc.send_signal(signal.SIGINT)
        time.sleep(gap)
        run.proc.send_signal(signal.SIGINT)
        code = run.finish()
        _assert_clean_end(run, code, out, 90.0, f"second SIGINT after {gap * 1000:.1f} ms")
        assert code == 130 and list(out.iterdir()) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sighup_to_the_process_group_stops_single_jobs_and_batches(wavs, tmp_path, jobs):
    """Closing the terminal sends SIGHUP to the whole foreground group: parent and workers."""
    out = tmp_path / "out"
    inputs = [wavs["long"]] if jobs == "1" else [wavs["long"], wavs["batch0"], wavs["batch1"]]
    run = Run(["extract", *inputs, "-f", "mp3", "-o", f"{out}/", "--jobs", jobs], tmp_path / "logs")
    run.wait_for_temp(out)
    os.killpg(run.proc.pid, signal.SIGHUP)
    code = run.finish()
    # A batch may hear first from a worker that stopped: then the line does not name the signal.
    assert code == 130 and ("SIGHUP" in run.stderr or jobs != "1"), run.stderr
    _assert_clean_end(run, code, out, 15.0, "SIGHUP")
    assert not (out / "long.mp3").exists()


def test_a_run_after_kill_9_succeeds_and_removes_the_leftover(wavs, tmp_path):
    out = tmp_path / "out"
    args = ["extract", wavs["mid"], "-f", "mp3", "-o", f"{out}/"]
    run = Run(args, tmp_path / "killed")
    leftover = run.wait_for_temp(out)
    os.killpg(run.proc.pid, signal.SIGKILL)
    run.finish()
    assert _temps(out) == [leftover]  # a kill -9 cannot be cleaned up at the time
    # The next vax writing into that folder removes it before it starts...
    busy = Run(["extract", wavs["long"], "-f", "mp3", "-o", f"{out}/"], tmp_path / "busy")
    busy_temp = busy.wait_for_temp(out, besides=leftover)
    assert leftover not in _temps(out)
    # ...and a re-run of the killed job succeeds, leaving the live one's file alone.
    again = Run(args, tmp_path / "again")
    assert again.finish(60) == 0, again.stderr
    assert _temps(out) == [busy_temp]
    busy.proc.send_signal(signal.SIGTERM)
    assert busy.finish() == 130
    samples, rate = decode_track(out / "mid.mp3")
    assert abs(samples.shape[1] / rate - 20.0) < 0.06
    assert _temps(out) == [] and sorted(p.name for p in out.iterdir()) == ["mid.mp3"]


def test_one_dead_worker_fails_only_its_own_file_and_is_retried(wavs, tmp_path):
    out = tmp_path / "out"
    inputs = [wavs[f"batch{i}"] for i in range(5)]
    run = Run(["extract", *inputs, "-f", "mp3", "-o", f"{out}/", "--jobs", "2"], tmp_path / "logs")
    temp = run.wait_for_temp(out)
    victim = int(temp.split(TEMP_MARK)[1].split("-")[0])  # the writer's pid is in the name
    assert victim != run.proc.pid
    os.kill(victim, signal.SIGKILL)
    code = run.finish(120)
    assert code == 0, run.stderr
    assert "retried in a new worker process" in run.stdout and "SIGKILL" in run.stdout
    assert "summary: 5 ok, 0 skipped, 0 failed" in run.stdout
    assert sorted(p.name for p in out.iterdir()) == [f"b{i}.mp3" for i in range(5)]
    _assert_clean_end(run, code, out, 15.0, "worker killed")


@pytest.mark.parametrize(("signum", "many"), [(signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["single-SIGTERM", "batch-SIGINT"])
def test_a_blocked_stdout_never_blocks_the_stop(wavs, tmp_path, signum, many):
    """stdout is a pipe nobody reads, already full: vax blocks writing its first result line."""
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    try:
        while True:
            os.write(writer, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(writer, True)
    out = tmp_path / "out"
    inputs = [wavs["short"], wavs["batch0"]] if many else [wavs["short"]]
    try:
        run = Run(["extract", *inputs, "-o", f"{out}/", "--json"], tmp_path / "logs", stdout=writer)
        os.close(writer)
        deadline = time.monotonic() + 30
        while not (out / "short.wav").exists() and not (out / "short.extracted.wav").exists():
            assert time.monotonic() < deadline and run.proc.poll() is None, run.stderr
            time.sleep(0.01)
        time.sleep(0.3)  # now blocked on the full pipe
        assert run.proc.poll() is None
        started = time.monotonic()
        run.proc.send_signal(signum)
        code = run.finish(5)
        assert time.monotonic() - started < 3
    finally:
        os.close(reader)
    assert code == 130 and "Traceback" not in run.stderr, run.stderr
    assert _temps(out) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_while_reading_a_pipe_removes_the_spooled_copy(wavs, tmp_path, signum):
    spool = tmp_path / "tmp"
    spool.mkdir()
    env = {**os.environ, "TMPDIR": str(spool)}
    with open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen([*VAX, "extract", "-", "-o", str(tmp_path / "out.m4a")], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)
    try:
        proc.stdin.write(wavs["mid"].read_bytes()[:200_000])  # part of it; the writer stays open
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while sum(p.stat().st_size for p in spool.glob("vax-pipe-*/stdin")) < 100_000:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        proc.send_signal(signum)
        code = proc.wait(timeout=STOP_TIMEOUT)
    finally:
        proc.stdin.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = (tmp_path / "err.txt").read_text()
    assert code == 130 and "Traceback" not in stderr, stderr
    assert list(spool.iterdir()) == [] and not (tmp_path / "out.m4a").exists()
