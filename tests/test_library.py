"""The media library: scan, extract once into a mirrored tree, resume, status and report."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_library_support import make_tree

from extractor.jobspec import JobSpec
from extractor.library.catalog import Catalog
from extractor.library.local_engine import LocalEngine
from extractor.library.run import extract_library
from extractor.library.scan import scan
from extractor.publish import TEMP_MARK
from fixtures.generate import Tone, decode_track, dominant_freq, make_media


@pytest.fixture()
def library(tmp_path):
    root = tmp_path / "card"
    tones = make_tree(root)
    return root, tones, tmp_path / "lib.db", tmp_path / "out"


@pytest.fixture(scope="module")
def engine():
    engine = LocalEngine(2)
    yield engine
    engine.close()


def outputs_on_disk(dest: Path) -> list[Path]:
    return sorted(p for p in dest.rglob("*") if p.is_file())


def recorded_outputs(db: Path) -> dict[str, list[str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT jobs.path, outputs FROM jobs JOIN files USING (path)"
                            " WHERE status = 'done' AND present = 1 AND dest NOT LIKE '%flac'").fetchall()
    return {path: [o["output"] for o in json.loads(outputs)] for path, outputs in rows}


def assert_consistent(db: Path, dest: Path, tones: dict[str, float]) -> None:
    """Every media file done exactly once, with its own tone; the records and the disk agree."""
    recorded = recorded_outputs(db)
    assert set(recorded) == set(tones)
    on_disk = outputs_on_disk(dest)
    assert sorted(Path(o) for outs in recorded.values() for o in outs) == on_disk
    assert not [p for p in on_disk if TEMP_MARK in p.name]
    for source, (output,) in recorded.items():
        samples, rate = decode_track(output)
        assert abs(dominant_freq(samples, rate) - tones[source]) < 15, (source, output)


def test_scan_records_media_once_and_extract_mirrors_the_tree(library, engine):
    root, tones, db, dest = library
    with _open(db) as catalog:
        counts = scan(catalog, [str(root)], engine)
        assert (counts.found, counts.probed, counts.not_media) == (8, 7, 1)
        kinds = {Path(r["path"]).name: r["kind"] for r in catalog.rows("SELECT * FROM files")}
        assert kinds["notes.txt"] == "not-media" and kinds["broken.mp4"] == "unreadable"
        done = extract_library(catalog, JobSpec(input="x"), str(dest), engine)
    assert done == {"done": len(tones)}
    names = {str(p.relative_to(dest)) for p in outputs_on_disk(dest)}
    assert names == {"card/DCIM/100/CLIP0001.m4a", "card/DCIM/101/CLIP0001.m4a", "card/DCIM/101/CLIP0002.mp4.m4a",
                     "card/DCIM/101/CLIP0002.mkv.m4a", "card/talks/2024/day1.m4a", "card/talks/day1.wav"}
    assert_consistent(db, dest, tones)


def test_a_rerun_does_only_what_is_missing_changed_or_new(library, engine):
    root, tones, db, dest = library
    with _open(db) as catalog:
        scan(catalog, [str(root)], engine)
        extract_library(catalog, JobSpec(input="x"), str(dest), engine)
        before = {p: p.stat().st_mtime_ns for p in outputs_on_disk(dest)}
        assert extract_library(catalog, JobSpec(input="x"), str(dest), engine) == {}

        changed = root / "DCIM/100/CLIP0001.mp4"
        make_media(changed, duration=0.5, tones=[Tone(990.0, "aac")])
        tones[str(changed)] = 990.0
        new = make_media(root / "DCIM/102/CLIP0001.mp4", duration=0.5, tones=[Tone(1100.0, "aac")])
        tones[str(new)] = 1100.0
        gone = root / "talks/day1.wav"
        gone.unlink()
        del tones[str(gone)]
        counts = scan(catalog, [str(root)], engine)
        assert (counts.probed, counts.vanished) == (2, 1)
        assert extract_library(catalog, JobSpec(input="x"), str(dest), engine) == {"done": 2}
    after = {p: p.stat().st_mtime_ns for p in outputs_on_disk(dest)}
    redone = {p for p in after if before.get(p) != after[p]}
    assert {p.name for p in redone} == {"CLIP0001.m4a"} and len(redone) == 2  # the changed one and the new one
    (dest / "card/talks/day1.wav").unlink()  # the vanished source's output is kept; drop it to compare
    assert_consistent(db, dest, tones)


def test_other_options_are_another_job_and_failed_files_wait_for_retry(library, engine):
    root, tones, db, dest = library
    with _open(db) as catalog:
        scan(catalog, [str(root)], engine)
        (dest / "card").mkdir(parents=True)
        (dest / "card" / "talks").write_text("a file where a folder must go")
        counts = extract_library(catalog, JobSpec(input="x"), str(dest), engine)
        assert counts == {"done": 4, "failed": 2}
        failures = catalog.rows("SELECT path, exit_code, message FROM jobs WHERE status = 'failed'")
        assert {Path(r["path"]).name for r in failures} == {"day1.mov", "day1.wav"}
        assert all(r["exit_code"] == 9 and "cannot" in r["message"] for r in failures)
        (dest / "card" / "talks").unlink()
        assert extract_library(catalog, JobSpec(input="x"), str(dest), engine) == {}
        assert extract_library(catalog, JobSpec(input="x"), str(dest), engine, retry_failed=True) == {"done": 2}
        flac = extract_library(catalog, JobSpec(input="x", format="flac"), str(tmp := dest.parent / "flac"), engine)
    assert flac == {"done": len(tones)}
    assert len(list(tmp.rglob("*.flac"))) == len(tones)
    assert_consistent(db, dest, tones)


def test_status_and_report(library, engine, run_vax):
    root, tones, db, dest = library
    code, out, err = run_vax("library", "scan", root, "--catalog", db, "--engine", "local", "--workers", "2")
    assert code == 0, err
    assert "8 files: 0 unchanged, 7 probed (6 media, 1 unreadable), 1 not media, 0 vanished" in err
    code, out, err = run_vax("library", "extract", "--catalog", db, "-o", dest, "--engine", "local", "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["status"] for x in lines[:-1]] == ["done"] * len(tones) and lines[-1]["event"] == "summary"
    assert "extract: 6/6 files" in err and "0 failed" in err
    code, out, _ = run_vax("library", "status", "--catalog", db, "--json")
    figures = json.loads(out)
    assert figures["media"] == 6 and figures["files"] == {"media": 6, "not-media": 1, "unreadable": 1}
    assert figures["codecs"] == {"aac": 5, "pcm_s16le": 1}
    assert figures["audio_hours"] == pytest.approx(6 * 0.5 / 3600, abs=1e-3)
    (job,) = figures["extractions"]
    assert job["statuses"] == {"done": 6} and job["not_done"] == 0
    assert figures["unreadable"][0]["path"].endswith("broken.mp4")
    code, _, err = run_vax("library", "report", "--catalog", db, "-o", db.parent / "r.html")
    assert code == 0, err
    page = (db.parent / "r.html").read_text()
    assert "<h2>Audio codecs</h2>" in page and "<li>aac: 5</li>" in page and "broken.mp4" in page
    code, out, _ = run_vax("library", "report", "--catalog", db)
    assert out.startswith("# Library") and "- done: 6" in out


def test_bad_usage_is_one_line(tmp_path, run_vax):
    code, _, err = run_vax("library", "status", "--catalog", tmp_path / "none.db")
    assert code == 2 and "no catalogue" in err and "Traceback" not in err
    code, _, err = run_vax("library", "scan", tmp_path / "missing", "--catalog", tmp_path / "c.db",
                           "--engine", "local")
    assert code == 2 and "is not a folder" in err
    code, _, err = run_vax("library", "extract", "--catalog", tmp_path / "c.db", "--engine", "local")
    assert code == 2 and "-o DEST" in err
    code, _, err = run_vax("library", "extract", "--catalog", tmp_path / "c.db", "-o", tmp_path / "o",
                           "--engine", "local", "--path-map", "nothing")
    assert code == 2 and "LOCAL=REMOTE" in err


class _open:
    """A catalogue for the length of a with-block."""

    def __init__(self, db):
        self.catalog = Catalog(db)

    def __enter__(self) -> Catalog:
        return self.catalog

    def __exit__(self, *exc) -> None:
        self.catalog.close()


def test_path_map_swaps_prefixes_both_ways(tmp_path):
    from extractor.library.paths import PathMap

    mapping = PathMap([f"{tmp_path}/media=/mnt/media"])
    assert mapping.to_worker(f"{tmp_path}/media/a/b.mp4") == "/mnt/media/a/b.mp4"
    assert mapping.to_client("/mnt/media/a/b.mp4") == f"{tmp_path}/media/a/b.mp4"
    assert mapping.to_worker(f"{tmp_path}/mediax/b.mp4") == f"{tmp_path}/mediax/b.mp4"
    assert os.path.isabs(mapping.to_client("/elsewhere/x"))


def test_watch_extracts_files_as_they_appear(tmp_path):
    root = tmp_path / "inbox"
    make_media(root / "first.mp4", duration=0.5, tones=[Tone(440.0, "aac")])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-c", "from extractor.cli import main; main()", "library", "watch",
                             root, "--catalog", tmp_path / "lib.db", "-o", tmp_path / "out", "--engine", "local",
                             "--workers", "1", "--settle", "0.3", "-q"],
                            env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(tmp_path / "out/inbox/first.m4a", proc)
        made = make_media(tmp_path / "staging" / "later.mp4", duration=0.5, tones=[Tone(880.0, "aac")])
        (root / "sub").mkdir()
        os.replace(made, root / "sub" / "later.mp4")
        _wait_for(tmp_path / "out/inbox/sub/later.m4a", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    samples, rate = decode_track(tmp_path / "out/inbox/sub/later.m4a")
    assert abs(dominant_freq(samples, rate) - 880.0) < 15
    assert set(recorded_outputs(tmp_path / "lib.db")) == {str(root / "first.mp4"), str(root / "sub" / "later.mp4")}


def _wait_for(path: Path, proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)
