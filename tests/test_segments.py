"""One long file on every core: a WAV decoded in parallel segments is the serial WAV, byte for byte.

The threshold is forced low and the cores forced free, so a short input takes the parallel
path and the test stays fast.
"""

from __future__ import annotations

import os
import time

import pytest

from backends import LocalBackend
from backends.local import segments
from extractor import JobSpec
from extractor.api import run_spec
from fixtures.generate import Tone, make_media


@pytest.fixture(scope="module")
def long_mp4(tmp_path_factory):
    # Compared byte for byte with the serial decode: a misplaced, doubled or missing sample shows.
    path = tmp_path_factory.mktemp("seg") / "talk.mp4"
    return make_media(path, duration=7.3, tones=[Tone(330.0, "aac")], video=None)


def _serial(source, folder):
    (result,) = run_spec(JobSpec.build(str(source), format="wav", output=f"{folder}/"),
                         backends={"local": LocalBackend()})
    return result


def test_the_segmented_wav_is_the_serial_wav(long_mp4, tmp_path, monkeypatch):
    serial = _serial(long_mp4, tmp_path / "serial")
    calls = []
    monkeypatch.setattr(segments, "MIN_SECONDS", 1.0)
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)
    real = segments.run
    monkeypatch.setattr(segments, "run", lambda plan, dest, progress: calls.append(plan) or real(plan, dest, progress))
    (joined,) = run_spec(JobSpec.build(str(long_mp4), format="wav", output=f"{tmp_path}/joined/"),
                         backends={"local": LocalBackend()})
    assert len(calls) == 1 and any("segments" in note for note in joined.notes)
    assert joined.verification.samples == serial.verification.samples
    assert joined.output.read_bytes() == serial.output.read_bytes()
    assert joined.verification.method == "evidence"  # the CRC composed from the workers' matched the file


def test_no_free_core_or_a_short_input_stays_serial(long_mp4, tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "MIN_SECONDS", 1.0)
    monkeypatch.setattr(segments, "cores_free", lambda: 0.5)
    (result,) = run_spec(JobSpec.build(str(long_mp4), format="wav", output=f"{tmp_path}/"),
                         backends={"local": LocalBackend()})
    assert not any("segments" in note for note in result.notes)
    monkeypatch.setattr(segments, "cores_free", lambda: 2.0)
    monkeypatch.setattr(segments, "MIN_SECONDS", 300.0)
    (result,) = run_spec(JobSpec.build(str(long_mp4), format="wav", output=f"{tmp_path}/again/"),
                         backends={"local": LocalBackend()})
    assert not any("segments" in note for note in result.notes)


def test_a_worker_ends_quietly_when_the_pool_stops_it(monkeypatch):
    # Workers are forks of the CLI, whose SIGTERM handler raises its "stopped" error: a worker the
    # pool terminates would print that error's traceback. A worker takes the default action
    # instead, and leaves Ctrl-C to the parent.
    import signal

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGTERM, lambda *_: None)
        segments._start_worker(None)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        monkeypatch.setattr(segments, "_DONE", None)


def test_free_cores_are_measured_now_not_over_the_last_minute():
    """Right after another job the one-minute load average still reads a core busy; the idle
    time over a tenth of a second does not, and it sees a core that is busy now."""
    import subprocess
    import sys

    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat here: the load average is used")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        loaded = segments.cores_free()
    finally:
        busy.kill()
        busy.wait()
    idle = segments.cores_free()
    assert idle - loaded > 0.3  # about one core's worth less while the loop spins
