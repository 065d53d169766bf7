"""Atomic outputs: nothing partial is ever left behind; existing files are never replaced silently."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backends.mock import MockBackend
from extractor import JobSpec, extract
from extractor.api import run_spec
from extractor.errors import DamagedInput, OutputExists, UsageError
from extractor.publish import TEMP_MARK
from fixtures.generate import TONES, Tone, decode_track, dominant_freq, make_media

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _leftovers(folder):
    return [p.name for p in folder.rglob("*") if TEMP_MARK in p.name]


def test_a_backend_that_fails_half_way_leaves_nothing(media, tmp_path):
    def handler(plan, destination):
        destination.write_bytes(b"half a file")
        raise DamagedInput("simulated failure in the middle")

    with pytest.raises(DamagedInput):
        run_spec(JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/"),
                 backends={"local": MockBackend(handler)})
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_job_leaves_nothing(media, tmp_path):
    def handler(plan, destination):
        destination.write_bytes(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_spec(JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/"),
                 backends={"local": MockBackend(handler)})
    assert list(tmp_path.iterdir()) == []


def test_the_backend_writes_to_a_temporary_name_beside_the_output(media, tmp_path):
    seen = []

    def handler(plan, destination):
        seen.append(destination)
        shutil.copy(media["m4a_audio"], destination)

    (result,) = run_spec(JobSpec.build(str(media["m4a_audio"]), output=f"{tmp_path}/"),
                         backends={"local": MockBackend(handler)})
    assert seen[0].parent == tmp_path and TEMP_MARK in seen[0].name
    assert not seen[0].exists()
    assert result.output.is_file()
    assert _leftovers(tmp_path) == []


def test_existing_output_is_not_replaced_without_overwrite(media, tmp_path, run_vax):
    target = tmp_path / "mp4_aac.m4a"
    target.write_bytes(b"precious")
    code, out, err = run_vax("extract", media["mp4_aac"], "-o", f"{tmp_path}/")
    assert (code, out) == (8, "")
    assert err.strip().splitlines() == [f"vax: error: {target} already exists (use --overwrite to replace it)"]
    assert target.read_bytes() == b"precious"
    assert _leftovers(tmp_path) == []

    code, _, err = run_vax("extract", media["mp4_aac"], "-o", f"{tmp_path}/", "--overwrite")
    assert code == 0, err
    assert dominant_freq(*decode_track(target)) == pytest.approx(TONES["mp4_aac"], abs=2)
    assert _leftovers(tmp_path) == []


def test_a_multi_track_job_checks_every_destination_before_writing(media, tmp_path):
    (tmp_path / "mkv_multi.2-spa.ac3").write_bytes(b"mine")
    with pytest.raises(OutputExists):
        extract(media["mkv_multi"], all_tracks=True, output=f"{tmp_path}/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mkv_multi.2-spa.ac3"]


def test_output_equal_to_input_is_refused(media, tmp_path):
    source = tmp_path / "song.flac"
    shutil.copy(media["flac_audio"], source)
    before = source.read_bytes()
    with pytest.raises(UsageError, match="is the input itself"):
        extract(source, output=str(source), overwrite=True)
    assert source.read_bytes() == before


def test_missing_output_folders_are_created(media, tmp_path):
    (result,) = extract(media["mp4_aac"], output=str(tmp_path / "new" / "deeper" / "talk.m4a"))
    assert result.output == tmp_path / "new" / "deeper" / "talk.m4a"
    assert result.output.is_file()


def test_sigterm_during_a_long_job_exits_130_and_leaves_nothing(tmp_path):
    # A minute of audio into the slow MP3 encoder: long enough to be stopped half way.
    source = make_media(tmp_path / "long.wav", duration=60.0, tones=[Tone(500.0, "pcm_s16le")], video=None)
    out_dir = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from extractor.cli import main; main()",
         "extract", str(source), "-f", "mp3", "-o", f"{out_dir}/"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (out_dir.is_dir() and _leftovers(out_dir)) and proc.poll() is None:
            assert time.monotonic() < deadline, "the job never started writing"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "SIGTERM" in err
    assert list(out_dir.iterdir()) == []
