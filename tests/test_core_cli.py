"""The `vax` command as a user runs it: exit codes, one-line messages, JSON, --debug."""

from __future__ import annotations

import json
import shutil

import pytest

from fixtures.generate import TONES, decode_track, dominant_freq


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory, media):
    folder = tmp_path_factory.mktemp("odd")
    (folder / "notes.mp4").write_text("this is a text file, not a video\n")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "a folder").mkdir()
    shutil.copy(media["mp4_noaudio"], folder / "silent.mp4")
    shutil.copy(media["mkv_multi"], folder / "film.mkv")
    shutil.copy(media["mp4_aac"], folder / "talk.mp4")
    return folder


ERRORS = [
    # (arguments, exit code, text the one line must contain)
    (["extract", "missing.mp4"], 3, "missing.mp4: no such file"),
    (["extract", "a folder"], 3, "the folder has no files"),
    (["extract", "notes.mp4"], 4, "not a media file"),
    (["extract", "empty.mp4"], 4, "the file is empty (0 bytes)"),
    (["extract", "silent.mp4"], 5, "has no audio track"),
    (["extract", "film.mkv", "--track", "7"], 6, "no audio track 7; it has 3"),
    (["extract", "film.mkv", "--lang", "jpn"], 6, "no audio track in language 'jpn'"),
    (["extract", "talk.mp4", "--start", "1:xx"], 2, "cannot read '1:xx' as a time"),
    (["extract", "talk.mp4", "--bitrate", "loud", "-f", "mp3"], 2, "cannot read 'loud' as a bitrate"),
    (["extract", "talk.mp4", "-o", "{nope}.m4a"], 2, "unknown field(s) {nope} in output template"),
    (["extract", "talk.mp4", "--start", "9"], 2, "at or after the end"),
    (["probe", "missing.mp4"], 3, "missing.mp4: no such file"),
    (["probe", "notes.mp4"], 4, "not a media file"),
]


@pytest.mark.parametrize("args,code,text", ERRORS, ids=[" ".join(a) for a, _, _ in ERRORS])
def test_error_exit_codes_and_one_line_messages(odd_files, run_vax, args, code, text):
    got, out, err = run_vax(*args, cwd=odd_files)
    assert got == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vax: error: ")
    assert text in lines[0]
    assert "Traceback" not in err
    assert out == ""
    assert sorted(p.name for p in odd_files.iterdir()) == ["a folder", "empty.mp4", "film.mkv", "notes.mp4",
                                                           "silent.mp4", "talk.mp4"]


def test_bad_format_is_a_usage_error(odd_files, run_vax):
    code, _, err = run_vax("extract", "talk.mp4", "-f", "wma", cwd=odd_files)
    assert code == 2
    assert "'wma' is not one of" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(odd_files, run_vax):
    for args in (["--debug", "extract", "notes.mp4"], ["extract", "notes.mp4", "--debug"]):
        code, _, err = run_vax(*args, cwd=odd_files)
        assert code == 4
        assert "Traceback (most recent call last)" in err
        assert err.strip().splitlines()[-1].startswith("vax: error: ")


def test_json_one_line_per_job(media, tmp_path, run_vax):
    shutil.copy(media["mkv_multi"], tmp_path / "film.mkv")
    code, out, _ = run_vax("extract", "film.mkv", "missing.mp4", "--all-tracks", "-o", "out/", "--json",
                           cwd=tmp_path)
    assert code == 3  # the first failure's code
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["status"] for r in records] == ["ok", "ok", "ok", "error"]
    for record, name in zip(records, ["film.1-eng.m4a", "film.2-spa.ac3", "film.3-eng.flac"]):
        assert record["output"] == f"out/{name}"
        assert record["backend"] == "local"
        assert record["mode"] == "copy"
        assert record["plan"]["format"] == name.rsplit(".", 1)[1]
        assert record["explanation"].startswith("stream copy:")
        v = record["verification"]
        assert {"codec", "sample_rate", "channels", "duration", "expected_duration", "samples"} <= set(v)
        assert v["duration"] == pytest.approx(3.0, abs=0.05)
        assert record["elapsed"] >= 0
        assert (tmp_path / record["output"]).is_file()
    error = records[3]
    assert error == {"status": "error", "input": "missing.mp4", "error": "input missing or unreadable",
                     "message": "missing.mp4: no such file", "exit_code": 3}


def test_quiet_and_json_draw_no_progress(media, tmp_path, run_vax):
    code, out, err = run_vax("extract", media["mp4_aac"], "-o", f"{tmp_path}/", "--quiet")
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "mp4_aac.m4a").is_file()


def test_human_output_names_the_plan_and_the_verification(media, tmp_path, run_vax):
    code, out, err = run_vax("extract", media["webm_opus"], "-o", f"{tmp_path}/")
    assert code == 0, err
    assert err == ""  # not a terminal: no progress bar
    assert "stream copy: OPUS into .opus" in out
    assert "verified: opus 48000 Hz 2ch" in out
    assert "note: " in out  # the inexact Opus copy is explained


def test_probe_text_and_json(media, run_vax):
    code, out, err = run_vax("probe", media["mkv_multi"])
    assert code == 0, err
    assert "Matroska" in out
    assert "track 2 (stream #2), ac3" in out and "spa" in out and "'Spanish'" in out
    assert "video stream #0: h264 64x48" in out

    code, out, err = run_vax("probe", media["mp4_late"], "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["container"] == "mov,mp4,m4a,3gp,3g2,mj2"
    (track,) = info["audio"]
    for key in ("number", "index", "codec", "profile", "sample_rate", "channels", "layout", "bit_rate",
                "language", "title", "start", "offset", "duration", "default"):
        assert key in track
    assert track["offset"] == pytest.approx(1.5 - 1024 / 48000, abs=1e-3)
    assert info["video"][0]["width"] == 64


def test_dry_run_writes_nothing(media, tmp_path, run_vax):
    code, out, err = run_vax("extract", media["mp4_aac"], "-f", "mp3", "-o", f"{tmp_path}/", "--dry-run", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["status"] == "dry-run"
    assert record["plans"][0]["mode"] == "transcode"
    assert list(tmp_path.iterdir()) == []


def test_the_vax_entry_point(media, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    vax = Path(sys.executable).with_name("vax")
    if not vax.exists():
        pytest.skip("the vax console script is not installed in this environment")
    proc = subprocess.run([str(vax), "extract", str(media["avi_mp3"]), "-o", f"{tmp_path}/", "--quiet"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert dominant_freq(*decode_track(tmp_path / "avi_mp3.mp3")) == pytest.approx(TONES["avi_mp3"], abs=2)
