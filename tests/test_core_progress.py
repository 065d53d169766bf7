"""The progress bar: drawn on a terminal for jobs that take a while; never otherwise."""

from __future__ import annotations

import io
import sys

import pytest

from extractor.cli import progress
from extractor.cli.jobs import run_jobs
from extractor.jobspec import JobSpec
from fixtures.generate import Tone, make_media


class FakeTTY(io.StringIO):
    def __init__(self, tty: bool = True):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class FakeClock:
    """time.monotonic that moves ``step`` seconds at every reading."""

    def __init__(self, step: float):
        self.now = 1000.0
        self.step = step

    def monotonic(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(step=0.3)
    monkeypatch.setattr(progress, "time", fake)
    return fake


def test_draws_for_a_long_job_on_a_terminal(clock):
    stream = FakeTTY()
    bar = progress.ProgressBar(stream=stream)
    assert bar.enabled
    for i in range(11):
        bar.update("talk.m4a", i / 10)
    text = stream.getvalue()
    assert "\r[" in text and "talk.m4a" in text
    assert "100.0%" in text
    assert "#" * 10 in text
    bar.clear()
    assert stream.getvalue().endswith("\r")


def test_nothing_in_the_first_second(clock):
    clock.step = 0.05  # the whole job takes half a second
    stream = FakeTTY()
    bar = progress.ProgressBar(stream=stream)
    for i in range(11):
        bar.update("quick.m4a", i / 10)
    bar.clear()
    assert stream.getvalue() == ""


def test_nothing_when_not_a_terminal(clock):
    stream = FakeTTY(tty=False)
    bar = progress.ProgressBar(stream=stream)
    assert not bar.enabled
    for i in range(11):
        bar.update("piped.m4a", i / 10)
    assert stream.getvalue() == ""


def test_fractions_are_clamped(clock):
    stream = FakeTTY()
    bar = progress.ProgressBar(stream=stream)
    for fraction in (-0.5, 0.0, 0.0, 0.0, 0.0, -0.2):
        bar.update("x", fraction)
    assert stream.getvalue().endswith("]   0.0% x") and "#" not in stream.getvalue()
    bar.update("x", 1.7)
    last = stream.getvalue().rsplit("\r", 1)[-1]
    assert last.startswith("[#") and "-" not in last.split("]")[0]


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    """Long enough for the engine to report progress many times (every 64 packets)."""
    return make_media(tmp_path_factory.mktemp("long") / "long.wav", duration=20.0,
                      tones=[Tone(440.0, "pcm_s16le")], video=None)


@pytest.mark.parametrize("quiet,as_json,drawn", [(False, False, True), (True, False, False), (False, True, False)])
def test_cli_jobs_draw_only_without_quiet_or_json(long_wav, tmp_path, monkeypatch, clock, capsys,
                                                  quiet, as_json, drawn):
    clock.step = 0.6  # the engine reports every 64 packets: a handful of readings for this file
    terminal = FakeTTY()
    monkeypatch.setattr(sys, "stderr", terminal)
    spec = JobSpec.build(str(long_wav), format="flac", output=f"{tmp_path}/")
    assert run_jobs([lambda: spec], dry_run=False, as_json=as_json, quiet=quiet, debug=False) == 0
    assert ("100.0%" in terminal.getvalue()) is drawn
    if drawn:  # the bar moves through the job, and is wiped before the result is printed
        assert terminal.getvalue().count("\r[") >= 2
        assert terminal.getvalue().endswith("\r")
    assert (tmp_path / "long.flac").is_file()
