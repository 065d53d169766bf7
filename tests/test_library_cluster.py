"""The library against a real Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, started here; the workers see the media under another path (--path-map)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_library import assert_consistent
from test_library_faults import SLOW_TREE, check_ctrl_c
from test_library_support import crashes_on_day1, dies_once_mid_write, make_tree

from extractor.jobspec import JobSpec
from extractor.library.catalog import Catalog
from extractor.library.dask_engine import DaskEngine
from extractor.library.paths import PathMap
from extractor.library.run import extract_library
from extractor.library.scan import scan

ROOT = Path(__file__).resolve().parent.parent
DASK = shutil.which("dask", path=str(Path(sys.executable).parent))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    if DASK is None:
        pytest.skip("the dask command is not installed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           # One retry of a task whose worker died, as docs/library.md tells cluster owners to set it.
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    common = ["--no-dashboard"]
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               *common], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for _ in range(2):
        procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--nworkers", "1", *common],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_real_cluster_with_a_path_map_and_a_lost_worker(tmp_path, cluster):
    root = tmp_path / "card"
    tones = make_tree(root)
    (tmp_path / "mnt").mkdir()
    os.symlink(root, tmp_path / "mnt" / "card")  # how the workers "mount" the media
    os.symlink(tmp_path / "out", tmp_path / "mnt" / "out")
    path_map = PathMap([f"{root}={tmp_path}/mnt/card", f"{tmp_path}/out={tmp_path}/mnt/out"])
    engine = DaskEngine(workers=2, address=cluster)
    try:
        assert engine.workers == 2
        catalog = Catalog(tmp_path / "lib.db")
        scan(catalog, [str(root)], engine, path_map=path_map)
        (tmp_path / "out").mkdir()
        counts = extract_library(catalog, JobSpec(input="x"), str(tmp_path / "out"), engine, path_map=path_map,
                                 task=dies_once_mid_write)
        catalog.close()
    finally:
        engine.close()
    assert counts == {"done": len(tones)}
    assert_consistent(tmp_path / "lib.db", tmp_path / "out", tones)


def test_ctrl_c_on_a_cluster_keeps_and_records_what_finished(tmp_path, cluster):
    """Through the CLI, which finds the scheduler in DASK_SCHEDULER_ADDRESS."""
    root = tmp_path / "card"
    tones = make_tree(root, tree=SLOW_TREE, duration=3.0)
    catalog = Catalog(tmp_path / "lib.db")
    from extractor.library.local_engine import LocalEngine

    engine = LocalEngine(2)
    try:
        scan(catalog, [str(root)], engine)
    finally:
        engine.close()
        catalog.close()
    check_ctrl_c(tmp_path, tones, "dask", env={"DASK_SCHEDULER_ADDRESS": cluster})


def test_a_file_that_kills_its_workers_on_a_cluster_is_failed_and_the_run_goes_on(tmp_path, cluster):
    root = tmp_path / "card"
    tones = make_tree(root, tree=[("a/day1.mp4", 440.0), ("a/other.mp4", 550.0), ("b/other.mp4", 660.0)])
    engine = DaskEngine(workers=2, address=cluster)
    try:
        catalog = Catalog(tmp_path / "lib.db")
        scan(catalog, [str(root)], engine)
        counts = extract_library(catalog, JobSpec(input="x"), str(tmp_path / "out"), engine, task=crashes_on_day1)
        failures = [dict(r) for r in catalog.rows("SELECT path, message FROM jobs WHERE status = 'failed'")]
        catalog.close()
    finally:
        engine.close()
    assert counts == {"done": 2, "failed": 1}, failures
    (failure,) = failures
    assert failure["path"].endswith("day1.mp4") and "killed its worker process repeatedly" in failure["message"]
    assert len(list((tmp_path / "out").rglob("*.m4a"))) == len(tones) - 1
