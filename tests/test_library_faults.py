"""The library under faults: lost workers, a file that kills every worker, a client killed or
stopped mid-run, a source changed between scan and extract."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_library import assert_consistent, outputs_on_disk, recorded_outputs
from test_library_support import VICTIM, crashes_on_day1, dies_once_mid_write, make_tree

from extractor.jobspec import JobSpec
from extractor.library.catalog import Catalog
from extractor.library.local_engine import LocalEngine
from extractor.library.run import extract_library
from extractor.library.scan import scan
from extractor.publish import TEMP_MARK
from fixtures.generate import Tone, decode_track, dominant_freq, make_media

ROOT = Path(__file__).resolve().parent.parent
VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]


def _scanned(tmp_path, engine, **tree):
    root = tmp_path / "card"
    tones = make_tree(root, **tree)
    catalog = Catalog(tmp_path / "lib.db")
    scan(catalog, [str(root)], engine)
    return root, tones, catalog


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_a_worker_lost_mid_write_is_retried_without_duplicate_or_partial_output(tmp_path, kind):
    from extractor.library.engines import make_engine

    engine = make_engine(kind, workers=2)
    try:
        _root, tones, catalog = _scanned(tmp_path, engine)
        counts = extract_library(catalog, JobSpec(input="x"), str(tmp_path / "out"), engine,
                                 task=dies_once_mid_write)
        catalog.close()
    finally:
        engine.close()
    assert counts == {"done": len(tones)}
    assert not (tmp_path / "out/card/DCIM/101" / f"{Path(VICTIM).name}.attempted").exists()
    assert not list((tmp_path / "out").rglob(f"*{TEMP_MARK}*"))
    assert_consistent(tmp_path / "lib.db", tmp_path / "out", tones)


def test_a_file_that_kills_every_worker_is_failed_with_the_reason_and_the_run_goes_on(tmp_path):
    engine = LocalEngine(2)
    try:
        _root, tones, catalog = _scanned(tmp_path, engine)
        counts = extract_library(catalog, JobSpec(input="x"), str(tmp_path / "out"), engine, task=crashes_on_day1)
        failures = catalog.rows("SELECT path, message FROM jobs WHERE status = 'failed'")
        catalog.close()
    finally:
        engine.close()
    assert counts == {"done": len(tones) - 2, "failed": 2}
    assert {Path(r["path"]).name for r in failures} == {"day1.mov", "day1.wav"}
    assert all("killed its worker process 3 times" in r["message"] for r in failures)
    assert len(outputs_on_disk(tmp_path / "out")) == len(tones) - 2


def test_a_source_changed_between_scan_and_extract_gives_the_new_content(tmp_path):
    engine = LocalEngine(1)
    try:
        root, tones, catalog = _scanned(tmp_path, engine)
        changed = root / "DCIM/100/CLIP0001.mp4"
        make_media(changed, duration=0.8, tones=[Tone(1234.0, "aac")])
        assert extract_library(catalog, JobSpec(input="x"), str(tmp_path / "out"), engine) == {"done": len(tones)}
        (row,) = catalog.rows("SELECT kind, fingerprint FROM files WHERE path = ?", (str(changed),))
        (job,) = catalog.rows("SELECT source_fp FROM jobs WHERE path = ?", (str(changed),))
        assert row["kind"] == "changed" and job["source_fp"] == row["fingerprint"]
        samples, rate = decode_track(tmp_path / "out/card/DCIM/100/CLIP0001.m4a")
        assert abs(dominant_freq(samples, rate) - 1234.0) < 15
        counts = scan(catalog, [str(root)], engine)  # the next scan probes it again, and it is done
        assert counts.probed == 1
        assert extract_library(catalog, JobSpec(input="x"), str(tmp_path / "out"), engine) == {}
        catalog.close()
    finally:
        engine.close()


# -- the client killed or stopped mid-run -----------------------------------------------------------

SLOW_TREE = [(f"set{n % 2}/take{n // 2:02d}.wav", 300.0 + 50 * n) for n in range(16)]


def _start_extract(tmp_path, engine: str = "local", env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([*VAX, "library", "extract", "--catalog", tmp_path / "lib.db", "-o", tmp_path / "out",
                             "-f", "mp3", "--engine", engine, "--workers", "1" if engine == "local" else "2", "-q"],
                            env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_outputs(dest: Path, count: int, proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len([p for p in dest.rglob("*.mp3") if TEMP_MARK not in p.name]) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)



@pytest.fixture()
def slow_library(tmp_path):
    engine = LocalEngine(2)
    try:
        _root, tones, catalog = _scanned(tmp_path, engine, tree=SLOW_TREE, duration=3.0)
        catalog.close()
    finally:
        engine.close()
    return tones


def test_a_killed_client_resumes_without_redoing_or_losing_anything(tmp_path, slow_library):
    proc = _start_extract(tmp_path)
    _wait_for_outputs(tmp_path / "out", 2, proc)
    proc.kill()  # SIGKILL: nothing of the client's cleanup runs
    proc.communicate(timeout=30)
    time.sleep(1.5)  # its worker notices the client is gone
    before = {p: p.stat().st_mtime_ns for p in outputs_on_disk(tmp_path / "out") if TEMP_MARK not in p.name}
    assert 2 <= len(before) < len(slow_library)
    proc = _start_extract(tmp_path)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = {p: p.stat().st_mtime_ns for p in outputs_on_disk(tmp_path / "out")}
    assert all(after[p] == before[p] for p in before)  # nothing done before was redone
    assert_consistent(tmp_path / "lib.db", tmp_path / "out", slow_library)


def test_ctrl_c_keeps_and_records_finished_outputs_and_removes_the_rest(tmp_path, slow_library):
    check_ctrl_c(tmp_path, slow_library, "local")


def check_ctrl_c(tmp_path, slow_library, engine: str, env: dict | None = None) -> None:
    """(Also run on a real Dask cluster by test_library_cluster.)"""
    proc = _start_extract(tmp_path, engine, env)
    _wait_for_outputs(tmp_path / "out", 2, proc)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"stopped; finished outputs are kept and recorded" in err and b"Traceback" not in err
    on_disk = outputs_on_disk(tmp_path / "out")
    assert not [p for p in on_disk if TEMP_MARK in p.name]
    recorded = recorded_outputs(tmp_path / "lib.db")
    assert sorted(Path(o) for outs in recorded.values() for o in outs) == on_disk
    assert 2 <= len(on_disk) < len(slow_library)
    with sqlite3.connect(tmp_path / "lib.db") as conn:
        statuses = [s for (s,) in conn.execute("SELECT status FROM jobs")]
    assert set(statuses) == {"done"}
    proc = _start_extract(tmp_path)  # and the next run finishes the job (on either engine: the catalogue is the same)
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert_consistent(tmp_path / "lib.db", tmp_path / "out", slow_library)
