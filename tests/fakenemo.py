"""A fake NemoVideo service: a real HTTP server on 127.0.0.1, in a thread, for contract tests.

It implements every endpoint of the documented protocol (docs/remote.md), checks what the
client sends (auth, attribution headers, client id, body shapes, the multipart field name),
records every request, and injects faults on demand:

    with FakeNemo(render_source=mp4) as fake:
        fake.inject("session", ("code", 1002))        # the next session call: session lost
        fake.inject("download", ("drop",))            # the next download: connection cut halfway
        fake.sse_style = "silent"                     # the agent's stream closes without text
        ... run the client against fake.url ...
        assert fake.count("upload") == 1

Faults: ("http", status[, body]) answers that status; ("code", n) answers HTTP 200 (401 for
1001) with {"code": n}, and for 1001 also forgets the presented token, for 1002 the session;
("drop",) cuts the connection (for downloads: after half the declared bytes).

A simulated network and service (``Network``): a latency added to every answer, upload and
download bandwidths (the server waits as long as the bytes would take), and a render time per
minute of media (polls answer "processing" until it has passed). Without ``render_source`` a
render "produces" the uploaded file itself (an echo), so a bench can compare outputs made
through the cloud with local ones. ``credits_per_render`` makes renders cost credits; when the
balance is short the export answers code 2001, as the service does.

Run on its own, it is the `make bench-remote` demo: ``python -m tests.fakenemo [vax bench options]``
starts the server with a simulated network and runs ``vax bench --remote`` against it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

ACCEPTED = {"mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac"}
ATTRIBUTION = ("x-skill-source", "x-skill-version", "x-skill-platform")

ROUTES = [
    ("POST", re.compile(r"^/api/auth/anonymous-token$"), "anon"),
    ("POST", re.compile(r"^/api/tasks/me/with-session/nemo_agent$"), "session"),
    ("POST", re.compile(r"^/api/upload-video/nemo_agent/me/(?P<sid>[^/]+)$"), "upload"),
    ("POST", re.compile(r"^/run_sse$"), "sse"),
    ("GET", re.compile(r"^/api/state/nemo_agent/me/(?P<sid>[^/]+)/latest$"), "state"),
    ("GET", re.compile(r"^/api/credits/balance/simple$"), "credits"),
    ("POST", re.compile(r"^/api/render/proxy/lambda$"), "render_start"),
    ("GET", re.compile(r"^/api/render/proxy/lambda/(?P<rid>[^/]+)$"), "render_poll"),
    ("GET", re.compile(r"^/api/render/proxy/(?P<rid>[^/]+)/download$"), "download"),
    ("GET", re.compile(r"^/cdn/(?P<rid>[^/]+)\.mp4$"), "cdn"),
]


@dataclass
class Recorded:
    method: str
    path: str
    endpoint: str
    headers: dict
    body_size: int = 0


@dataclass
class FakeState:
    tokens: dict = field(default_factory=dict)  # token -> user_id
    client_ids: list = field(default_factory=list)
    sessions: dict = field(default_factory=dict)  # sid -> {"draft": ..., "uploads": [...]}
    renders: dict = field(default_factory=dict)  # rid -> {"sid", "polls"}
    uploads: list = field(default_factory=list)  # (sid, filename, size)
    messages: list = field(default_factory=list)


@dataclass
class Network:
    """A simulated network and render farm. Zero means instant (no simulated cost)."""

    latency: float = 0.0  # seconds added to every answer
    upload_bps: float = 0.0  # bytes per second the upload is held to
    download_bps: float = 0.0  # bytes per second downloads are sent at
    render_per_minute: float = 0.0  # seconds of rendering per minute of media

    def describe(self) -> str:
        return (f"SIMULATED network: {self.latency * 1000:g} ms per request, upload {self.upload_bps / 1e6:g} MB/s, "
                f"download {self.download_bps / 1e6:g} MB/s, render {self.render_per_minute:g} s per media minute")


class FakeNemo:
    def __init__(self, render_source: Path | None = None, *, latency: float = 0.0, network: Network | None = None,
                 credits_per_render: float = 0):
        self.render_source = render_source  # the MP4 every render "produces"; None: the uploaded file
        self.network = network or Network(latency=latency)
        self.credits_per_render = credits_per_render
        self._echo_dir = None  # where uploads are kept when renders echo them
        self.state = FakeState()
        self.requests: list[Recorded] = []
        self._faults: dict[str, list[tuple]] = defaultdict(list)
        self._lock = threading.Lock()
        # Behaviour knobs, per test.
        self.sse_style = "text"  # text | adk | silent | heartbeats_forever | nothing
        self.heartbeat_interval = 0.01
        self.render_polls = 1  # polls answered "processing" before "completed"
        self.render_fail = False
        self.render_envelope = "success"  # success | bare | code
        self.url_location = "output.url"  # output.url | data.output.url | data.outputUrl | none
        self.credits = {"available": 100, "frozen": 0}
        self.upload_limit = 500 * 1000**2
        self._server: ThreadingHTTPServer | None = None

    # -- test API -----------------------------------------------------------------------------

    def inject(self, endpoint: str, *faults: tuple) -> None:
        with self._lock:
            self._faults[endpoint].extend(faults)

    def count(self, endpoint: str) -> int:
        return sum(1 for r in self.requests if r.endpoint == endpoint)

    def of(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def latency(self) -> float:
        return self.network.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self.network.latency = value

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        # Another host name for the same server: the client must not send its token there.
        return f"http://localhost:{self._server.server_address[1]}"

    def start(self) -> FakeNemo:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._echo_dir is not None:
            self._echo_dir.cleanup()
            self._echo_dir = None

    def keep_upload(self, sid: str, filename: str, content: bytes) -> None:
        """Echo renders: remember the session's upload as the file its render will produce."""
        if self.render_source is not None:
            return
        import tempfile

        if self._echo_dir is None:
            self._echo_dir = tempfile.TemporaryDirectory(prefix="fakenemo-")
        path = Path(self._echo_dir.name) / f"{sid}-{Path(filename).name}"
        path.write_bytes(content)
        self.state.sessions[sid]["render_file"] = path

    def render_file(self, rid: str) -> Path | None:
        if self.render_source is not None:
            return Path(self.render_source)
        session = self.state.sessions.get(self.state.renders[rid]["sid"]) or {}
        return session.get("render_file")

    def render_seconds(self, rid: str) -> float:
        """How long the simulated render takes: the media's minutes times the configured rate."""
        if not self.network.render_per_minute:
            return 0.0
        import av

        with av.open(str(self.render_file(rid))) as container:
            minutes = (container.duration or 0) / 1e6 / 60
        return minutes * self.network.render_per_minute

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def next_fault(self, endpoint: str) -> tuple | None:
        with self._lock:
            queue = self._faults.get(endpoint)
            return queue.pop(0) if queue else None

    def issue_token(self) -> tuple[str, str]:
        token = "nmv_usr_" + secrets.token_hex(16)
        user = "anon_" + secrets.token_hex(4)
        self.state.tokens[token] = user
        return token, user

    def draft_for(self, sid: str) -> dict:
        uploads = self.state.sessions[sid]["uploads"]
        segments = [{"src": u["cdn_url"], "d": 2000} for u in uploads]
        return {"t": [{"tt": 0, "sg": segments}, {"tt": 1, "sg": list(segments)}], "d": 2000,
                "m": {"title": "project", "width": 64, "height": 48}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeNemo
    server_version = "FakeNemo/1.0"

    def log_message(self, *args) -> None:  # quiet: pytest shows failures, not access logs
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -- plumbing ---------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        endpoint, params = "unknown", {}
        for route_method, pattern, name in ROUTES:
            match = pattern.match(self.path.split("?")[0])
            if match and route_method == method:
                endpoint, params = name, match.groupdict()
                break
        body = self._read_body()
        fake.requests.append(Recorded(method, self.path, endpoint, {k.lower(): v for k, v in self.headers.items()},
                                      len(body)))
        if fake.network.latency:
            time.sleep(fake.network.latency)
        if endpoint == "upload" and fake.network.upload_bps:
            time.sleep(len(body) / fake.network.upload_bps)
        if endpoint == "unknown":
            return self._json(404, {"code": 404, "message": f"no route {method} {self.path}"})
        fault = fake.next_fault(endpoint)
        if fault and self._apply_fault(fault, endpoint, params):
            return None
        if endpoint not in ("anon", "cdn") and not self._authorised():
            return self._json(401, {"code": 1001, "message": "token invalid or expired"})
        return getattr(self, f"_on_{endpoint}")(params, body)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _apply_fault(self, fault: tuple, endpoint: str, params: dict) -> bool:
        kind = fault[0]
        if kind == "http":
            body = fault[2] if len(fault) > 2 else {"code": fault[1], "message": f"injected HTTP {fault[1]}"}
            self._json(fault[1], body)
            return True
        if kind == "code":
            code = fault[1]
            if code == 1001:
                self.fake.state.tokens.pop(self._bearer(), None)
            if code == 1002 and params.get("sid"):
                self.fake.state.sessions.pop(params["sid"], None)
            if code == 1002 and endpoint in ("sse", "render_start"):
                self.fake.state.sessions.clear()
            self._json(401 if code == 1001 else 200, {"code": code, "message": f"injected code {code}", "data": None})
            return True
        if kind == "drop":
            if endpoint in ("cdn", "download"):
                self._dropping = True  # send the headers and half the file, then hang up
                return False
            self.close_connection = True
            self.connection.close()
            return True
        raise ValueError(f"unknown fault {fault!r}")

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def _authorised(self) -> bool:
        return self._bearer() in self.fake.state.tokens

    def _json(self, status: int, obj) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _ok(self, data) -> None:
        self._json(200, {"code": 0, "message": "success", "data": data})

    # -- endpoints --------------------------------------------------------------------------------

    def _on_anon(self, params, body) -> None:
        client_id = self.headers.get("X-Client-Id")
        if not client_id or len(client_id) > 64:
            return self._json(400, {"code": 400, "message": "X-Client-Id header is required"})
        self.fake.state.client_ids.append(client_id)
        token, user = self.fake.issue_token()
        self._ok({"token": token, "user_id": user, "expires_at": "2099-01-01T00:00:00Z", "credits": 100})

    def _on_session(self, params, body) -> None:
        request = json.loads(body or b"{}")
        if request.get("task_name") != "project" or not request.get("language"):
            return self._json(400, {"code": 400, "message": "task_name and language required"})
        sid = "sess_" + secrets.token_hex(6)
        self.fake.state.sessions[sid] = {"draft": {"t": []}, "uploads": []}
        self._ok({"task_id": "task_" + secrets.token_hex(4), "session_id": sid,
                  "user_id": self.fake.state.tokens.get(self._bearer())})

    def _on_upload(self, params, body) -> None:
        session = self.fake.state.sessions.get(params["sid"])
        if session is None:
            return self._json(200, {"code": 1002, "message": "session not found"})
        parts = _multipart_files(self.headers.get("Content-Type", ""), body)
        if not parts:
            return self._json(400, {"code": 400, "message": "multipart field 'files' required"})
        files = []
        for filename, content in parts:
            size = len(content)
            ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
            if ext not in ACCEPTED:
                return self._json(200, {"code": 4001, "message": f"unsupported file type .{ext}"})
            if size > self.fake.upload_limit:
                return self._json(200, {"code": 4002, "message": "file too large"})
            self.fake.keep_upload(params["sid"], filename, content)
            info = {"filename": filename, "file_type": "video", "cdn_url": f"{self.fake.cdn_url}/files/{filename}",
                    "duration": 2.0, "width": 64, "height": 48, "fps": 10, "hash": secrets.token_hex(8),
                    "size": size}
            session["uploads"].append(info)
            self.fake.state.uploads.append((params["sid"], filename, size))
            files.append(info)
        self._ok({"files": files, "session_state_applied": True})

    def _on_state(self, params, body) -> None:
        session = self.fake.state.sessions.get(params["sid"])
        if session is None:
            return self._json(200, {"code": 1002, "message": "session not found"})
        self._ok({"session_id": params["sid"], "task_id": "task", "task_name": "project",
                  "state": {"draft": session["draft"], "video_infos": session["uploads"], "generated_media": []}})

    def _on_credits(self, params, body) -> None:
        c = self.fake.credits
        self._ok({"available": c["available"], "frozen": c["frozen"], "total": c["available"] + c["frozen"]})

    def _on_sse(self, params, body) -> None:
        request = json.loads(body or b"{}")
        sid = request.get("session_id")
        session = self.fake.state.sessions.get(sid)
        if request.get("app_name") != "nemo_agent" or session is None:
            return self._json(200, {"code": 1002, "message": "session not found"})
        if "text/event-stream" not in self.headers.get("Accept", ""):
            return self._json(400, {"code": 400, "message": "Accept: text/event-stream required"})
        text = request["new_message"]["parts"][0]["text"]
        self.fake.state.messages.append(text)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        style = self.fake.sse_style
        try:
            self._stream(style, sid, session)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped listening

    def _stream(self, style: str, sid: str, session: dict) -> None:
        def send(raw: str) -> None:
            self.wfile.write(raw.encode())
            self.wfile.flush()
            time.sleep(self.fake.heartbeat_interval)

        def apply_draft() -> None:
            session["draft"] = self.fake.draft_for(sid)

        # Heartbeats in every form the documents show: a typed event, an empty data line, a comment.
        send('data: {"type": "heartbeat"}\n\n')
        send("data:\n\n")
        send(": keep-alive\n\n")
        if style == "text":
            send('data: {"type": "tool_call", "name": "add_to_timeline", "args": {}}\n\n')
            apply_draft()
            send('data: {"type": "tool_result", "name": "add_to_timeline", "result": "ok"}\n\n')
            send('data: {"type": "heartbeat"}\n\n')
            # One JSON value over two data lines of the same event.
            send('data: {"type": "text",\ndata:  "content": "Your video is on the timeline. Click Export."}\n\n')
            send('data: {"type": "text", "content": "I encountered a temporary issue."}\n\n')
        elif style == "adk":
            send('data: {"author": "nemo", "content": {"role": "model", "parts": '
                 '[{"functionCall": {"name": "add_to_timeline", "args": {}}}]}}\n\n')
            apply_draft()
            send('data: {"author": "nemo", "content": {"role": "model", "parts": [{"text": "Added. "}, '
                 '{"text": "Click Export when ready."}]}}\n\n')
        elif style == "silent":
            for _ in range(3):
                send('data: {"type": "heartbeat"}\n\n')
            apply_draft()
        elif style == "heartbeats_forever":
            apply_draft()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                send('data: {"type": "heartbeat"}\n\n')
        elif style == "nothing":
            send("data:\n\n")
        else:
            raise ValueError(style)

    def _render_answer(self, data: dict) -> None:
        envelope = self.fake.render_envelope
        if envelope == "success":
            self._json(200, {"success": True, "data": data})
        elif envelope == "code":
            self._ok(data)
        else:
            self._json(200, data)

    def _on_render_start(self, params, body) -> None:
        missing = [h for h in ATTRIBUTION if not self.headers.get(h)]
        if missing:
            return self._json(402, {"code": 402, "message": "export requires attribution headers"})
        request = json.loads(body or b"{}")
        rid, sid = request.get("id"), request.get("sessionId")
        if sid not in self.fake.state.sessions:
            return self._json(200, {"code": 1002, "message": "session not found"})
        if not rid or rid in self.fake.state.renders:
            return self._json(409, {"success": False, "error": f"duplicate render id {rid}"})
        draft = request.get("draft") or {}
        if not any(t.get("sg") for t in draft.get("t", [])):
            return self._json(400, {"success": False, "error": "draft has nothing to render"})
        cost = self.fake.credits_per_render
        if cost and self.fake.credits["available"] < cost:
            return self._json(200, {"code": 2001, "message": "insufficient credits", "data": None})
        self.fake.credits["available"] -= cost
        self.fake.state.renders[rid] = {"sid": sid, "polls": 0, "started": time.monotonic()}
        self._render_answer({"id": rid, "status": "pending", "progress": 0})

    def _on_render_poll(self, params, body) -> None:
        render = self.fake.state.renders.get(params["rid"])
        if render is None:
            return self._json(404, {"success": False, "error": "no such render"})
        render["polls"] += 1
        rendering = time.monotonic() - render["started"] < self.fake.render_seconds(params["rid"])
        if render["polls"] <= self.fake.render_polls or rendering:
            return self._render_answer({"id": params["rid"], "status": "processing",
                                        "progress": 50 * render["polls"] // max(1, self.fake.render_polls)})
        if self.fake.render_fail:
            return self._render_answer({"id": params["rid"], "status": "failed", "error": "lambda render crashed"})
        url = f"{self.fake.cdn_url}/cdn/{params['rid']}.mp4"
        where = self.fake.url_location
        if where == "output.url":
            return self._render_answer({"id": params["rid"], "status": "completed", "progress": 100,
                                        "output": {"url": url}})
        if where == "data.output.url":  # status and URL nested one level deeper than the envelope
            return self._json(200, {"success": True, "data": {"status": "completed", "output": {"url": url}}})
        if where == "data.outputUrl":
            return self._json(200, {"data": {"status": "completed", "outputUrl": url}})
        return self._render_answer({"id": params["rid"], "status": "completed", "progress": 100})

    def _on_download(self, params, body) -> None:
        self._send_file(params["rid"], "download")

    def _on_cdn(self, params, body) -> None:
        self._send_file(params["rid"], "cdn")

    def _send_file(self, rid: str, endpoint: str) -> None:
        if rid not in self.fake.state.renders:
            return self._json(404, {"success": False, "error": "no such render"})
        data = self.fake.render_file(rid).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self._dropping:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        bandwidth = self.fake.network.download_bps
        if not bandwidth:
            self.wfile.write(data)
            return
        chunk = 64 * 1024
        for at in range(0, len(data), chunk):  # paced: each chunk arrives when the bandwidth allows
            time.sleep(len(data[at:at + chunk]) / bandwidth)
            self.wfile.write(data[at:at + chunk])
            self.wfile.flush()

    _dropping = False


def _multipart_files(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(filename, content) of each part named ``files``: enough of RFC 7578 for this client."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match or not content_type.startswith("multipart/form-data"):
        return []
    boundary = b"--" + match.group(1).encode()
    found = []
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        if name and name.group(1) == b"files" and filename:
            found.append((filename.group(1).decode(), content[:-2]))  # minus the CRLF before the boundary
    return found


# -- `make bench-remote`: vax bench against this server, with a simulated network ----------------------

DEMO_NETWORK = Network(latency=0.04, upload_bps=1e6, download_bps=5e6, render_per_minute=10.0)


def main(argv: list[str] | None = None) -> int:
    """Make a clip, serve it with a simulated network, and run `vax bench --remote` on it.

    The network's figures are options; the render time defaults to 10 s per media minute, the
    middle of the service's published 20-40 s for a 3-minute clip. Everything printed is marked
    simulated: no byte leaves this machine.
    """
    import argparse
    import os
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m tests.fakenemo", description=main.__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the demo clip")
    parser.add_argument("--latency", type=float, default=DEMO_NETWORK.latency, help="seconds per request")
    parser.add_argument("--upload-mbps", type=float, default=DEMO_NETWORK.upload_bps / 1e6, help="MB/s up")
    parser.add_argument("--download-mbps", type=float, default=DEMO_NETWORK.download_bps / 1e6, help="MB/s down")
    parser.add_argument("--render-per-minute", type=float, default=DEMO_NETWORK.render_per_minute,
                        help="render seconds per media minute")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between render polls (real: 30)")
    args, bench_args = parser.parse_known_args(argv)
    network = Network(args.latency, args.upload_mbps * 1e6, args.download_mbps * 1e6, args.render_per_minute)

    from extractor.cli.app import cli
    from fixtures.generate import Tone, Video, make_media

    with tempfile.TemporaryDirectory(prefix="vax-bench-remote-") as folder:
        os.environ.update({"XDG_CONFIG_HOME": os.path.join(folder, "config"),
                           "VAX_REMOTE_POLL_INTERVAL": str(args.poll), "VAX_REMOTE_BACKOFF": "0"})
        os.environ.pop("NEMO_TOKEN", None)
        clip = make_media(Path(folder) / "clip.mp4", duration=args.seconds, tones=[Tone(440.0)],
                          video=Video(width=320, height=240, fps=25))
        print(f"{network.describe()}; render polled every {args.poll:g} s; the fake NemoVideo server "
              f"(tests/fakenemo.py) returns the upload unchanged as its render, so the outputs match", flush=True)
        with FakeNemo(network=network, credits_per_render=1) as fake:
            try:
                cli.main(["bench", str(clip), "--remote", "--allow-cloud", "--yes", "--remote-url", fake.url,
                          *bench_args], prog_name="vax", standalone_mode=True)
            except SystemExit as exc:
                code = exc.code or 0
        print("(SIMULATED: the cloud figures above come from a fake server on this machine, not from NemoVideo)")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
