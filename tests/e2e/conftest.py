"""The browser tests' shared parts: one headless Chromium for the whole run (starting it is the
slow part), a fresh browser context per test, and `vax serve` started as a user starts it.

Screenshots go to the test's own folder (``shots``) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]

if not Path(CHROMIUM).exists():
    pytest.skip("the chromium package is not installed (see .ci/apt-packages)", allow_module_level=True)
if find_spec("playwright") is None:
    pytest.skip("Playwright for Python is not installed (the dev extra has it)", allow_module_level=True)
if find_spec("extractor.words") is None:
    pytest.skip("extractor.words (the request interpreter) is not in this checkout yet", allow_module_level=True)

from playwright.sync_api import sync_playwright


@dataclass
class Server:
    process: subprocess.Popen
    url: str  # the link it printed, with ?token=
    base: str  # http://127.0.0.1:PORT
    token: str

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def start_server(workspace: Path, token: str, *args: str) -> Server:
    """`vax serve` on a free loopback port, as a user starts it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", "from extractor.cli import main; main()", "serve", "--port", "0",
         "--workspace", str(workspace), "--token", token, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=workspace.parent,
        start_new_session=True)
    for line in process.stdout:
        if "open http" in line:
            url = line.split("open ", 1)[1].strip()
            return Server(process, url, url.split("/?", 1)[0], token)
    process.kill()
    pytest.fail(f"vax serve did not start: {process.stderr.read()}")


@pytest.fixture
def server(tmp_path):
    running = start_server(tmp_path / "workspace", "browser-test-token-42")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Problems(list):
    """JavaScript errors and Content-Security-Policy refusals seen on any page of a context."""

    def watch(self, tab) -> None:
        tab.on("pageerror", lambda error: self.append(str(error)))
        tab.on("console", lambda msg: self.append(msg.text)
               if msg.type == "error" and "Content Security Policy" in msg.text else None)


@pytest.fixture
def context(browser):
    made = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    made.problems = Problems()
    made.on("page", made.problems.watch)
    yield made
    made.close()
    assert not made.problems, f"errors on the page: {made.problems}"


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder
