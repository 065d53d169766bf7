"""One error boundary: Ctrl-C is never swallowed by an ordinary error handler, and a bug is
reported as a bug (exit 70), never as damaged input (exit 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.errors import DamagedInput, InternalError, Interrupted, VaxError, as_vax_error, outcome_of
from extractor.guard import run_guarded
from extractor.publish import TEMP_MARK
from fixtures.badinputs import long_wav

VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]


def test_interrupted_is_not_a_vax_error():
    assert not issubclass(Interrupted, VaxError)
    assert issubclass(Interrupted, KeyboardInterrupt)
    with pytest.raises(Interrupted):
        try:
            raise Interrupted()
        except VaxError:  # what every ordinary handler catches
            pytest.fail("an ordinary VaxError handler swallowed Ctrl-C")


def test_one_table_for_every_exception():
    assert as_vax_error(KeyboardInterrupt()).exit_code == 130
    assert isinstance(as_vax_error(ValueError("bug")), InternalError)
    assert outcome_of(DamagedInput("x: cut off"))["exit_code"] == 11
    assert outcome_of(ValueError("bug"))["exit_code"] == 70


def test_ctrl_c_during_vax_do_stops_the_job(tmp_path):
    src = long_wav(tmp_path, 240.0, "talk.wav")
    out = tmp_path / "out"
    out.mkdir()
    with open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen(VAX + ["do", "as mp3 please", str(src), "-o", f"{out}/"], stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not any(TEMP_MARK in name for name in os.listdir(out)):
            assert proc.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "the job never started writing"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = (tmp_path / "err.txt").read_text()
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert os.listdir(out) == []  # no output, no temporary file


def test_a_value_error_from_a_bug_is_an_internal_error_not_damage(tmp_path, monkeypatch):
    """ValueError once meant 'damaged frame' inside the engine; a real ValueError bug there
    must surface as exit 70 with nothing written, not as exit 11 or a dropped packet."""
    from backends.local import source
    from extractor.api import extract

    src = long_wav(tmp_path, 2.0, "clip.wav")

    def broken_check(self, frames):
        raise ValueError("a bug in frame checking")

    monkeypatch.setattr(source.FrameGuard, "check", broken_check)
    errors: list = []
    code = run_guarded(lambda: extract(src, format="flac", output=str(tmp_path / "out.flac")),
                       report=errors.append)
    assert code == 70
    assert isinstance(errors[0], InternalError) and "ValueError: a bug in frame checking" in errors[0].one_line()
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["clip.wav"]
