"""`vax serve`'s app in-process: uploads, requests, progress events, results, refinements, cancel, refusals."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
with warnings.catch_warnings():  # Starlette 1.x nudges toward httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from extractor.errors import NotMedia
from extractor.mediainfo import open_media
from extractor.web.app import create_app
from fixtures.generate import Tone, decode_track, dominant_freq, make_media

TOKEN = "test-token-0123456789"
BASE = "http://127.0.0.1:8765"
needs_interpreter = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("extractor.words") is None,
    reason="extractor.words (the natural-language interpreter) is not in this checkout yet")


def make_client(workspace: Path, **options) -> TestClient:
    app = create_app(workspace, token=TOKEN, **options)
    return TestClient(app, base_url=BASE, headers={"X-Vax-Token": TOKEN})


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "ws") as c:
        yield c
        c.app.app.state.runner.cancel_all()


def upload(client: TestClient, path: Path, name: str | None = None):
    with open(path, "rb") as body:
        return client.post("/api/upload", content=body, headers={"X-File-Name": name or path.name})


def wait_job(client: TestClient, job_id: str) -> tuple[dict, list[dict]]:
    """Follow the job's event stream to its end: (final job, every event)."""
    events = []
    with client.stream("GET", f"/api/events?job={job_id}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "job":
                events.append(json.loads(line[6:]))
    assert events, "no job events"
    return events[-1], events


def run(client: TestClient, file_id: str, text: str) -> dict:
    reply = client.post("/api/run", json={"file_id": file_id, "text": text})
    assert reply.status_code == 200, reply.text
    return reply.json()


def fetch_output(client: TestClient, job: dict, tmp_path: Path, index: int = 0) -> Path:
    result = job["results"][index]
    response = client.get(f"/api/outputs/{job['id']}/{result['name']}?download=1")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    local = tmp_path / f"downloaded-{job['id']}-{result['name']}"
    local.write_bytes(response.content)
    return local


def codec_and_duration(path: Path) -> tuple[str, float]:
    with open_media(path) as container:
        stream = container.streams.audio[0]
        name = stream.codec_context.name
    samples, rate = decode_track(path)
    return name, samples.shape[1] / rate


# -- the page and the guard ---------------------------------------------------------------------

def test_page_sets_no_cookie_and_the_api_wants_the_header(tmp_path):
    app = create_app(tmp_path / "ws", token=TOKEN)
    with TestClient(app, base_url=BASE) as browser:
        page = browser.get(f"/?token={TOKEN}")
        assert page.status_code == 200 and "<title>vax" in page.text
        assert "set-cookie" not in page.headers  # a cookie for 127.0.0.1 would reach every port
        assert browser.get("/api/state").status_code == 403
        browser.cookies.set("vax_token", TOKEN)
        assert browser.get("/api/state").status_code == 403  # a cookie is no way in
        assert browser.get("/api/state", headers={"X-Vax-Token": TOKEN}).status_code == 200
        assert browser.get("/static/app.js").status_code == 200


def test_static_assets_need_no_network(tmp_path):
    static = Path(__file__).resolve().parents[1] / "extractor" / "web" / "static"
    for asset in ("index.html", "app.js", "connection.js", "results.js", "style.css"):
        text = (static / asset).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, asset


@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1]])
def test_bad_or_missing_token_is_refused(tmp_path, token):
    app = create_app(tmp_path / "ws", token=TOKEN)
    with TestClient(app, base_url=BASE) as anonymous:
        headers = {"X-Vax-Token": token} if token else {}
        for url in ("/api/state", f"/api/state?token={TOKEN}", "/api/events", "/api/credits"):
            response = anonymous.get(url, headers=headers)
            assert response.status_code == 403
            assert "access token" in response.json()["message"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io:8765"])
def test_foreign_host_is_refused(client, host):
    response = client.get("/api/state", headers={"Host": host})
    assert response.status_code == 403
    assert "DNS rebinding" in response.json()["message"]


@pytest.mark.parametrize("host", ["localhost:8765", "127.0.0.1:8765", "[::1]:8765"])
def test_loopback_hosts_are_accepted(client, host):
    assert client.get("/api/state", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9999", "null"])
def test_cross_site_origin_is_refused(client, origin):
    response = client.post("/api/settings", json={"cloud": True}, headers={"Origin": origin})
    assert response.status_code == 403
    assert "another site" in response.json()["message"]
    assert client.get("/api/state").json()["settings"]["cloud"] is False


def test_same_origin_is_accepted(client):
    response = client.post("/api/settings", json={"cloud": False}, headers={"Origin": BASE})
    assert response.status_code == 200


def test_bad_requests_get_a_plain_message_not_a_traceback(client):
    for response in (client.post("/api/run", content=b"{not json", headers={"Content-Type": "application/json"}),
                     client.post("/api/run", json=[1, 2]),
                     client.get("/no/such/page"),
                     client.post("/api/interpret", json={"file_id": "nope", "text": "mp3"}),
                     client.post("/api/settings", json={"cloud": "yes"})):
        assert 400 <= response.status_code < 500
        body = response.json()
        assert body["message"] and "Traceback" not in response.text


# -- adding files -------------------------------------------------------------------------------

def test_upload_streams_to_workspace_and_shows_tracks(client, media, tmp_path):
    response = upload(client, media["mkv_multi"], name="my film.mkv")
    assert response.status_code == 200, response.text
    file = response.json()
    stored = Path(file["path"])
    assert stored.read_bytes() == media["mkv_multi"].read_bytes()
    assert (tmp_path / "ws" / "uploads") in stored.parents
    tracks = file["probe"]["audio"]
    assert [(t["codec"], t["language"], t["title"]) for t in tracks] == [
        ("aac", "eng", "Main"), ("ac3", "spa", "Spanish"), ("flac", "eng", "Commentary")]
    assert all({"channels", "duration", "offset"} <= set(t) for t in tracks)
    assert client.get("/api/state").json()["files"][0]["id"] == file["id"]
    sneaky = upload(client, media["mp4_aac"], name="../../escape.mp4").json()
    assert sneaky["name"] == "escape.mp4" and (tmp_path / "ws" / "uploads") in Path(sneaky["path"]).parents
    assert not (tmp_path / "escape.mp4").exists()


def test_upload_of_wrong_type_is_refused_up_front(client, tmp_path):
    check = client.post("/api/upload/check", json={"name": "notes.txt", "size": 10})
    assert check.status_code == 415
    assert check.json()["message"].startswith("notes.txt: not a media file vax can read")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert upload(client, text).status_code == 415
    assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_upload_of_text_named_mp4_gets_the_cli_message(client, tmp_path):
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video\n" * 50)
    response = upload(client, fake)
    assert response.status_code == 415
    with pytest.raises(NotMedia) as cli_error:  # the message the CLI prints for the same file
        open_media(fake)
    assert response.json()["message"] == cli_error.value.one_line().replace(str(fake), "holiday.mp4")
    assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_oversize_upload_is_refused(tmp_path, media):
    with make_client(tmp_path / "ws", max_upload=10_000) as small:
        check = small.post("/api/upload/check", json={"name": "big.mp4", "size": 50_000})
        assert check.status_code == 413 and "upload limit" in check.json()["message"]
        response = upload(small, media["mp4_aac"])
        assert response.status_code == 413 and "upload limit" in response.json()["message"]
        assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_oversize_upload_without_length_is_cut_off(tmp_path, media):
    with make_client(tmp_path / "ws", max_upload=10_000) as small:
        def chunks():
            with open(media["mp4_aac"], "rb") as source:
                while chunk := source.read(4096):
                    yield chunk

        response = small.post("/api/upload", content=chunks(), headers={"X-File-Name": "a.mp4"})
        assert response.status_code == 413
        assert not [p for p in (tmp_path / "ws" / "uploads").rglob("*") if p.is_file()]


def test_add_by_path_uses_the_file_in_place(client, media):
    response = client.post("/api/files", json={"path": str(media["mp4_aac"])})
    assert response.status_code == 200
    assert response.json()["path"] == str(media["mp4_aac"].resolve())
    assert response.json()["source"] == "path"
    missing = client.post("/api/files", json={"path": str(media["mp4_aac"]) + ".gone"})
    assert missing.status_code == 404 and "no such file" in missing.json()["message"]
    relative = client.post("/api/files", json={"path": "some/video.mp4"})
    assert relative.status_code == 400


# -- requests, jobs, results --------------------------------------------------------------------

@needs_interpreter
def test_interpret_shows_what_it_understood_before_running(client, media):
    file = upload(client, media["mp4_aac"], "phone video.mp4").json()
    found = client.post("/api/interpret", json={"file_id": file["id"], "text": "just the audio as mp3 please"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["intent"] == "extract" and body["unknown"] == []
    assert "mp3" in body["understood"].lower()
    assert body["outputs"] == ["phone video.mp3"]
    assert client.get("/api/state").json()["jobs"] == []  # nothing ran
    odd = client.post("/api/interpret", json={"file_id": file["id"], "text": "as mp3 with reverb"}).json()
    assert any("reverb" in phrase for phrase in odd["unknown"])


@needs_interpreter
def test_contradiction_is_a_clear_error(client, media):
    file = upload(client, media["mp4_aac"]).json()
    response = client.post("/api/interpret", json={"file_id": file["id"], "text": "as mp3 and as flac"})
    assert response.status_code == 400
    assert "mp3" in response.json()["message"] and "flac" in response.json()["message"]


@needs_interpreter
def test_run_progress_result_download_then_refine(client, media, tmp_path):
    file = upload(client, media["mkv_multi"], "film.mkv").json()
    first = run(client, file["id"], "just the audio as mp3 please")
    assert first["kind"] == "jobs" and len(first["jobs"]) == 1
    job, events = wait_job(client, first["jobs"][0]["id"])
    assert job["status"] == "done", job
    assert events[0]["status"] in ("queued", "running") and events[-1]["progress"] == 1.0
    result = job["results"][0]
    assert result["name"] == "film.mp3" and result["format"] == "mp3"
    assert result["lossless_copy"] is False and result["verification"]["codec"] == "mp3"
    downloaded = fetch_output(client, job, tmp_path)
    codec, duration = codec_and_duration(downloaded)
    assert codec.startswith("mp3") and abs(duration - 3.0) < 0.1
    samples, rate = decode_track(downloaded)
    assert abs(dominant_freq(samples, rate) - 880) < 5  # the default track, "Main"
    png = client.get(f"/api/outputs/{job['id']}/{result['waveform']}")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
    inline = client.get(f"/api/outputs/{job['id']}/film.mp3")
    assert inline.headers["content-type"] == "audio/mpeg"

    # Refinements build on the file's last job.
    second, _ = wait_job(client, run(client, file["id"], "now only the first second")["jobs"][0]["id"])
    assert second["status"] == "done", second
    codec, duration = codec_and_duration(fetch_output(client, second, tmp_path))
    assert codec.startswith("mp3") and abs(duration - 1.0) < 0.06
    third, _ = wait_job(client, run(client, file["id"], "as flac instead")["jobs"][0]["id"])
    assert third["status"] == "done", third
    flac = fetch_output(client, third, tmp_path)
    codec, duration = codec_and_duration(flac)
    assert codec == "flac" and abs(duration - 1.0) < 0.06
    samples, rate = decode_track(flac)
    assert abs(dominant_freq(samples, rate) - 880) < 5
    fourth, _ = wait_job(client, run(client, file["id"], "the spanish track")["jobs"][0]["id"])
    samples, rate = decode_track(fetch_output(client, fourth, tmp_path))
    assert abs(dominant_freq(samples, rate) - 990) < 5
    # Every output stays inside the job's own folder of the workspace.
    outputs = tmp_path / "ws" / "outputs"
    for each in (job, second, third, fourth):
        for found in each["results"]:
            assert outputs / each["id"] in Path(found["output"]).parents


@needs_interpreter
def test_requested_name_stays_inside_the_workspace(client, media, tmp_path):
    file = upload(client, media["mp4_aac"]).json()
    reply = run(client, file["id"], "as wav, call it ../../escape.wav")
    job, _ = wait_job(client, reply["jobs"][0]["id"])
    assert job["status"] == "done", job
    assert Path(job["results"][0]["output"]).parent == tmp_path / "ws" / "outputs" / job["id"]
    assert not (tmp_path / "escape.wav").exists()


@needs_interpreter
def test_do_the_same_for_all(client, media, tmp_path):
    a = upload(client, media["mp4_aac"]).json()
    b = upload(client, media["mov_aac"]).json()
    wait_job(client, run(client, a["id"], "as flac")["jobs"][0]["id"])
    reply = run(client, a["id"], "do the same for all")
    assert [j["file_id"] for j in reply["jobs"]] == [b["id"]]
    job, _ = wait_job(client, reply["jobs"][0]["id"])
    flac = fetch_output(client, job, tmp_path)
    assert codec_and_duration(flac)[0] == "flac"
    samples, rate = decode_track(flac)
    assert abs(dominant_freq(samples, rate) - 550) < 5


@needs_interpreter
@pytest.mark.parametrize("text", ["show tracks", "status", "状态"])
def test_status_and_tracks_answer_without_a_job(client, media, text):
    file = upload(client, media["mkv_multi"]).json()
    reply = run(client, file["id"], text)
    assert reply["kind"] == "answer"
    assert "3 audio tracks" in reply["answer"] and "spa" in reply["answer"] and "Commentary" in reply["answer"]
    assert client.get("/api/state").json()["jobs"] == []


@needs_interpreter
@pytest.mark.parametrize("text", ["credits", "积分", "余额"])
def test_credits_with_the_cloud_off_contact_nobody(client, media, text):
    file = upload(client, media["mp4_aac"]).json()
    reply = run(client, file["id"], text)
    assert reply["kind"] == "answer" and "cloud is off" in reply["answer"]


@needs_interpreter
def test_upload_to_the_cloud_needs_the_switch(client, media):
    file = upload(client, media["mp4_aac"]).json()
    response = client.post("/api/run", json={"file_id": file["id"], "text": "上传"})
    assert response.status_code == 403 and "cloud" in response.json()["message"]
    assert client.get("/api/state").json()["jobs"] == []


def long_media(tmp_path: Path) -> Path:
    return make_media(tmp_path / "long.mkv", duration=90.0, tones=[Tone(660, codec="flac", layout="mono")],
                      video=None)


def start_writing(client, tmp_path, path):
    """Add ``path``, start an MP3 job on it and wait until it is writing its temp file."""
    file = client.post("/api/files", json={"path": str(path)}).json()
    job_id = run(client, file["id"], "as mp3")["jobs"][0]["id"]
    deadline = time.monotonic() + 30
    while client.get("/api/state").json()["jobs"][0]["progress"] <= 0.0:
        assert time.monotonic() < deadline, "the job never made progress"
        time.sleep(0.05)
    folder = tmp_path / "ws" / "outputs" / job_id
    assert [p.name for p in folder.iterdir() if ".vax-part-" in p.name]  # it is writing right now
    return file, job_id, folder


@needs_interpreter
def test_cancel_stops_the_job_and_leaves_no_file(client, tmp_path):
    _, job_id, folder = start_writing(client, tmp_path, long_media(tmp_path))
    runner = client.app.app.state.runner
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["cancelled"] is True
    assert response.json()["job"]["status"] == "cancelled"
    runner.wait(job_id, 10)
    assert not folder.exists()
    assert not [p for p in (tmp_path / "ws").rglob("*.vax-part-*")]
    final, _ = wait_job(client, job_id)
    assert final["status"] == "cancelled" and final["results"] == []
    again = client.post(f"/api/jobs/{job_id}/cancel").json()
    assert again["cancelled"] is False


# -- removing one file ---------------------------------------------------------------------------

@needs_interpreter
def test_remove_an_uploaded_file_deletes_its_copy_and_outputs(tmp_path, media):
    workspace = tmp_path / "ws"
    with make_client(workspace) as client:
        gone = upload(client, media["mp4_aac"]).json()
        kept = upload(client, media["wav_audio"]).json()
        done, _ = wait_job(client, run(client, gone["id"], "as wav")["jobs"][0]["id"])
        assert done["status"] == "done"
        outputs = workspace / "outputs" / done["id"]
        assert (outputs / done["results"][0]["name"]).is_file()
        assert Path(gone["path"]).is_file()
        response = client.delete(f"/api/files/{gone['id']}")
        assert response.status_code == 200, response.text
        assert response.json() == {"removed": gone["id"], "name": "mp4_aac.mp4"}
        assert not (workspace / "uploads" / gone["id"]).exists() and not outputs.exists()
        state = client.get("/api/state").json()
        assert [f["id"] for f in state["files"]] == [kept["id"]]
        assert state["jobs"] == []
        assert client.get(f"/api/outputs/{done['id']}/{done['results'][0]['name']}").status_code == 404
        assert Path(kept["path"]).read_bytes() == media["wav_audio"].read_bytes()
        again = client.delete(f"/api/files/{gone['id']}")
        assert again.status_code == 404
    saved = json.loads((workspace / "session.json").read_text())
    assert gone["id"] not in json.dumps(saved)
    with make_client(workspace) as restarted:
        state = restarted.get("/api/state").json()
        assert [f["id"] for f in state["files"]] == [kept["id"]] and state["jobs"] == []


@needs_interpreter
def test_remove_a_path_file_cancels_its_job_and_keeps_the_original(client, tmp_path):
    original = long_media(tmp_path)
    before = original.read_bytes()
    file, job_id, folder = start_writing(client, tmp_path, original)
    response = client.delete(f"/api/files/{file['id']}")
    assert response.status_code == 200, response.text
    client.app.app.state.runner.wait(job_id, 10)
    assert not folder.exists()
    assert not [p for p in (tmp_path / "ws").rglob("*.vax-part-*")]
    state = client.get("/api/state").json()
    assert state["files"] == [] and state["jobs"] == []
    assert original.read_bytes() == before


def test_remove_an_unknown_file_is_a_json_404(client, media):
    file = client.post("/api/files", json={"path": str(media["mp4_aac"])}).json()
    response = client.delete("/api/files/f0000000000")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "message"}
    assert "no such file in this session" in response.json()["message"]
    for file_id in ("..", "%2E%2E%2Fsession.json", "f0000000000%2F..%2F.."):
        response = client.delete(f"/api/files/{file_id}")
        assert response.status_code == 404, file_id
        assert response.json()["message"] and "Traceback" not in response.text
    assert [f["id"] for f in client.get("/api/state").json()["files"]] == [file["id"]]
    assert (client.app.app.state.session.root / "session.json").is_file()


@pytest.mark.parametrize("headers", [{"X-Vax-Token": "wrong"}, {"Origin": "http://evil.example"},
                                     {"Host": "evil.example:8765"}])
def test_remove_is_guarded_like_the_other_routes(tmp_path, media, headers):
    workspace = tmp_path / "ws"
    with make_client(workspace) as owner:
        file = upload(owner, media["mp4_aac"]).json()
    app = create_app(workspace, token=TOKEN)
    with TestClient(app, base_url=BASE, headers={"X-Vax-Token": TOKEN} if "X-Vax-Token" not in headers else {}) as other:
        response = other.delete(f"/api/files/{file['id']}", headers=headers)
        assert response.status_code == 403 and "refused" in response.json()["message"]
        assert [f["id"] for f in other.get("/api/state", headers={"X-Vax-Token": TOKEN}).json()["files"]] == [file["id"]]
    assert Path(file["path"]).is_file()


# -- outputs and the workspace ------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/outputs/j0123456789/..%2F..%2Fsession.json",
    "/api/outputs/j0123456789/%2E%2E",
    "/api/outputs/..%2F..%2Fuploads/x.mp4",
    "/api/outputs/j0123456789/sub%2Ffile.mp3",
])
def test_path_traversal_is_refused(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert "session" not in response.text.lower() or "refused" in response.json()["message"]
    assert response.json()["message"]


def test_traversal_is_refused_with_a_message(client):
    response = client.get("/api/outputs/j0123456789/..%2Fsession.json")
    assert response.status_code == 400 and "refused" in response.json()["message"]


@needs_interpreter
def test_session_survives_a_restart_and_can_be_cleared(tmp_path, media):
    workspace = tmp_path / "ws"
    with make_client(workspace) as first:
        file = upload(first, media["mp4_aac"]).json()
        done, _ = wait_job(first, run(first, file["id"], "as wav")["jobs"][0]["id"])
        assert done["status"] == "done"
    with make_client(workspace) as second:
        state = second.get("/api/state").json()
        assert [f["id"] for f in state["files"]] == [file["id"]]
        assert state["jobs"][0]["results"][0]["name"] == done["results"][0]["name"]
        assert second.get(f"/api/outputs/{done['id']}/{done['results'][0]['name']}").status_code == 200
        # a follow-up after the restart still refines the last job
        refined, _ = wait_job(second, run(second, file["id"], "now only the first second")["jobs"][0]["id"])
        assert refined["results"][0]["format"] == "wav"
        assert second.delete("/api/session").json() == {"cleared": True}
        state = second.get("/api/state").json()
        assert state["files"] == [] and state["jobs"] == []
        assert not [p for p in (workspace / "uploads").rglob("*") if p.is_file()]
        assert not [p for p in (workspace / "outputs").rglob("*") if p.is_file()]
    assert media["mp4_aac"].exists()


def test_a_job_running_at_shutdown_is_marked_interrupted(tmp_path):
    from extractor.web.session import Session

    session = Session(tmp_path / "ws")
    session.add_job(file_id="f1", request="as mp3", options={}, understood="", job_id="j0000000001")
    folder = session.job_folder("j0000000001")
    folder.mkdir(parents=True)
    (folder / ".clip.vax-part-abcd.mp3").write_bytes(b"half")
    reopened = Session(tmp_path / "ws")
    assert reopened.job("j0000000001")["status"] == "interrupted"
    assert not list(folder.iterdir())


def test_waveform_png_is_valid(tmp_path, media):
    import zlib

    from extractor.waveform import HEIGHT, WIDTH, draw, peaks, png_bytes

    samples, _ = decode_track(media["wav_audio"])
    levels = peaks(media["wav_audio"], samples.shape[1])
    assert levels.shape == (WIDTH, 2)
    assert np.allclose(levels[5:-5, 1], samples.max(), atol=0.02)  # a steady sine fills every column
    data = png_bytes(draw(levels))
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (WIDTH, HEIGHT)
    idat_length = int.from_bytes(data[33:37], "big")
    raw = zlib.decompress(data[41:41 + idat_length])
    assert len(raw) == HEIGHT * (1 + WIDTH * 4)


@needs_interpreter
def test_loudness_is_reported_with_the_result(client, media):
    file = upload(client, media["mp4_aac"]).json()
    first, _ = wait_job(client, run(client, file["id"], "as wav")["jobs"][0]["id"])
    assert first["results"][0]["verification"].get("loudness_lufs") is None
    job, _ = wait_job(client, run(client, file["id"], "podcast loudness")["jobs"][0]["id"])
    assert job["status"] == "done", job
    assert abs(job["results"][0]["verification"]["loudness_lufs"] - (-16.0)) < 1.0
    assert job["results"][0]["format"] == "wav"  # the refinement kept the format
