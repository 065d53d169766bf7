"""The cloud fallback end to end, against the fake NemoVideo server (tests/fakenemo.py).

The input is a Matroska file whose audio no local decoder can read (fixtures/undecodable.py,
a 440 Hz tone nobody can hear); the fake service "renders" it into an MP4 carrying a 660 Hz
tone. So a 660 Hz output proves the audio really came through the cloud path, and the format
the user asked for proves the local engine re-extracted it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from backends.local import LocalBackend
from backends.remote import RemoteBackend
from backends.remote import job as remote_job
from extractor import extract
from extractor.cli.app import cli
from extractor.errors import RemoteError
from fixtures.generate import Tone, Video, decode_track, dominant_freq, make_media
from fixtures.undecodable import make_undecodable
from tests.fakenemo import FakeNemo

SOURCE_TONE, RENDER_TONE = 440.0, 660.0


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cloud-media")
    return {
        "undecodable": make_undecodable(folder / "odd.mkv", duration=2.0, freq=SOURCE_TONE),
        "render": make_media(folder / "render.mp4", duration=2.0, tones=[Tone(RENDER_TONE)], video=Video()),
        "normal": make_media(folder / "normal.mp4", duration=2.0, tones=[Tone(880.0)], video=Video()),
    }


@pytest.fixture()
def env(tmp_path, monkeypatch):
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    for name in ("NEMO_TOKEN", "VAX_ALLOW_CLOUD", "VAX_REMOTE_URL", "SKILL_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (("VAX_REMOTE_POLL_INTERVAL", "0.01"), ("VAX_REMOTE_BACKOFF", "0"),
                        ("VAX_REMOTE_RATE_LIMIT_WAIT", "0")):
        monkeypatch.setenv(name, value)
    return config / "vax"


@pytest.fixture()
def fake(media):
    with FakeNemo(media["render"]) as server:
        yield server


@pytest.fixture()
def work(tmp_path, media):
    """A private folder holding a copy of the undecodable input: outputs land beside it."""
    folder = tmp_path / "work"
    folder.mkdir()
    copy = folder / "clip.mkv"
    copy.write_bytes(media["undecodable"].read_bytes())
    return copy


def vax(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def cloud(fake, src, *more):
    return vax("extract", src, "--allow-cloud", "--remote-url", fake.url, *more)


def leftovers(folder: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def assert_tone(path: Path, freq: float) -> None:
    samples, rate = decode_track(path)
    assert abs(dominant_freq(samples, rate) - freq) < 3


# -- the happy path --------------------------------------------------------------------------------

def test_cloud_fallback_end_to_end_mp3(fake, work, env):
    code, out, err = cloud(fake, work, "-f", "mp3")
    assert code == 0, err
    output = work.with_suffix(".mp3")
    assert_tone(output, RENDER_TONE)
    assert "remote backend" in out and "verified: mp3" in out
    assert leftovers(work.parent, "clip.mkv", "clip.mp3") == []
    # The whole protocol, in order, once each (polls aside).
    order = [r.endpoint for r in fake.requests if r.endpoint != "render_poll"]
    assert order == ["anon", "session", "upload", "sse", "state", "render_start", "cdn"]
    assert fake.state.uploads[0][1:] == ("clip.mkv", work.stat().st_size)
    assert len(fake.state.messages) == 1


def test_every_request_carries_attribution_and_auth(fake, work, env, monkeypatch):
    monkeypatch.setenv("SKILL_SOURCE", "clawhub")
    assert cloud(fake, work, "-f", "wav")[0] == 0
    for request in fake.requests:
        assert request.headers["x-skill-source"] == "video-audio-extractor"
        assert request.headers["x-skill-version"]
        assert request.headers["x-skill-platform"] == "clawhub"
        if request.endpoint == "anon":
            assert request.headers["x-client-id"] and "authorization" not in request.headers
        elif request.endpoint == "cdn":  # another host: the token stays home
            assert "authorization" not in request.headers
        else:
            assert request.headers["authorization"].startswith("Bearer nmv_usr_")


def test_json_result_names_the_backend_and_the_effective_plan(fake, work, env):
    code, out, _ = cloud(fake, work, "--json")
    assert code == 0
    import json

    result = json.loads(out)
    assert result["backend"] == "remote" and result["backend_reason"].startswith("cloud fallback")
    assert result["output"].endswith("clip.mka")  # -f auto: the format the plan chose for an unknown codec
    assert result["plan"]["codec"] == result["verification"]["codec"] == "aac"


def test_token_is_cached_privately_and_reused(fake, work, env, tmp_path):
    assert cloud(fake, work, "-f", "wav")[0] == 0
    token_file = env / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((env / "client_id").stat().st_mode) == 0o600
    assert cloud(fake, work, "-f", "flac")[0] == 0
    assert fake.count("anon") == 1  # the second job used the cached token


def test_api_with_trim_and_status_messages(fake, work, env):
    said = []
    backends = {"local": LocalBackend(), "remote": RemoteBackend(status=said.append)}
    fake.sse_style = "silent"
    fake.render_polls = 2
    result = extract(work, backends=backends, allow_cloud=True, remote_url=fake.url, format="wav",
                     start="0.5", end="1.5")[0]
    assert result.backend == "remote"
    assert abs(result.verification.duration - 1.0) < 0.01
    assert_tone(result.output, RENDER_TONE)
    assert any("still working" in m for m in said)
    assert any("rendering in the cloud" in m for m in said)


def test_backend_remote_forces_the_cloud_for_a_decodable_file(fake, media, env, tmp_path):
    src = tmp_path / "normal.mp4"
    src.write_bytes(media["normal"].read_bytes())
    code, out, err = vax("extract", src, "--backend", "remote", "--remote-url", fake.url, "-f", "wav")
    assert code == 0, err
    assert_tone(src.with_suffix(".wav"), RENDER_TONE)
    assert "remote backend" in out


# -- permission and refusals before any upload -----------------------------------------------------

def test_auto_without_permission_exits_13_and_uploads_nothing(fake, work, env):
    code, _out, err = vax("extract", work, "--remote-url", fake.url, "-f", "mp3")
    assert code == 13
    assert "can render it to MP4" in err and "--allow-cloud" in err and "VAX_ALLOW_CLOUD=1" in err
    assert fake.requests == []
    assert leftovers(work.parent, "clip.mkv") == []


def test_standing_permission_from_the_environment(fake, work, env, monkeypatch):
    monkeypatch.setenv("VAX_ALLOW_CLOUD", "1")
    monkeypatch.setenv("VAX_REMOTE_URL", fake.url)
    code, _, err = vax("extract", work, "-f", "wav")
    assert code == 0, err
    assert fake.count("upload") == 1


def test_backend_local_refuses_the_undecodable_track(fake, work, env):
    code, _, err = vax("extract", work, "--backend", "local", "--allow-cloud", "--remote-url", fake.url)
    assert code == 7 and "no decoder" in err
    assert fake.requests == []


def test_refused_before_upload_when_too_large(fake, env, tmp_path, media):
    big = tmp_path / "big.mp4"
    big.write_bytes(media["normal"].read_bytes())
    os.truncate(big, 501 * 1000**2)  # sparse: costs no disk; the MP4 demuxer skips the trailing zeros
    code, _, err = vax("extract", big, "--backend", "remote", "--remote-url", fake.url, "-f", "mp3")
    assert code == 7 and "500 MB upload limit" in err and "trim or compress" in err
    assert fake.requests == []


def test_refused_before_upload_when_type_not_accepted(fake, env, tmp_path, media):
    odd = tmp_path / "clip.mka"  # Matroska audio: the service takes .mkv but not .mka
    odd.write_bytes(media["undecodable"].read_bytes())
    code, _, err = cloud(fake, odd, "-f", "mp3")
    assert code == 7 and "accepts only" in err
    assert fake.requests == []


def test_plain_http_to_another_host_is_refused(work, env):
    code, _, err = vax("extract", work, "--allow-cloud", "--remote-url", "http://nemo.example:8080", "-f", "mp3")
    assert code == 2 and "plain HTTP" in err


def test_upload_is_streamed_from_disk(fake, work, env, monkeypatch):
    reads = []
    real_open = open

    class Spy:
        def __init__(self, handle):
            self.handle = handle

        def read(self, size=-1):
            reads.append(size)
            return self.handle.read(size)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(remote_job, "open", lambda path, mode="r": Spy(real_open(path, mode)), raising=False)
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert reads and all(0 < size <= 1024 * 1024 for size in reads)  # chunks, never read(-1)
    assert fake.of("upload")[0].body_size > work.stat().st_size


# -- faults ----------------------------------------------------------------------------------------

def test_rate_limit_waits_and_retries_once(fake, work, env):
    fake.inject("anon", ("http", 429))
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("anon") == 2


def test_rate_limit_twice_is_a_clear_error(fake, work, env):
    fake.inject("anon", ("http", 429), ("http", 429))
    code, _, err = cloud(fake, work, "-f", "wav")
    assert code == 12 and "rate-limiting" in err
    assert fake.count("anon") == 2


def test_expired_token_reauthenticates_once(fake, work, env):
    fake.inject("render_start", ("code", 1001))
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("anon") == 2 and fake.count("render_start") == 2


def test_stale_cached_token_is_replaced(fake, work, env):
    from backends.remote import config

    config.save_token(fake.url, config.CachedToken("nmv_usr_long_gone", user_id="anon_old"))
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert config.load_token(fake.url).token in fake.state.tokens


def test_lost_session_starts_a_new_one_once(fake, work, env):
    fake.inject("upload", ("code", 1002))
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("session") == 2 and len(fake.state.uploads) == 1


def test_session_lost_twice_is_an_error(fake, work, env):
    fake.inject("upload", ("code", 1002), ("code", 1002))
    code, _, err = cloud(fake, work, "-f", "wav")
    assert code == 12 and "lost twice" in err


def test_no_credits_gives_the_registration_link(fake, work, env):
    fake.inject("render_start", ("code", 2001))
    code, _, err = cloud(fake, work, "-f", "mp3")
    user = next(iter(fake.state.tokens.values()))
    assert code == 12 and "no NemoVideo credits" in err
    assert f"https://nemovideo.com/register?bind={user}" in err
    assert leftovers(work.parent, "clip.mkv") == []


def test_export_402_asks_to_upgrade_not_for_credits(fake, work, env):
    fake.inject("render_start", ("http", 402))
    code, _, err = cloud(fake, work, "-f", "mp3")
    assert code == 12 and "register or upgrade your plan to unlock export" in err
    assert "credits" not in err.replace("not a credits problem", "")


@pytest.mark.parametrize("code, words", [(4001, "accepts mp4, mov"), (4002, "trim it")])
def test_upload_error_codes(fake, work, env, code, words):
    fake.inject("upload", ("code", code))
    status, _, err = cloud(fake, work, "-f", "mp3")
    assert status == 12 and words in err


def test_missing_client_id_regenerates_it_once(fake, work, env):
    from backends.remote import config

    before = config.client_id()
    fake.inject("anon", ("http", 400, {"code": 400, "message": "X-Client-Id missing"}))
    assert cloud(fake, work, "-f", "wav")[0] == 0
    after = config.client_id()
    assert after != before and fake.state.client_ids == [after]


@pytest.mark.parametrize("fault", [("http", 503), ("drop",)])
def test_server_errors_and_dropped_connections_are_retried(fake, work, env, fault):
    fake.inject("session", fault, fault)
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("session") == 3


def test_persistent_server_errors_give_up(fake, work, env):
    fake.inject("state", *[("http", 502)] * 3)
    code, _, err = cloud(fake, work, "-f", "wav")
    assert code == 12 and "keeps failing" in err and "3 attempts" in err
    assert leftovers(work.parent, "clip.mkv") == []


@pytest.mark.parametrize("style", ["adk", "silent"])
def test_stream_shapes_and_quiet_streams(fake, work, env, style):
    fake.sse_style = style
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("state") >= 1 and fake.count("sse") == 1


def test_stream_that_changes_nothing_is_an_error_and_not_resent(fake, work, env):
    fake.sse_style = "nothing"
    code, _, err = cloud(fake, work, "-f", "wav")
    assert code == 12 and "did not put the video on its timeline" in err
    assert fake.count("sse") == 1 and fake.count("state") == 3
    assert fake.count("render_start") == 0


def test_heartbeats_alone_give_up_then_read_the_state(fake, work, env, monkeypatch):
    monkeypatch.setenv("VAX_REMOTE_HEARTBEAT_GIVEUP", "0.2")
    fake.sse_style = "heartbeats_forever"
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("sse") == 1


def test_render_failure_writes_nothing(fake, work, env):
    fake.render_fail = True
    code, _, err = cloud(fake, work, "-f", "mp3")
    assert code == 12 and "cloud render failed" in err
    assert leftovers(work.parent, "clip.mkv") == []


def test_slow_render_is_polled_until_done(fake, work, env):
    fake.render_polls = 6
    assert cloud(fake, work, "-f", "wav")[0] == 0
    assert fake.count("render_poll") == 7


def test_render_that_never_finishes_times_out(fake, work, env, monkeypatch):
    monkeypatch.setenv("VAX_REMOTE_RENDER_TIMEOUT", "0.2")
    fake.render_polls = 10_000
    code, _, err = cloud(fake, work, "-f", "wav")
    assert code == 12 and "did not finish" in err
    assert leftovers(work.parent, "clip.mkv") == []


def test_download_dropped_midway_is_retried(fake, work, env):
    fake.inject("cdn", ("drop",))
    assert cloud(fake, work, "-f", "mp3")[0] == 0
    assert fake.count("cdn") == 2
    assert_tone(work.with_suffix(".mp3"), RENDER_TONE)


def test_download_dropped_every_time_leaves_no_partial_file(fake, work, env):
    fake.inject("cdn", *[("drop",)] * 3)
    code, _, err = cloud(fake, work, "-f", "mp3")
    assert code == 12 and "download" in err
    assert leftovers(work.parent, "clip.mkv") == []


def test_download_over_the_cap_is_refused(fake, work, env, monkeypatch):
    monkeypatch.setenv("VAX_REMOTE_DOWNLOAD_CAP", "1000")
    code, _, err = cloud(fake, work, "-f", "mp3")
    assert code == 12 and "limit" in err
    assert leftovers(work.parent, "clip.mkv") == []


@pytest.mark.parametrize("where, envelope", [("output.url", "bare"), ("data.output.url", "success"),
                                             ("data.outputUrl", "code"), ("none", "success")])
def test_render_answer_variants(fake, work, env, where, envelope):
    fake.url_location, fake.render_envelope = where, envelope
    assert cloud(fake, work, "-f", "wav")[0] == 0
    if where == "none":  # no URL given: the service's own download endpoint, with the bearer token
        assert fake.count("download") == 1 and fake.of("download")[0].headers["authorization"].startswith("Bearer")


# -- secrets ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [("render_start", ("code", 2001)), ("state", ("http", 500)),
                                   ("render_start", ("http", 402))])
def test_tokens_never_printed_even_with_debug(fake, work, env, fault):
    fake.inject(fault[0], *[fault[1]] * 3)
    code, out, err = vax("--debug", "extract", work, "--allow-cloud", "--remote-url", fake.url, "-f", "mp3")
    assert code == 12
    assert fake.state.tokens
    for token in fake.state.tokens:
        assert token not in out and token not in err
    assert "Traceback" in err  # --debug did print a traceback: and still no token in it


def test_nemo_token_from_env_is_used_and_scrubbed_from_server_messages(fake, work, env, monkeypatch):
    secret = "nmv_usr_from_the_environment_123"
    monkeypatch.setenv("NEMO_TOKEN", secret)
    fake.state.tokens[secret] = "user_registered"
    fake.inject("render_start", ("http", 409, {"code": 5000, "message": f"token {secret} is not allowed here"}))
    code, out, err = vax("--debug", "extract", work, "--allow-cloud", "--remote-url", fake.url, "-f", "mp3")
    assert code == 12 and "<token>" in err
    assert secret not in out + err
    assert fake.count("anon") == 0


def test_rejected_nemo_token_is_a_clear_error(fake, work, env, monkeypatch):
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_revoked_456")
    code, out, err = vax("--debug", "extract", work, "--allow-cloud", "--remote-url", fake.url, "-f", "mp3")
    assert code == 12 and "NEMO_TOKEN" in err
    assert "nmv_usr_revoked_456" not in out + err


# -- credits ---------------------------------------------------------------------------------------

def test_credits_command(fake, env):
    fake.credits = {"available": 70, "frozen": 30}
    code, out, err = vax("credits", "--remote-url", fake.url)
    assert code == 0, err
    assert "available: 70" in out and "frozen:    30" in out and "total:     100" in out
    assert fake.state.uploads == []


def test_credits_json_and_errors(fake, env):
    import json

    code, out, _ = vax("credits", "--remote-url", fake.url, "--json")
    assert code == 0 and json.loads(out)["total"] == 100 and json.loads(out)["anonymous"] is True
    fake.inject("credits", *[("http", 503)] * 3)
    code, _, err = vax("credits", "--remote-url", fake.url)
    assert code == 12 and "keeps failing" in err


def test_remote_error_is_a_connection_error():
    assert issubclass(RemoteError, ConnectionError)
