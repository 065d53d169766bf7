"""`vax bench`: the same job locally and through the cloud (the fake NemoVideo server with a
simulated network) or Debian's ffmpeg, each output verified and the outputs compared.

The fake server echoes the upload as its render, so a cloud output of a decodable MP4 must
decode exactly like the local one; a render of another tone must be reported as different.
Each simulated cost (latency, bandwidth, render time) is a known lower bound for its phase.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli.app import cli
from extractor.units import human_size
from fixtures.generate import Tone, Video, decode_track, dominant_freq, make_media
from tests.fakenemo import FakeNemo, Network

NET = Network(latency=0.005, upload_bps=1e6, download_bps=2e6, render_per_minute=4.0)  # 2 s clip: 0.13 s render


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench-media")
    return {
        "a": make_media(folder / "a.mp4", duration=2.0, tones=[Tone(440.0)], video=Video()),
        "b": make_media(folder / "b.mp4", duration=2.0, tones=[Tone(550.0)], video=Video()),
        "other": make_media(folder / "other.mp4", duration=2.0, tones=[Tone(660.0)], video=Video()),
    }


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("NEMO_TOKEN", "VAX_ALLOW_CLOUD", "VAX_REMOTE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAX_REMOTE_POLL_INTERVAL", "0.01")
    monkeypatch.setenv("VAX_REMOTE_BACKOFF", "0")


def vax(*args, input=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    return result.exit_code, result.stdout, result.stderr


def remote_bench(fake, *args, input=None):
    return vax("bench", *args, "--remote", "--remote-url", fake.url, input=input)


def test_remote_phases_add_up_to_the_wall_time_and_outputs_match(media, env, tmp_path):
    kept = tmp_path / "kept"
    with FakeNemo(network=NET, credits_per_render=2) as fake:
        code, out, err = remote_bench(fake, media["a"], "--allow-cloud", "--yes", "--rounds", "2", "--json",
                                      "-o", f"{kept}/")
    assert code == 0, err
    data = json.loads(out)
    entry = data["files"][0]
    remote = [r for r in entry["runs"] if r["backend"] == "remote"]
    assert len(remote) == 2 and len([r for r in entry["runs"] if r["backend"] == "local"]) == 2
    size = Path(media["a"]).stat().st_size
    for run in remote:
        phases = run["phases"]
        # What the backend and the pipeline timed themselves (leaving out the gap the bench fills in
        # as "unaccounted") must cover the wall time: a step nobody timed would show up here.
        timed = sum(seconds for phase, seconds in phases.items() if phase != "unaccounted")
        assert abs(timed - run["wall"]) <= 0.05 * run["wall"], phases
        assert list(phases)[:7] == ["prepare", "session", "upload", "agent", "render", "download", "extract"]
        # Each simulated cost is a floor for its own phase: the phases are where the time went.
        assert phases["upload"] >= size / NET.upload_bps
        assert phases["download"] >= size / NET.download_bps
        assert phases["render"] >= 2.0 / 60 * NET.render_per_minute
        assert run["transferred"] == {"upload": size, "download": size}
        assert run["credits"] == 2
    figures = entry["backends"]["remote"]
    assert figures["credits_per_run"] == 2
    assert 0 < figures["rates_mb_s"]["upload"] <= NET.upload_bps / 1e6
    assert entry["ratio_local_to_remote"] == pytest.approx(
        entry["backends"]["local"]["wall"]["median"] / figures["wall"]["median"], rel=1e-2)
    assert data["summary"]["remote"]["runs"] == 2
    # Verified outputs, kept where asked, both carrying the source's tone, and compared sample by sample.
    [comparison] = entry["comparisons"]
    assert comparison["same_format"] and comparison["audio"]["identical"]
    assert comparison["audio"]["samples"] > 0
    for run in entry["runs"]:
        samples, rate = decode_track(Path(run["outputs"][0]))
        assert abs(dominant_freq(samples, rate) - 440.0) < 3
    assert sorted(p.name for p in kept.iterdir()) == sorted(
        f"a-1-{b}-r{n}.m4a" for b in ("local", "remote") for n in (1, 2))


def test_the_table_shows_phases_ratio_summary_and_a_difference(media, env):
    with FakeNemo(media["other"], network=NET) as fake:  # the cloud "renders" another tone
        code, out, err = remote_bench(fake, media["a"], "--allow-cloud", "--yes", "--rounds", "1")
    assert code == 0, err
    for words in ("auth+session", "upload", "MB/s", "agent", "render queue+render", "download", "local/remote",
                  "summary", "median", "min", "max", "decoded audio differs", "SNR"):
        assert words in out, (words, out)


def test_confirmation_is_asked_and_no_answer_uploads_nothing(media, env):
    with FakeNemo(network=NET) as fake:
        code, _out, err = remote_bench(fake, media["a"], media["b"], "--allow-cloud", "--rounds", "2",
                                       input="n\n")
        size = sum(Path(media[k]).stat().st_size for k in ("a", "b"))
        assert code == 2 and "Upload and spend credits?" in err and "declined" in err
        assert f"uploads 2 file(s), {human_size(size)}," in err and f"({human_size(2 * size)} in all)" in err
        code, _out, err = remote_bench(fake, media["a"], "--allow-cloud", input="")  # no stdin
        assert code == 2 and "--yes" in err
        assert fake.count("upload") == 0 and fake.requests == []
        code, _out, err = remote_bench(fake, media["a"], "--allow-cloud", "--rounds", "1", input="y\n")
        assert code == 0, err
        assert fake.count("upload") == 1
        code, _out, err = remote_bench(fake, media["a"], "--allow-cloud", "--rounds", "1", "--yes")
        assert code == 0 and "Upload and spend credits?" not in err
        assert fake.count("upload") == 2


def test_remote_needs_the_upload_permission(media, env):
    with FakeNemo(network=NET) as fake:
        code, _out, err = remote_bench(fake, media["a"], "--yes")
        assert code == 13 and "permission" in err
        assert fake.requests == []


def test_a_credits_error_mid_run_stops_and_leaves_no_partial_file(media, env, tmp_path):
    kept = tmp_path / "kept"
    with FakeNemo(network=NET, credits_per_render=1) as fake:
        fake.credits["available"] = 1  # the first render is paid for, the second is not
        code, out, err = remote_bench(fake, media["a"], media["b"], "--allow-cloud", "--yes", "--rounds", "3",
                                      "-o", f"{kept}/")
        assert fake.count("render_start") == 2
    assert code == 12
    assert "no NemoVideo credits left" in err and "register" in err
    assert "a.mp4" in out and "summary" in out  # what ran before the error is still reported
    # a.mp4 ran both ways; b.mp4 locally only: no partial cloud output, no temporary folder.
    assert sorted(p.name for p in kept.iterdir()) == ["a-1-local-r1.m4a", "a-1-remote-r1.m4a", "b-1-local-r1.m4a"]


def test_without_remote_it_compares_with_ffmpeg_when_installed(media, env, tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("Debian's ffmpeg CLI is not installed")
    kept = tmp_path / "kept"
    code, out, err = vax("bench", media["a"], "-f", "flac", "--rounds", "1", "--json", "-o", f"{kept}/")
    assert code == 0, err
    entry = json.loads(out)["files"][0]
    assert {r["backend"] for r in entry["runs"]} == {"local", "ffmpeg"}
    [comparison] = entry["comparisons"]
    assert comparison["same_format"] and comparison["format"]["codec"] == "flac"
    # The comparison's figures are the decoded files' own (decoded here independently).
    theirs, _ = decode_track(Path(kept / "a-1-ffmpeg-r1.flac"))
    ours, rate = decode_track(Path(kept / "a-1-local-r1.flac"))
    audio = comparison["audio"]
    assert (audio["samples"], audio["reference_samples"]) == (theirs.shape[-1], ours.shape[-1])
    assert comparison["duration_difference"] == pytest.approx((theirs.shape[-1] - ours.shape[-1]) / rate, abs=1e-6)
    # Both are lossless decodes of the same AAC: where they overlap they agree to within a 16-bit step or so.
    assert audio["max_difference_db"] is None or audio["max_difference_db"] < -80


def test_without_ffmpeg_it_says_how_to_install_it(media, env, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find
    code, out, err = vax("bench", media["a"], "--rounds", "1")
    assert code == 0, err
    assert "ffmpeg CLI is not installed" in err and "apt-get install ffmpeg" in err
    assert "local" in out and "summary" in out


def test_chart_without_matplotlib_is_a_clear_error_before_any_run(media, env, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with FakeNemo(network=NET) as fake:
        code, _out, err = remote_bench(fake, media["a"], "--allow-cloud", "--yes", "--chart", tmp_path / "c.png")
        assert code == 2 and "matplotlib" in err and "bench" in err
        assert fake.requests == []
    assert not (tmp_path / "c.png").exists()


def test_chart_is_drawn_when_matplotlib_is_installed(media, env, tmp_path):
    pytest.importorskip("matplotlib")
    code, _out, err = vax("bench", media["a"], "--rounds", "1", "--chart", tmp_path / "c.png")
    assert code == 0, err
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_refuses_a_backend_choice_and_an_output_file(media, env):
    assert vax("bench", media["a"], "--backend", "local")[0] == 2
    assert vax("bench", media["a"], "-o", "out.m4a")[0] == 2


def test_a_lost_session_shows_as_its_own_phase_and_the_phases_still_add_up(media, env):
    with FakeNemo(network=NET) as fake:
        fake.inject("upload", ("code", 1002))
        code, out, err = remote_bench(fake, media["a"], "--allow-cloud", "--yes", "--rounds", "1", "--json")
        assert fake.count("session") == 2
    assert code == 0, err
    [run] = [r for r in json.loads(out)["files"][0]["runs"] if r["backend"] == "remote"]
    assert run["phases"]["lost session"] >= NET.latency  # the refused upload's round trip
    timed = sum(seconds for phase, seconds in run["phases"].items() if phase != "unaccounted")
    assert abs(timed - run["wall"]) <= 0.05 * run["wall"]


def test_a_plan_error_stops_the_bench_with_the_documented_message(media, env, tmp_path):
    kept = tmp_path / "kept"
    with FakeNemo(network=NET) as fake:
        fake.inject("render_start", ("http", 402))
        code, out, err = remote_bench(fake, media["a"], media["b"], "--allow-cloud", "--yes", "-o", f"{kept}/",
                                      "--json")
        assert fake.count("upload") == 1  # nothing more was uploaded after the refusal
    assert code == 12 and "register or upgrade your plan to unlock export" in err
    data = json.loads(out)  # the figures so far, and what stopped the bench
    assert "unlock export" in data["error"] and [r["backend"] for r in data["files"][0]["runs"]] == ["local"]
    assert sorted(p.name for p in kept.iterdir()) == ["a-1-local-r1.m4a"]


def test_compare_reports_a_shorter_output_in_samples(media, tmp_path):
    from extractor.api import extract
    from extractor.benchmark.compare import compare_outputs

    whole = extract(media["a"], format="wav", output=str(tmp_path / "whole.wav"))[0].output
    part = extract(media["a"], format="wav", duration="1.5", output=str(tmp_path / "part.wav"))[0].output
    same = compare_outputs(whole, whole)
    assert same["audio"]["identical"] and same["duration_difference"] == 0
    shorter = compare_outputs(part, whole)
    rate = shorter["format"]["sample_rate"]
    assert shorter["audio"]["length_difference"] == -round(0.5 * rate)
    assert shorter["duration_difference"] == pytest.approx(-0.5, abs=1e-6)
    assert shorter["audio"]["max_difference_db"] is None  # the common 1.5 s are the same samples
    assert not shorter["audio"]["identical"]


def test_compare_finds_extra_samples_at_the_start(tmp_path):
    import numpy as np
    import soundfile

    from extractor.benchmark.compare import compare_outputs, describe

    rate = 48000
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * np.arange(rate) / rate)).astype("float32")
    soundfile.write(tmp_path / "plain.wav", tone, rate, subtype="PCM_16")
    soundfile.write(tmp_path / "primed.wav", np.concatenate([np.zeros(1024, "float32"), tone]), rate,
                    subtype="PCM_16")
    primed = compare_outputs(tmp_path / "primed.wav", tmp_path / "plain.wav")
    assert primed["audio"]["length_difference"] == 1024 and primed["audio"]["lead"] == 1024
    assert primed["audio"]["max_difference_db"] is None
    assert "+1024 samples at the start, the others are equal" in describe(primed)
    # The other way round: the reference is the longer one.
    assert compare_outputs(tmp_path / "plain.wav", tmp_path / "primed.wav")["audio"]["lead"] == -1024
