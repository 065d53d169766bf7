"""The cloud client's parts on their own: SSE parsing, response shapes, URLs, config files."""

from __future__ import annotations

import json
import stat

import av
import pytest

from backends.local import LocalBackend
from backends.remote import config
from backends.remote.client import attribution_headers, check_url, skill_platform
from backends.remote.render import draft_ready, render_status
from backends.remote.sse import interpret, is_boilerplate, parse_events
from extractor import __version__
from extractor.errors import UsageError
from extractor.jobspec import JobSpec
from extractor.mediainfo import probe
from extractor.planner import plan_jobs
from fixtures.undecodable import make_undecodable


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("NEMO_TOKEN", "VAX_ALLOW_CLOUD", "VAX_REMOTE_URL", "SKILL_SOURCE"):
        monkeypatch.delenv(name, raising=False)


# -- SSE ----------------------------------------------------------------------------------------

def test_sse_joins_multiline_data_and_separates_events():
    lines = ['data: {"type": "text",', 'data:  "content": "hello"}', "", "event: custom", "data: x", "id: 7", ""]
    events = list(parse_events(lines))
    assert [e.data for e in events] == ['{"type": "text",\n "content": "hello"}', "x"]
    assert events[1].event == "custom" and events[1].id == "7"
    assert interpret(events[0]).kind == "text" and interpret(events[0]).text == "hello"


def test_sse_heartbeats_in_every_form():
    lines = ["data:", "", ": keep-alive", "", 'data: {"type": "heartbeat"}', "", "data: ", ""]
    kinds = [interpret(e).kind for e in parse_events(lines)]
    assert kinds == ["heartbeat"] * 4


def test_sse_final_event_without_blank_line_counts():
    events = list(parse_events(['data: {"type": "text", "content": "last"}']))
    assert interpret(events[0]).text == "last"


def test_sse_adk_event_shapes():
    def one(payload):
        return interpret(next(parse_events([f"data: {json.dumps(payload)}", ""])))

    text = one({"content": {"role": "model", "parts": [{"text": "Done. "}, {"text": "Export it."}]}})
    assert (text.kind, text.text) == ("text", "Done. Export it.")
    call = one({"content": {"parts": [{"functionCall": {"name": "add_clip", "args": {}}}]}})
    assert (call.kind, call.name) == ("tool_call", "add_clip")
    assert one({"error": "model overloaded"}).kind == "error"
    assert one({"type": "tool_result", "name": "x", "result": 1}).kind == "tool_result"
    assert is_boilerplate("Sorry, I encountered a temporary issue.")


# -- response shapes ------------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    ({"status": "completed", "output": {"url": "https://cdn/x.mp4"}}, ("completed", "https://cdn/x.mp4")),
    ({"data": {"status": "completed", "output": {"url": "https://cdn/y.mp4"}}}, ("completed", "https://cdn/y.mp4")),
    ({"data": {"status": "completed", "outputUrl": "https://cdn/z.mp4"}}, ("completed", "https://cdn/z.mp4")),
    ({"id": "r", "status": "processing", "progress": 40}, ("processing", None)),
    ({"data": {"status": "FAILED", "error": "boom"}}, ("failed", None)),
])
def test_render_status_reads_every_documented_location(data, expected):
    status, url, _ = render_status(data)
    assert (status, url) == expected


def test_draft_ready_needs_a_segment():
    assert not draft_ready({"t": []})
    assert not draft_ready({"t": [{"tt": 0, "sg": []}]})
    assert not draft_ready(None)
    assert draft_ready({"t": [{"tt": 1, "sg": []}, {"tt": 0, "sg": [{"d": 1000}]}]})


# -- URLs and headers -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://mega-api-prod.nemovideo.ai", "http://127.0.0.1:8080", "http://localhost:1",
                                 "http://[::1]:9000"])
def test_urls_allowed(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["http://example.com", "http://192.168.1.5:8000", "ftp://127.0.0.1", "nemovideo.ai"])
def test_plain_http_refused_except_loopback(url):
    with pytest.raises(UsageError):
        check_url(url)


def test_attribution_headers(monkeypatch):
    headers = attribution_headers()
    assert headers["X-Skill-Source"] == "video-audio-extractor"
    assert headers["X-Skill-Version"] == __version__
    assert headers["X-Skill-Platform"] in ("clawhub", "cursor", "unknown")
    monkeypatch.setenv("SKILL_SOURCE", "Cursor")
    assert skill_platform() == "cursor"
    monkeypatch.setenv("SKILL_SOURCE", "clawhub")
    assert skill_platform() == "clawhub"


# -- config folder --------------------------------------------------------------------------------

def test_client_id_is_made_once_and_kept(tmp_path):
    first = config.client_id()
    assert config.client_id() == first
    assert (tmp_path / "config" / "vax" / "client_id").read_text().strip() == first
    assert config.client_id(regenerate=True) != first


def test_token_cache_is_private_and_per_service(tmp_path):
    cached = config.CachedToken("nmv_usr_secret", user_id="anon_1", expires_at=4102444800.0)
    config.save_token("http://127.0.0.1:1", cached)
    path = tmp_path / "config" / "vax" / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.load_token("http://127.0.0.1:1") == cached
    assert config.load_token("https://other") is None
    assert "nmv_usr_secret" not in repr(cached)
    config.save_token("http://127.0.0.1:2", config.CachedToken("t2", expires_at=1.0))  # long expired
    assert config.load_token("http://127.0.0.1:2") is None


def test_cloud_permission_from_env_or_config_file(tmp_path, monkeypatch):
    assert not config.cloud_allowed_by_user()
    settings = tmp_path / "config" / "vax" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text("allow_cloud = true\n")
    assert config.cloud_allowed_by_user()
    monkeypatch.setenv("VAX_ALLOW_CLOUD", "0")  # the environment wins over the file
    assert not config.cloud_allowed_by_user()
    monkeypatch.setenv("VAX_ALLOW_CLOUD", "1")
    settings.unlink()
    assert config.cloud_allowed_by_user()


# -- the undecodable fixture ----------------------------------------------------------------------

def test_undecodable_fixture_really_cannot_be_decoded(tmp_path):
    path = make_undecodable(tmp_path / "odd.mkv")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context is None
        packets = [p for p in container.demux(stream) if p.size]
        assert packets  # demuxing works: the data is there, only no decoder
    info = probe(path)
    assert not info.audio[0].decodable
    plan = plan_jobs(JobSpec.build(str(path), format="mp3"), info)[0]
    assert "no decoder" in LocalBackend().unsupported_reason(plan)
