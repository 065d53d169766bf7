"""`vax serve`'s front door and rough edges, in-process: who may ask, how much, in which words;
signed links; clean one-line refusals for every bad input (a fuzz over the API); what the
page says when a request does not fit, and how outputs are named."""

from __future__ import annotations

import json
import random
import socket
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("starlette")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from extractor.web.app import create_app
from extractor.web.guard import LINK_LIFETIME, MAX_BODY, signed_link
from extractor.web.names import safe_file_name
from extractor.web.speech import page_text
from fixtures.generate import Tone, decode_track, make_media

TOKEN = "security-token-0123456789"
BASE = "http://127.0.0.1:8765"
needs_interpreter = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("extractor.words") is None,
    reason="extractor.words (the request interpreter) is not in this checkout yet")


def make_client(workspace: Path, **options) -> TestClient:
    return TestClient(create_app(workspace, token=TOKEN, **options), base_url=BASE, headers={"X-Vax-Token": TOKEN})


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "ws") as c:
        yield c
        c.app.app.state.runner.cancel_all()


def wait_done(client, job_id: str, timeout: float = 60) -> dict:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled", "interrupted"):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not finish")


def add(client, path: Path) -> dict:
    response = client.post("/api/files", json={"path": str(path)})
    assert response.status_code == 200, response.text
    return response.json()


def run(client, file_id: str, text: str) -> dict:
    response = client.post("/api/run", json={"file_id": file_id, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


# -- who may ask --------------------------------------------------------------------------------

@pytest.mark.parametrize("site", ["same-site", "cross-site"])
def test_another_port_of_the_same_host_is_refused_even_with_the_token(client, site):
    # A page on 127.0.0.1:OTHER is "same-site" to the browser: it must get nothing.
    for method, path in (("GET", "/api/state"), ("POST", "/api/settings"), ("GET", "/api/events")):
        response = client.request(method, path, json={"cloud": True} if method == "POST" else None,
                                  headers={"Sec-Fetch-Site": site})
        assert response.status_code == 403 and "another site" in response.json()["message"]
    assert client.get("/api/state", headers={"Sec-Fetch-Site": "same-origin"}).json()["settings"]["cloud"] is False
    assert client.get("/", headers={"Sec-Fetch-Site": "none"}).status_code == 200


def test_only_loopback_host_names_unless_asked(tmp_path):
    own_name = socket.gethostname()
    with make_client(tmp_path / "ws") as plain:
        for host in (own_name, "192.168.1.20", "10.0.0.1:8765"):
            assert plain.get("/api/state", headers={"Host": host}).status_code == 403, host
        for host in ("127.0.0.2:8765", "localhost", "[::1]:8765"):
            assert plain.get("/api/state", headers={"Host": host}).status_code == 200, host
    with make_client(tmp_path / "ws2", extra_hosts=(own_name,), any_ip=True) as wide:
        for host in (own_name, "192.168.1.20:8765"):
            assert wide.get("/api/state", headers={"Host": host}).status_code == 200, host
        assert wide.get("/api/state", headers={"Host": "evil.example"}).status_code == 403


def test_every_answer_carries_the_security_headers(client):
    for response in (client.get("/"), client.get("/api/state"), client.get("/static/app.js"),
                     client.get("/api/state", headers={"X-Vax-Token": "wrong"}), client.get("/nope")):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"


# -- signed links ---------------------------------------------------------------------------------

@needs_interpreter
def test_players_and_downloads_use_short_lived_links(tmp_path, client, media):
    file = add(client, media["mp4_aac"])
    job = wait_done(client, run(client, file["id"], "as wav")["jobs"][0]["id"])
    name = job["results"][0]["name"]
    link = job["links"][name]
    with TestClient(client.app, base_url=BASE) as browser:  # no token header: as an <audio> element asks
        played = browser.get(link)
        assert played.status_code == 200 and played.content[:4] == b"RIFF"
        assert "attachment" in browser.get(link + "&download=1").headers["content-disposition"]
        assert browser.get(f"/api/outputs/{job['id']}/{name}").status_code == 403  # no link, no token
        tampered = link[:-1] + ("0" if link[-1] != "0" else "1")
        assert browser.get(tampered).status_code == 403
        other_file = link.replace(name.replace(" ", "%20"), ".x" + name)
        assert browser.get(other_file).status_code == 403  # a link opens its own file only
        old = signed_link(TOKEN, job["id"], name, now=time.time() - LINK_LIFETIME - 5)
        assert browser.get(old).status_code == 403  # expired
        assert browser.delete(link).status_code in (403, 405)
    samples, rate = decode_track(tmp_path / "ws" / "outputs" / job["id"] / name)
    assert abs(samples.shape[1] / rate - 3.0) < 0.05


# -- sizes and bad input: always a one-line 4xx --------------------------------------------------

def test_every_request_body_is_capped(client):
    huge = json.dumps({"text": "x" * (MAX_BODY + 10)})
    response = client.post("/api/interpret", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "at most" in response.json()["message"]

    def chunks():  # no Content-Length: the cap counts what arrives
        for _ in range(MAX_BODY // 4096 + 4):
            yield b" " * 4096

    response = client.post("/api/settings", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def assert_clean_refusal(response, workspace: Path) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error", "message"} and body["message"]
    text = body["message"]
    assert "\n" not in text and len(text) < 600
    for leak in ("Traceback", "Errno", "Error:", "Exception", str(workspace), "--"):
        assert leak not in text, (leak, text)


@pytest.mark.parametrize("path", ["/api/outputs/j0123456789/a%00b.wav", "/api/outputs/j0123456789/" + "n" * 300,
                                  "/api/outputs/j0123456789/" + "名" * 120 + ".wav", "/api/outputs/%00/x.wav",
                                  "/api/jobs/" + "j" * 300, "/api/files/%00"])
def test_nul_bytes_and_long_names_in_paths_are_clean_4xx(client, tmp_path, path):
    method = "DELETE" if path.startswith("/api/files") else "GET"
    assert_clean_refusal(client.request(method, path), tmp_path / "ws")


def test_deep_json_and_odd_bodies_are_clean_4xx(client, tmp_path):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000, "\x00", "",
                 '{"file_id": {"$ne": 1}, "text": ["x"]}', '{"path": "/tmp/' + "a" * 300 + '.mp4"}',
                 '{"path": "/tmp/a\\u0000b.mp4"}'):
        for path in ("/api/run", "/api/interpret", "/api/files", "/api/settings", "/api/upload/check"):
            response = client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})
            if response.status_code == 200 and not body.startswith(("[[", '{"a":')):
                continue  # e.g. a settings object without a setting in it: nothing to change
            assert_clean_refusal(response, tmp_path / "ws")


NASTY = ["", "\x00", "a\x00b", "n" * 300, "名" * 200, "../../etc/passwd", "/", "%00", "%2e%2e%2f", "{}", "[]",
         "<script>alert(1)</script>", "\ud800", "j0123456789", "f0000000000", "-1", "1e309", "NaN", " ", "\\\\?\\C:"]


def test_fuzz_over_the_api_gives_only_clean_answers(client, tmp_path, media):
    workspace = tmp_path / "ws"
    file = add(client, media["mp4_aac"])
    chooser = random.Random(15)
    for _ in range(250):
        value = chooser.choice(NASTY + [file["id"]])
        other = chooser.choice(NASTY)
        in_path, other_in_path = (quote(v.encode("utf-8", "surrogatepass"), safe="") for v in (value, other))
        value_json = chooser.choice([value, 7, None, True, [value], {"x": value}])
        method, path, body, headers = chooser.choice([
            ("POST", "/api/interpret", {"file_id": value_json, "text": other}, {}),
            ("POST", "/api/run", {"file_id": value, "text": value_json}, {}),
            ("POST", "/api/files", {"path": value_json}, {}),
            ("POST", "/api/upload/check", {"name": value_json, "size": other}, {}),
            ("POST", "/api/settings", {"cloud": value_json}, {}),
            ("DELETE", f"/api/files/{in_path}", None, {}),
            ("GET", f"/api/jobs/{in_path}", None, {}),
            ("POST", f"/api/jobs/{in_path}/cancel", {}, {}),
            ("GET", f"/api/outputs/{in_path}/{other_in_path}", None, {}),
            ("GET", f"/api/events?job={in_path or 'none'}", None, {}),  # no job: a 10-minute stream
            ("POST", "/api/upload", None, {"X-File-Name": value.encode("utf-8", "replace").decode("latin-1")}),
        ])
        content = None if body is None else json.dumps(body).encode("utf-8", "surrogatepass")
        try:
            response = client.request(method, path, content=content, headers=headers)
        except UnicodeEncodeError:
            continue  # a URL the HTTP client itself refuses to send
        if response.status_code == 200:
            assert response.headers["content-type"].startswith(("application/json", "text/event-stream"))
            continue
        assert_clean_refusal(response, workspace)


# -- words on the page ---------------------------------------------------------------------------

@needs_interpreter
def test_unknown_words_never_run_on_the_page(client, media):
    file = add(client, media["mp4_aac"])
    preview = client.post("/api/interpret", json={"file_id": file["id"], "text": "mp3 quux frobnicate"}).json()
    assert preview["unknown"]
    response = client.post("/api/run", json={"file_id": file["id"], "text": "mp3 quux frobnicate"})
    assert response.status_code == 400 and "nothing was run" in response.json()["message"]
    assert client.get("/api/state").json()["jobs"] == []


@needs_interpreter
def test_do_the_same_for_all_runs_where_it_fits_and_says_why_it_skipped(client, media, tmp_path):
    first, second = add(client, media["mkv_multi"]), add(client, media["mkv_multi"])
    plain = add(client, media["mp4_aac"])  # no Spanish track
    wait_done(client, run(client, first["id"], "the spanish track as mp3")["jobs"][0]["id"])
    preview = client.post("/api/interpret", json={"file_id": first["id"], "text": "do the same for all"}).json()
    assert preview["targets"] == [second["name"]] and [s["name"] for s in preview["skipped"]] == [plain["name"]]
    reply = run(client, first["id"], "do the same for all")
    assert [j["file_id"] for j in reply["jobs"]] == [second["id"]]
    assert [s["file_id"] for s in reply["skipped"]] == [plain["id"]]
    reason = reply["skipped"][0]["reason"]
    assert "mp4_aac.mp4" in reason and str(media["mp4_aac"].parent) not in reason and "--" not in reason
    done = wait_done(client, reply["jobs"][0]["id"])
    assert done["status"] == "done" and done["results"][0]["plan"]["track"] == 2


@needs_interpreter
def test_start_over_clears_the_inherited_job(client, media):
    file = add(client, media["mp4_aac"])
    wait_done(client, run(client, file["id"], "only the first second as mp3")["jobs"][0]["id"])
    reply = run(client, file["id"], "start over")
    assert reply["kind"] == "answer" and "scratch" in reply["answer"]
    assert client.get("/api/state").json()["files"][0]["last_options"] is None
    again = run(client, file["id"], "as flac")["jobs"][0]
    assert again["options"] == {"format": "flac"}  # no "first second" inherited
    inline = run(client, file["id"], "start over: as wav")["jobs"][0]
    assert inline["options"] == {"format": "wav"}


@needs_interpreter
def test_outputs_are_named_by_what_was_asked_and_never_twice(client, media):
    file = add(client, media["mp4_aac"])
    names = []
    for text in ("as mp3", "as mp3", "the first 2 seconds as mp3"):
        preview = client.post("/api/interpret", json={"file_id": file["id"], "text": text}).json()
        job = wait_done(client, run(client, file["id"], text)["jobs"][0]["id"])
        assert [r["name"] for r in job["results"]] == preview["outputs"]  # the preview names the real file
        names += preview["outputs"]
    assert names == ["mp4_aac.mp3", "mp4_aac (2).mp3", "mp4_aac, first 2 s.mp3"]


@needs_interpreter
def test_long_names_upload_and_run(client, media):
    japanese = "長い名前の会議録画ファイル" * 6 + ".mp4"  # 78 characters, 238 bytes
    assert len(japanese.encode()) > 200

    with open(media["mp4_aac"], "rb") as body:
        response = client.post("/api/upload", content=body, headers={"X-File-Name": quote(japanese)})
    assert response.status_code == 200, response.text
    file = response.json()
    assert file["name"].endswith(".mp4") and len(file["name"].encode()) <= 200
    job = wait_done(client, run(client, file["id"], "as mp3")["jobs"][0]["id"])
    assert job["status"] == "done" and job["results"][0]["name"].endswith(".mp3")
    plain = safe_file_name("x" * 300 + ".flac")
    assert plain.endswith(".flac") and len(plain) == 200


@needs_interpreter
def test_an_ac3_result_gets_a_browser_preview_and_keeps_the_lossless_download(client, tmp_path):
    movie = make_media(tmp_path / "movie.mkv", duration=2.0, tones=[Tone(440, codec="ac3", layout="5.1")])
    file = add(client, movie)
    job = wait_done(client, run(client, file["id"], "as ac3")["jobs"][0]["id"])
    result = job["results"][0]
    assert result["name"] == "movie.ac3" and result["preview"]
    folder = tmp_path / "ws" / "outputs" / job["id"]
    import av

    with av.open(str(folder / result["preview"])) as preview:
        stream = preview.streams.audio[0]
        assert stream.codec_context.name == "opus" and stream.codec_context.channels == 2
    samples, rate = decode_track(folder / result["preview"])
    assert abs(samples.shape[1] / rate - 2.0) < 0.1
    assert (folder / "movie.ac3").read_bytes()[:2] == b"\x0b\x77"
    assert set(job["links"]) == {result["name"], result["waveform"], result["preview"]}


def test_page_speech_has_no_paths_flags_or_python_errors():
    said = page_text("/srv/ws/uploads/f1a198f38ea/talk.mp4: OSError: [Errno 36] File name too long: "
                     "'/srv/ws/outputs/j1/x.wav' (use --overwrite to replace it)")
    assert said == "talk.mp4: the file name is too long for the disk: 'x.wav'"
    assert page_text("the cut is not exact; use --exact for a sample-accurate cut") == (
        "the cut is not exact; ask for an \u201cexact cut\u201d for a sample-accurate cut")
    assert "switch the cloud on" in page_text("needs the cloud (use --allow-cloud to upload it)")
    assert page_text("/home/me/v.mp4: no track 3", {"/home/me/v.mp4": "v.mp4"}) == "v.mp4: no track 3"
    assert "show tracks" in page_text("no Spanish track; run vax probe /home/me/v.mp4 to list them")
