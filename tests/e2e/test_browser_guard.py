"""What another local web server learns from and can do to `vax serve`, in one real browser;
and what a user sees when vax serve stops or restarts under an open page.

The neighbour is a plain HTTP server on another loopback port, as a dev server, a notebook
or a malicious local program would be. Browsers treat it as "same-site" with the vax page
(ports do not count) and send it every cookie of 127.0.0.1, which is why the page keeps its
token in its own origin's storage and the server refuses same-site requests.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect

from fixtures.generate import Tone, make_media

from .conftest import start_server

ATTACK = """<!doctype html><title>a neighbour</title><body><h1>neighbour</h1>
<iframe id="framed" src="{vax}/" width="800" height="600"></iframe>
<script>
window.report = (async () => {{
  const found = {{ cookie: document.cookie, storage: JSON.stringify(localStorage) }};
  try {{ const r = await fetch("{vax}/api/state"); found.state = r.status; }} catch (e) {{ found.state = "blocked"; }}
  for (const [path, body] of [["/api/settings", {{cloud: true}}], ["/api/files", {{path: "{secret}"}}]]) {{
    try {{ await fetch("{vax}" + path, {{ method: "POST", mode: "no-cors", body: JSON.stringify(body) }}); }}
    catch (e) {{ /* refused either way */ }}
  }}
  return found;
}})();
</script></body>"""


class Neighbour:
    """Serves one attack page on its own loopback port."""

    def __init__(self, page_html: str):
        html = page_html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def session_state(server) -> dict:
    return httpx.get(f"{server.base}/api/state", headers={"X-Vax-Token": server.token}, timeout=10).json()


def test_a_neighbouring_port_gets_no_token_no_access_and_cannot_frame_the_page(server, context, tmp_path, shots):
    secret = tmp_path / "private.mp4"
    make_media(secret, duration=1.0, tones=[Tone(440)])
    vax = context.new_page()
    vax.goto(server.url)  # the user opened vax's link: the page now holds the token
    expect(vax.get_by_role("heading", name="Add videos")).to_be_visible()
    assert vax.evaluate("localStorage.getItem('vax-token')") == server.token

    neighbour = Neighbour(ATTACK.format(vax=server.base, secret=secret))
    try:
        other = context.new_page()
        other.goto(neighbour.url)
        found = other.evaluate("window.report")
        frame = other.frame_locator("#framed")
        expect(other.locator("h1")).to_have_text("neighbour")
        other.wait_for_timeout(500)
        other.screenshot(path=shots / "neighbour-frame.png")
        framed_controls = frame.locator("#cloud").count()
    finally:
        neighbour.close()

    assert server.token not in json.dumps(found)  # neither a cookie nor its own storage has it
    assert found["state"] in (403, "blocked")
    assert context.cookies() == []
    assert framed_controls == 0  # the framed page never rendered: no switch to click through the frame
    refused = [p for p in context.problems if "frame-ancestors 'none'" in p]
    assert refused, "Chromium did not report refusing the frame"
    context.problems[:] = [p for p in context.problems if p not in refused]  # expected, not a page error
    state = session_state(server)
    assert state["settings"]["cloud"] is False and state["files"] == []


def test_a_restart_shows_the_way_back_and_jobs_cut_by_it_say_interrupted(tmp_path, context, shots):
    workspace = tmp_path / "workspace"
    long_video = make_media(tmp_path / "long talk.mp4", duration=90.0, tones=[Tone(440)])
    first = start_server(workspace, "first-token-111")
    try:
        page = context.new_page()
        page.goto(first.url)
        page.get_by_label("Or add a file already on this computer").fill(str(long_video))
        page.keyboard.press("Enter")
        request = page.get_by_label("What do you want from long talk.mp4?")
        request.fill("as mp3 normalized to -16 LUFS")
        page.keyboard.press("Enter")
        expect(page.locator(".job .status").first).to_have_text("working", timeout=30_000)
    finally:
        first.stop()
    banner = page.locator("#banner")
    expect(banner).to_contain_text("Lost the connection", timeout=15_000)
    page.screenshot(path=shots / "lost-connection.png")

    # Back with the same token (as `--token` keeps it): the banner goes by itself, and the job
    # the stop cut short says so.
    port = first.base.rsplit(":", 1)[1]
    same = start_server(workspace, "first-token-111", "--port", port)
    try:
        expect(banner).to_contain_text("Connected to vax serve again", timeout=15_000)
        expect(page.locator(".job .status").first).to_have_text("interrupted")
        expect(page.locator(".job-message").first).to_contain_text("stopped before this job finished")
        page.screenshot(path=shots / "interrupted.png", full_page=True)
    finally:
        same.stop()

    # Restarted as a user restarts it: the same port (the default one, for a user), a new token.
    second = start_server(workspace, "second-token-222", "--port", port)
    try:
        # The page finds the server again, but its key is the old one: it says how to get back in.
        gate = page.locator("#gate")
        expect(gate).to_be_visible(timeout=15_000)
        expect(gate).to_contain_text("restarted")
        expect(page.locator("main")).to_be_hidden()
        expect(banner).to_be_hidden()
        page.screenshot(path=shots / "restarted.png")
        page.goto(second.url)
        expect(page.locator(".job .status").first).to_have_text("interrupted")

        # A bookmark without the token, in a fresh browser profile: the same way back, no raw JSON.
        fresh = context.browser.new_context()
        try:
            bookmark = fresh.new_page()
            bookmark.goto(second.base + "/")
            expect(bookmark.locator("#gate")).to_contain_text("link that vax serve printed")
        finally:
            fresh.close()
    finally:
        second.stop()


@pytest.mark.parametrize("path", ["/", "/api/state"])
def test_the_page_cannot_be_framed_or_sniffed(server, path):
    response = httpx.get(server.base + path, headers={"X-Vax-Token": server.token}, timeout=10)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
