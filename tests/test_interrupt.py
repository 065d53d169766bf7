"""Ctrl-C and SIGTERM during a real extraction: a real `vax` process, a real signal.

We wait until the long job has started writing (its temporary file appears), then signal.
Expected: exit 130 with one error line and no traceback, finished outputs stay (and still
decode), nothing of the unfinished ones is left (no output, no temporary file), jobs not yet
started never start, and no process of the run (batch workers included) outlives it.

Each run gets its own process group, so the test can see, and clean up, every process the
run started; stdout/stderr go to files, not pipes, so a straggler holding them open cannot
hang the test.
"""

from __future__ import annotations

import os
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
# Long enough that the MP3 encode is still running when the signal lands (about 3 s here).
LONG_SECONDS = 120.0
START_TIMEOUT = 30.0  # the process must begin writing within this
STOP_TIMEOUT = 5.0  # generous for a loaded CI machine; measured: 20-40 ms from signal to exit


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("interrupt-inputs")
    return {
        "short": long_wav(folder, 1.0, "short.wav"),
        "long": long_wav(folder, LONG_SECONDS, "long.wav"),
        "long2": long_wav(folder, LONG_SECONDS, "long2.wav"),
        "after": long_wav(folder, 1.0, "after.wav"),
    }


def _temps(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if TEMP_MARK in name] if folder.exists() else []


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Run:
    """`vax ARGS` in its own process group, output to files."""

    def __init__(self, args: list[str], folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.stdout_path, self.stderr_path = folder / "stdout.txt", folder / "stderr.txt"
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(VAX + args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.pgid = self.proc.pid

    def wait_for_temp(self, folder: Path, stem: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if any(name.startswith(f".{stem}{TEMP_MARK}") for name in _temps(folder)):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"vax exited ({self.proc.returncode}) before {stem} started writing")
            time.sleep(0.01)
        pytest.fail(f"{stem} never started writing")

    def stop(self, signum: int) -> None:
        self.proc.send_signal(signum)
        self.proc.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(self.pgid), "processes of the run (batch workers?) outlived it"

    def cleanup(self) -> None:
        if self.proc.poll() is None or _group_alive(self.pgid):
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()


def _assert_one_interrupted_line(run: Run) -> None:
    assert run.proc.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("vax: error:") and "unfinished outputs were removed" in lines[0]


SIGNALS = pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])


@SIGNALS
def test_signal_mid_batch_stops_cleanly(inputs, tmp_path, signum):
    """One job at a time: the first is done, the second is in progress, the third waits."""
    out = tmp_path / "out"
    run = Run(["extract", str(inputs["short"]), str(inputs["long"]), str(inputs["after"]),
               "-f", "mp3", "-o", f"{out}/", "--jobs", "1"], tmp_path / "logs")
    try:
        run.wait_for_temp(out, "long")
        assert (out / "short.mp3").exists(), "the first job should be finished and published by now"
        run.stop(signum)
    finally:
        run.cleanup()
    _assert_one_interrupted_line(run)
    samples, rate = decode_track(out / "short.mp3")
    assert abs(samples.shape[1] / rate - 1.0) < 0.05
    assert sorted(os.listdir(out)) == ["short.mp3"]  # no long.mp3, no after.mp3, no temporary file


@SIGNALS
def test_signal_to_parallel_batch_stops_every_worker(inputs, tmp_path, signum):
    out = tmp_path / "out"
    run = Run(["extract", str(inputs["long"]), str(inputs["long2"]), "-f", "mp3", "-o", f"{out}/",
               "--jobs", "2"], tmp_path / "logs")
    try:
        run.wait_for_temp(out, "long")
        run.stop(signum)
    finally:
        run.cleanup()
    _assert_one_interrupted_line(run)
    assert os.listdir(out) == []


def test_signal_to_single_job_leaves_nothing(inputs, tmp_path):
    out = tmp_path / "single"
    run = Run(["extract", str(inputs["long"]), "-f", "mp3", "-o", f"{out}/"], tmp_path / "logs")
    try:
        run.wait_for_temp(out, "long")
        run.stop(signal.SIGINT)
    finally:
        run.cleanup()
    _assert_one_interrupted_line(run)
    assert os.listdir(out) == []
