"""What macOS and Windows do differently, forced on Linux: the spawn start method, no
posix_fadvise or /proc, signals Windows lacks, case-insensitive names, MAX_PATH."""

from __future__ import annotations

import functools
import multiprocessing
import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest

from backends.local import source
from extractor import portable
from extractor.batch import pool
from extractor.errors import OutputError, UsageError
from fixtures.generate import Tone, decode_track, dominant_freq, make_media

ROOT = Path(__file__).resolve().parent.parent

# The batch tests that start worker processes, rerun with the workers spawned as on macOS and
# Windows (a fresh interpreter that imports everything itself, inherits nothing by fork): the pool's
# start and its messages, results in input order, Ctrl-C and SIGTERM reaching spawned workers, and
# workers outliving no killed parent. The whole batch file runs the same way with
# `VAX_START_METHOD=spawn pytest tests/test_batch.py` (its fork-server check aside); this selection
# keeps the suite's cost to about 15 s.
SPAWN_SELECT = "signal_stops or killed_parent or one_line_per_job or input_order"


# -- start methods ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_start_method_can_be_forced(monkeypatch, method):
    monkeypatch.setenv("VAX_START_METHOD", method)
    assert pool._context().get_start_method() == method


def test_an_unknown_start_method_is_ignored(monkeypatch):
    monkeypatch.setenv("VAX_START_METHOD", "teleport")
    assert pool._context().get_start_method() in multiprocessing.get_all_start_methods()


def test_other_platforms_get_spawn(monkeypatch):
    """macOS lists fork and forkserver, but its system libraries are not fork-safe."""
    monkeypatch.delenv("VAX_START_METHOD", raising=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert pool._context().get_start_method() == "spawn"


def test_batch_tests_pass_with_spawned_workers(tmp_path):
    env = {**os.environ, "VAX_START_METHOD": "spawn"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "tests/test_batch.py",
         "-k", SPAWN_SELECT, "--basetemp", str(tmp_path / "t")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout and "skipped" not in proc.stdout


# -- read-ahead advice: posix_fadvise and the descriptor listing -----------------------------

@pytest.fixture()
def advised(monkeypatch):
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice: calls.append((fd, advice)),
                        raising=False)
    monkeypatch.setattr(os, "POSIX_FADV_RANDOM", getattr(os, "POSIX_FADV_RANDOM", 1), raising=False)
    return calls


def test_advice_reaches_the_descriptor_through_each_listing(advised, tmp_path):
    """/proc/self/fd (Linux) or /dev/fd (the BSDs): the file's own descriptor is found by inode."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 100)
    other = tmp_path / "other.mp4"
    other.write_bytes(b"y")
    listings = [folder for folder in source.FD_FOLDERS if os.path.isdir(folder)]
    assert listings, "no descriptor listing on this machine"
    with open(path, "rb") as handle, open(other, "rb"):
        for folder in listings:
            advised.clear()
            source.advise_random_access(path, fd_folders=("/no/such/listing", folder))
            assert [fd for fd, _ in advised] == [handle.fileno()]


def test_no_listing_or_no_fadvise_costs_only_speed(advised, tmp_path, monkeypatch):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x")
    with open(path, "rb"):
        source.advise_random_access(path, fd_folders=("/no/such/listing",))  # e.g. macOS without /proc
        assert advised == []
        monkeypatch.delattr(os, "posix_fadvise")  # macOS, Windows
        source.advise_random_access(path)
    source.advise_random_access(tmp_path / "gone.mp4")  # vanished: still nothing raised


# -- signals Windows does not have ------------------------------------------------------------

def test_nothing_needs_the_posix_only_signals(media, tmp_path):
    """Windows has no SIGHUP, SIGKILL, SIGQUIT, SIGUSR1, SIGPIPE...: with them removed from the
    signal module, every module still imports and an extraction runs."""
    script = textwrap.dedent(f"""
        import importlib, pkgutil, signal, sys
        WINDOWS = {{"SIGABRT", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM", "SIGBREAK"}}
        for name in [n for n in dir(signal) if n.startswith("SIG") and not n.startswith("SIG_")]:
            if name not in WINDOWS:
                delattr(signal, name)
        import extractor, backends
        for package in (extractor, backends):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                if not info.name.endswith("__main__"):
                    importlib.import_module(info.name)
        sys.argv = ["vax", "extract", {str(media["mp4_aac"])!r}, "-o", {str(tmp_path / "out.m4a")!r}]
        from extractor.cli import main
        main()
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.m4a").is_file()


# -- case-insensitive file systems --------------------------------------------------------------

@pytest.fixture(scope="module")
def two_titles(tmp_path_factory) -> Path:
    """Two tracks whose titles differ only in case: one file name on macOS and Windows."""
    return make_media(tmp_path_factory.mktemp("titles") / "film.mkv", duration=1.0, video=None,
                      tones=(Tone(440.0, title="Director"), Tone(660.0, title="director")))


def test_names_differing_in_case_are_one_output(two_titles, tmp_path, run_vax):
    code, _, err = run_vax("extract", two_titles, "--all-tracks", "-f", "flac",
                           "-o", str(tmp_path / "{title}.flac"))
    assert code == UsageError.exit_code, err
    assert "same file" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_distinct_names_still_get_one_file_each(two_titles, tmp_path, run_vax):
    code, _, err = run_vax("extract", two_titles, "--all-tracks", "-f", "flac",
                           "-o", str(tmp_path / "{title}-{track}.flac"))
    assert code == 0, err
    tones = {p.name: dominant_freq(*decode_track(p)) for p in tmp_path.iterdir()}
    assert sorted(tones) == ["Director-1.flac", "director-2.flac"]
    assert abs(tones["Director-1.flac"] - 440.0) < 2 and abs(tones["director-2.flac"] - 660.0) < 2


def test_same_name_key_folds_case_and_unicode_form():
    composed = "Caf\u00e9.m4a"
    decomposed = unicodedata.normalize("NFD", composed)  # how macOS stores it
    assert portable.same_name_key(composed) == portable.same_name_key(decomposed)
    assert portable.same_name_key("out/Clip.MP3") == portable.same_name_key("out/clip.mp3")
    assert portable.same_name_key("out/clip1.mp3") != portable.same_name_key("out/clip2.mp3")


# -- Windows MAX_PATH -------------------------------------------------------------------------

def test_windows_path_limit_counts_the_temporary_name(tmp_path):
    check = functools.partial(portable.check_path_length, windows=True, long_paths=False)
    room = portable.WINDOWS_MAX_PATH - portable.TEMP_EXTRA - len(str(tmp_path)) - 1
    fits = tmp_path / ("a" * (room - 5) + ".mp3")
    check(fits)
    too_long = tmp_path / ("a" * (room - 3) + ".mp3")
    with pytest.raises(OutputError, match="too long for Windows"):
        check(too_long)
    portable.check_path_length(too_long, windows=True, long_paths=True)  # long paths enabled
    portable.check_path_length(too_long, windows=False)  # Linux, macOS: no such limit


def test_a_too_long_output_fails_before_any_work(media, tmp_path, monkeypatch):
    from extractor import api, planner

    monkeypatch.setattr(planner, "check_path_length",
                        functools.partial(portable.check_path_length, windows=True, long_paths=False))
    deep = tmp_path / ("d" * 120) / ("e" * 120)
    with pytest.raises(OutputError, match="too long for Windows"):
        api.extract(media["mp4_aac"], output=str(deep / "out.m4a"))
    assert not deep.exists()
