"""Verification catches a damaged output, whichever backend wrote it, and nothing is left behind."""

from __future__ import annotations

import os

import pytest

from backends import LocalBackend
from backends.mock import MockBackend
from extractor import JobSpec
from extractor.api import run_spec
from extractor.errors import VerificationFailed
from extractor.guard import run_guarded
from fixtures.generate import Tone, make_media


def _truncating(fraction: float):
    """A backend that does the real work, then loses the end of the file."""
    local = LocalBackend()

    def handler(plan, destination):
        report = local.run(plan, destination)
        with open(destination, "r+b") as f:
            f.truncate(int(os.path.getsize(destination) * fraction))
        return report

    return handler


def _writes(tone: Tone | None, junk: bytes = b""):
    def handler(plan, destination):
        if tone is None:
            destination.write_bytes(junk)
        else:
            make_media(destination, duration=3.0, tones=[tone], video=None,
                       container=plan.format.muxer)

    return handler


CASES = [
    ("wav_audio", "wav", _truncating(0.6), "duration is"),
    ("mp4_aac", "auto", _writes(Tone(440.0, "alac")), "codec is alac, planned aac"),
    ("mp4_aac", "auto", _writes(Tone(440.0, "aac", sample_rate=44100)), "sample rate is 44100 Hz"),
    ("mp4_aac", "auto", _writes(Tone(440.0, "aac", layout="mono")), "1 channels, planned 2"),
    ("mp4_aac", "mp3", _writes(None, b"\x00" * 1000), "does not open"),
    ("flac_audio", "auto", _writes(None, b""), "decodes to no audio"),
]


@pytest.mark.parametrize("name,fmt,handler,message", CASES, ids=[c[3] for c in CASES])
def test_damaged_output_fails_verification_and_is_removed(media, tmp_path, name, fmt, handler, message):
    mock = MockBackend(handler)
    spec = JobSpec.build(str(media[name]), format=fmt, output=f"{tmp_path}/")
    with pytest.raises(VerificationFailed) as caught:
        run_spec(spec, backends={"local": mock})
    assert message in caught.value.one_line()
    assert caught.value.exit_code == 10
    assert len(mock.calls) == 1
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file


def test_verification_failure_is_exit_code_10_with_one_line(media, tmp_path):
    spec = JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/")
    lines = []
    code = run_guarded(lambda: run_spec(spec, backends={"local": MockBackend(_writes(Tone(440.0, "alac")))}),
                       debug=False, report=lambda exc: lines.append(exc.one_line()))
    assert code == 10
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "codec is alac" in lines[0]


def test_the_figures_of_a_good_output_go_into_the_result(media, tmp_path):
    spec = JobSpec.build(str(media["flac_audio"]), output=f"{tmp_path}/")
    (result,) = run_spec(spec, backends={"local": LocalBackend()})
    v = result.verification
    assert (v.codec, v.sample_rate, v.channels, v.samples) == ("flac", 48000, 2, 144000)
    assert v.duration == 3.0 and v.expected_duration == pytest.approx(3.0) and abs(v.difference) < 1e-6
    assert v.size == result.output.stat().st_size
    assert v.peak_dbfs is None  # a copy's peak is its source's: measuring it would cost a numpy import
    (result,) = run_spec(spec.replace(format="wav"), backends={"local": LocalBackend()})
    assert result.verification.peak_dbfs == pytest.approx(-6.02, abs=0.1)  # the fixtures' tones peak at 0.5
