"""`vax serve` as a user starts it: a real process on a real loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", "from extractor.cli import main; main()", "serve", "--port", "0",
         "--workspace", str(tmp_path / "ws"), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    printed = []
    for line in process.stdout:
        printed.append(line)
        if "open http" in line:
            return process, line.split("open ", 1)[1].strip(), "".join(printed)
    process.kill()
    pytest.fail(f"vax serve did not start: {''.join(printed)} {process.stderr.read()}")


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()


def test_serve_listens_on_loopback_with_a_token(tmp_path):
    process, url, printed = start(tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:") and "?token=" in url
        assert str(tmp_path / "ws") in printed
        base, token = url.split("/?token=")
        assert len(token) >= 24
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{base}/api/state").status_code == 403
            page = client.get(url)
            assert page.status_code == 200 and "Add videos" in page.text
            assert "set-cookie" not in page.headers and page.headers["x-frame-options"] == "DENY"
            assert client.get(f"{base}/api/state").status_code == 403  # no cookie came with the page
            assert client.get(f"{base}/api/state", headers={"X-Vax-Token": token}).status_code == 200
            port = base.rsplit(":", 1)[1]
            for host in ("attacker.example", socket.gethostname(), "192.0.2.7"):  # only loopback names
                rebound = client.get(f"{base}/api/state", headers={"Host": f"{host}:{port}", "X-Vax-Token": token})
                assert rebound.status_code == 403, host
    finally:
        assert stop(process) == 0
    assert (tmp_path / "ws" / "uploads").is_dir() and (tmp_path / "ws" / "outputs").is_dir()


def test_serve_on_another_host_warns(tmp_path):
    process, url, _ = start(tmp_path, "--host", "0.0.0.0", "--token", "fixed-token-for-test")
    try:
        assert url.endswith("?token=fixed-token-for-test")
    finally:
        stop(process)
    assert "WARNING" in process.stderr.read()
