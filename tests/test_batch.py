"""Batch extraction: many files, folders and patterns, parallel workers, resume, summary, stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.batch.expand import BatchSettings, expand_inputs
from extractor.publish import TEMP_MARK
from fixtures.generate import Tone, decode_track, dominant_freq, make_media

VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]


@pytest.fixture()
def folder(tmp_path, media) -> Path:
    """Three videos (440, 550, 880 Hz), one without audio, and two files that are not media."""
    root = tmp_path / "in"
    root.mkdir()
    for name in ("mp4_aac", "mov_aac", "mkv_multi", "mp4_noaudio"):
        shutil.copy(media[name], root / media[name].name)
    (root / "notes.txt").write_text("not a video")
    (root / "mystery.dat").write_bytes(b"\x00garbage" * 100)
    return root


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- expanding the inputs ------------------------------------------------------------------

def test_folder_expansion_notes_subfolders_and_earlier_outputs(tmp_path):
    for name in ("b.mp4", "a.mp4", "a.m4a", "song.mp3", "song.extracted.mp3", ".hidden.mp4",
                 f".a{TEMP_MARK}1234.m4a", "sub/c.mkv", "sub/deeper/d.webm"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    flat = expand_inputs([str(tmp_path)])
    assert [Path(f).name for f in flat.files] == ["a.mp4", "b.mp4", "song.mp3"]
    reasons = {Path(p).name: r for p, r in flat.skipped}
    assert "earlier output from a.mp4" in reasons["a.m4a"]
    assert "earlier output from song.mp3" in reasons["song.extracted.mp3"]
    assert "--recursive" in reasons["sub"]
    assert flat.many

    deep = expand_inputs([str(tmp_path)], recursive=True)
    assert [Path(f).name for f in deep.files] == ["a.mp4", "b.mp4", "song.mp3", "c.mkv", "d.webm"]
    without_out = expand_inputs([str(tmp_path)], recursive=True, exclude=str(tmp_path / "sub"))
    assert [Path(f).name for f in without_out.files] == ["a.mp4", "b.mp4", "song.mp3"]


def test_patterns_are_expanded_for_shells_that_did_not(tmp_path):
    for name in ("x1.mp4", "x2.mp4", "y.mov"):
        (tmp_path / name).write_bytes(b"x")
    found = expand_inputs([str(tmp_path / "x*.mp4"), str(tmp_path / "x1.mp4"), str(tmp_path / "nothing*.avi")])
    assert [Path(f).name for f in found.files] == ["x1.mp4", "x2.mp4"]  # each file once
    ((what, error),) = found.problems
    assert "nothing*.avi" in what and error.exit_code == 3


def test_a_single_named_file_is_not_a_batch(tmp_path):
    found = expand_inputs([str(tmp_path / "missing.mp4")])
    assert found.files == [str(tmp_path / "missing.mp4")] and not found.many
    settings = BatchSettings(many=found.many)
    assert not settings.applies(1) and settings.applies(2)
    assert BatchSettings(skip_existing=True).applies(1)
    assert BatchSettings(jobs=8).workers(3) == 3 and BatchSettings(jobs=1).workers(3) == 1


# -- running a batch -------------------------------------------------------------------------

def test_folder_batch_reports_each_file_and_one_failure_stops_nothing(folder, tmp_path, run_vax):
    out = tmp_path / "out"
    code, stdout, stderr = run_vax("extract", folder, "-f", "wav", "-o", f"{out}/", "--jobs", "2")
    assert code == 5, stderr  # the only failure: mp4_noaudio has no audio track (exit 5)
    assert "mp4_noaudio.mp4: has no audio track" in stderr
    for name, freq in (("mp4_aac", 440), ("mov_aac", 550), ("mkv_multi", 880)):
        samples, rate = decode_track(out / f"{name}.wav")
        assert dominant_freq(samples, rate) == pytest.approx(freq, abs=2)
        assert samples.shape[1] / rate == pytest.approx(3.0, abs=0.05)
    summary = stdout[stdout.index("summary:"):]
    assert summary.splitlines()[0] == "summary: 3 ok, 2 skipped, 1 failed"
    assert "notes.txt  (not a media file: .txt)" in summary
    assert "mystery.dat  (not a media file" in summary  # unknown extension: the probe decided
    assert len([line for line in stdout.splitlines() if line.startswith("[")]) == 5
    assert not [n for n in os.listdir(out) if TEMP_MARK in n]


def test_json_prints_one_line_per_job(folder, tmp_path, run_vax):
    code, stdout, _ = run_vax("extract", folder, "-f", "flac", "-o", f"{tmp_path}/o/", "--json")
    rows = _lines(stdout)
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    assert len(rows) == 6 and code == 5
    assert {Path(r["output"]).name for r in by_status["ok"]} == {"mp4_aac.flac", "mov_aac.flac", "mkv_multi.flac"}
    assert all(r["verification"]["codec"] == "flac" for r in by_status["ok"])
    assert {Path(r["input"]).name for r in by_status["skipped"]} == {"notes.txt", "mystery.dat"}
    (error,) = by_status["error"]
    assert error["exit_code"] == 5 and error["error"] == "no audio track"


def test_different_failure_codes_exit_1(tmp_path, media, run_vax):
    (tmp_path / "fake.mp4").write_text("not really a video")
    code, _, stderr = run_vax("extract", media["mp4_noaudio"], tmp_path / "fake.mp4", media["mp4_aac"],
                              "-o", f"{tmp_path}/out/")
    assert code == 1, stderr  # 5 (no audio) and 4 (not media, though named .mp4): no single code fits
    assert (tmp_path / "out" / "mp4_aac.m4a").exists()


def test_rerun_skips_verified_outputs_and_protects_others(folder, tmp_path, run_vax):
    out = tmp_path / "out"
    args = ["extract", folder / "mp4_aac.mp4", folder / "mov_aac.mov", "-f", "mp3", "-o", f"{out}/"]
    code, _, stderr = run_vax(*args)
    assert code == 0, stderr
    first = {name: (out / name).stat().st_mtime_ns for name in ("mp4_aac.mp3", "mov_aac.mp3")}

    code, stdout, stderr = run_vax(*args)
    assert code == 0, stderr
    assert stdout.count("(already done)") == 4  # two lines, and two summary rows
    assert {name: (out / name).stat().st_mtime_ns for name in first} == first

    (out / "mov_aac.mp3").write_bytes(b"someone else's file")
    code, stdout, stderr = run_vax(*args)
    assert code == 8, stderr
    assert "mov_aac.mp3 exists but is not this job's output" in stderr and "--overwrite" in stderr
    assert (out / "mov_aac.mp3").read_bytes() == b"someone else's file"

    code, _, stderr = run_vax(*args, "--overwrite")
    assert code == 0, stderr
    samples, rate = decode_track(out / "mov_aac.mp3")
    assert dominant_freq(samples, rate) == pytest.approx(550, abs=2)
    assert (out / "mp4_aac.mp3").stat().st_mtime_ns != first["mp4_aac.mp3"]  # --overwrite redoes all


def test_existing_output_at_another_loudness_is_not_done(media, tmp_path, run_vax):
    out = tmp_path / "o"
    code, _, stderr = run_vax("extract", media["mp4_aac"], media["mov_aac"], "-f", "wav", "-o", f"{out}/")
    assert code == 0, stderr
    code, _, stderr = run_vax("extract", media["mp4_aac"], media["mov_aac"], "-f", "wav", "-o", f"{out}/",
                              "--loudness", "-16")
    assert code == 8 and "LUFS, not -16 LUFS" in stderr


def test_single_file_keeps_exit_8_unless_skip_existing(media, tmp_path, run_vax):
    out = tmp_path / "one.m4a"
    assert run_vax("extract", media["mp4_aac"], "-o", out)[0] == 0
    code, _, stderr = run_vax("extract", media["mp4_aac"], "-o", out)
    assert code == 8 and "already exists" in stderr
    code, stdout, stderr = run_vax("extract", media["mp4_aac"], "-o", out, "--skip-existing")
    assert code == 0, stderr
    assert "already done" in stdout and "summary" not in stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_results_come_in_input_order(media, tmp_path, run_vax, jobs):
    # mkv_multi --all-tracks is the slowest job; with two workers it finishes after the next one.
    code, stdout, stderr = run_vax("extract", media["mkv_multi"], media["mp4_aac"], media["avi_mp3"],
                                   "--all-tracks", "-f", "flac", "-o", f"{tmp_path}/", "--jobs", jobs, "--json")
    assert code == 0, stderr
    assert [Path(r["input"]).name for r in _lines(stdout)] == ["mkv_multi.mkv"] * 3 + ["mp4_aac.mp4", "avi_mp3.avi"]


def test_bad_options_stop_the_batch_before_it_starts(media, tmp_path, run_vax):
    code, stdout, stderr = run_vax("extract", media["mp4_aac"], media["mov_aac"], "--start", "5", "--end", "2",
                                   "-o", f"{tmp_path}/")
    assert code == 2 and "--end" in stderr and stdout == ""
    assert os.listdir(tmp_path) == []


def test_several_inputs_need_a_folder_or_template(media, tmp_path, run_vax):
    code, _, stderr = run_vax("extract", media["mp4_aac"], media["mov_aac"], "-o", tmp_path / "one.m4a")
    assert code == 2 and "cannot all be written to" in stderr
    code, _, stderr = run_vax("extract", media["mp4_aac"], media["mov_aac"], "-o", f"{tmp_path}/{{stem}}-x.{{ext}}")
    assert code == 0, stderr
    assert sorted(os.listdir(tmp_path)) == ["mov_aac-x.m4a", "mp4_aac-x.m4a"]


def test_empty_folder_is_an_error(tmp_path, run_vax):
    code, _, stderr = run_vax("extract", tmp_path)
    assert code == 3 and "the folder has no files" in stderr


# -- stopping a batch ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_inputs(tmp_path_factory) -> Path:
    """8 audio-only WAVs of 20 s: MP3 encoding them takes a moment, long enough to interrupt."""
    root = tmp_path_factory.mktemp("long-inputs")
    for i in range(8):
        make_media(root / f"in{i}.wav", duration=20.0, tones=[Tone(300 + 50 * i, codec="pcm_s16le")], video=None)
    return root


@pytest.mark.parametrize("how", ["SIGINT-group", "SIGINT", "SIGTERM"])
def test_signal_stops_workers_keeps_finished_and_removes_temps(long_inputs, tmp_path, how):
    out = tmp_path / "out"
    proc = subprocess.Popen(VAX + ["extract", str(long_inputs), "-f", "mp3", "-o", f"{out}/", "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=str(Path(__file__).resolve().parent.parent))
    try:
        first = proc.stdout.readline()
        assert first.startswith("[1/8] ok:"), first + proc.stderr.read()
        if how == "SIGINT-group":  # what a terminal's Ctrl-C does: the whole process group gets it
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(getattr(signal, how))
        proc.wait(timeout=30)
        # Read on through the same buffered reader: communicate() would skip what readline() buffered.
        rest, stderr = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    said = "stopped by SIGTERM" if how == "SIGTERM" else "interrupted"
    assert [line for line in stderr.splitlines() if line.strip()] == [
        f"vax: error: {said}; unfinished outputs were removed"]
    reported = {Path(line.split(" -> ")[1].split(" (")[0]).name
                for line in (first + rest).splitlines() if " ok: " in line}
    written = set(os.listdir(out))
    assert not [n for n in written if TEMP_MARK in n]
    assert written == reported and 1 <= len(written) < 8, (first + rest, stderr)
    for name in written:  # every output left behind is whole
        samples, rate = decode_track(out / name)
        assert samples.shape[1] / rate == pytest.approx(20.0, abs=0.05)
    time.sleep(0.2)
    assert _processes_in_group(proc.pid) == []


def test_workers_do_not_outlive_a_killed_parent(long_inputs, tmp_path):
    """SIGKILL cannot be caught: the workers notice the parent is gone and stop by themselves,
    removing their temporary files, and release the parent's output pipes."""
    out = tmp_path / "out"
    proc = subprocess.Popen(VAX + ["extract", str(long_inputs), "-f", "mp3", "-o", f"{out}/", "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=str(Path(__file__).resolve().parent.parent))
    try:
        assert proc.stdout.readline().startswith("[1/8] ok:")
        proc.kill()
        proc.communicate(timeout=30)  # returns only once no worker holds stdout/stderr
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while _processes_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_in_group(proc.pid) == []
    assert not [n for n in os.listdir(out) if TEMP_MARK in n]


def _processes_in_group(group: int) -> list[str]:
    """Live processes of the stopped vax's process group: its workers and server (none should survive)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(entry)
    return found


def test_a_threaded_caller_gets_workers_from_a_fork_server(media, tmp_path):
    """Forking a process with other threads can deadlock; there the workers come from a fork server."""
    script = ("import threading, time\n"
              "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
              "from extractor.batch.pool import _context\n"
              "print(_context().get_start_method())\n"
              "from extractor.cli import main\n"
              "main()\n")
    proc = subprocess.run([sys.executable, "-c", script, "extract", str(media["mp4_aac"]), str(media["mov_aac"]),
                           "-o", f"{tmp_path}/", "--jobs", "2", "--json"],
                          check=False, capture_output=True, text=True, timeout=60,
                          cwd=str(Path(__file__).resolve().parent.parent))
    assert proc.returncode == 0, proc.stderr
    method, *lines = proc.stdout.splitlines()
    assert method == "forkserver"
    assert [json.loads(line)["status"] for line in lines] == ["ok", "ok"]
    assert sorted(os.listdir(tmp_path)) == ["mov_aac.m4a", "mp4_aac.m4a"]
