"""`vax do "REQUEST" FILE...` end to end: what it prints, what it writes, and when it refuses."""

from __future__ import annotations

import json

import av
import pytest
from click.testing import CliRunner

from extractor.policy import canonical_codec
from fixtures.generate import TONES, decode_track, dominant_freq


def _audio_of(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return canonical_codec(stream.codec_context.name), stream.codec_context.channels


def test_dry_run_json_prints_the_spec_and_writes_nothing(run_vax, media, tmp_path):
    out = tmp_path / "out.mp3"
    code, stdout, stderr = run_vax("do", "the Spanish track as mp3 320k from 0:01 to 0:02", media["mkv_multi"],
                                   "-o", out, "--dry-run", "--json")
    assert code == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert len(lines) == 1 and lines[0]["status"] == "dry-run"
    spec = lines[0]["spec"]
    assert (spec["tracks"]["language"], spec["format"], spec["bitrate"], spec["start"], spec["end"]) == (
        "spa", "mp3", 320000, 1.0, 2.0)
    assert lines[0]["plans"][0]["track"] == 2
    assert "Understood: Extract the Spanish (spa) track from 00:01 to 00:02 as MP3 320 kbps" in stderr
    assert not out.exists()


def test_a_real_run_writes_the_asked_track_and_format(run_vax, media, tmp_path):
    out = tmp_path / "spanish.flac"
    code, stdout, stderr = run_vax("do", "please rip the spanish track as flac, mono", media["mkv_multi"], "-o", out)
    assert code == 0, stderr
    assert stdout.splitlines()[0] == "Understood: Extract the Spanish (spa) track as FLAC mono"
    assert "Extract track 2 (spa, AC-3) as FLAC 16-bit, mono -> " in stdout
    assert _audio_of(out) == ("flac", 1)
    samples, rate = decode_track(out)
    assert dominant_freq(samples, rate) == pytest.approx(TONES["mkv_multi_spanish"], abs=2)


def test_the_commentary_by_title_and_a_time_range(run_vax, media, tmp_path):
    out = tmp_path / "talk.mp3"
    code, _, stderr = run_vax("do", "the commentary, the first 2 seconds, call it talk.mp3", media["mkv_multi"],
                                   cwd=tmp_path)
    assert code == 0, stderr
    assert _audio_of(out)[0] == "mp3"
    samples, rate = decode_track(out)
    assert dominant_freq(samples, rate) == pytest.approx(TONES["mkv_multi_commentary"], abs=2)
    assert samples.shape[1] / rate == pytest.approx(2.0, abs=0.06)


def test_the_last_seconds_are_resolved_from_the_probe(run_vax, media):
    code, stdout, stderr = run_vax("do", "the last 1 second", media["mp4_late"], "--dry-run", "--json")
    assert code == 0, stderr
    spec = json.loads(stdout)["spec"]
    from extractor.mediainfo import probe

    assert spec["start"] == pytest.approx(probe(media["mp4_late"]).duration - 1.0)


def test_unknown_words_refuse_to_run_unless_yes(run_vax, media, tmp_path):
    out = tmp_path / "x.mp3"
    code, _, stderr = run_vax("do", "as mp3 with zorblax", media["mp4_aac"], "-o", out)
    assert code == 2
    assert "Did not understand: 'with zorblax'" in stderr
    assert "nothing was run" in stderr and "--yes" in stderr
    assert not out.exists()

    code, stdout, stderr = run_vax("do", "as mp3 with zorblax", media["mp4_aac"], "-o", out, "--yes")
    assert code == 0, stderr
    assert "Did not understand: 'with zorblax'" in stderr
    assert "Understood: Extract the default audio track as MP3" in stdout
    samples, rate = decode_track(out)
    assert dominant_freq(samples, rate) == pytest.approx(TONES["mp4_aac"], abs=2)


def test_yes_never_runs_a_range_or_track_choice_next_to_unknown_words(run_vax, media, tmp_path):
    """A dropped word could invert a removal or a selection: --yes is refused for those."""
    out = tmp_path / "x.mp3"
    for words in ("cut off the last second zorblax", "the spanish track zorblax"):
        code, _, stderr = run_vax("do", words, media["mkv_multi"], "-o", out, "--yes")
        assert code == 2, stderr
        assert "could invert" in stderr
        assert not out.exists()


def test_what_vax_does_not_do_is_said_plainly(run_vax, media, tmp_path):
    code, _, stderr = run_vax("do", "add reverb", media["mp4_aac"], cwd=tmp_path)
    assert code == 2
    assert "vax does not do that ('add reverb')" in stderr
    assert list(tmp_path.iterdir()) == []


def test_uploading_needs_the_explicit_permission_whatever_the_words(run_vax, media, tmp_path):
    code, _, stderr = run_vax("do", "upload it to the cloud as mp3", media["mp4_aac"], cwd=tmp_path,
                              env={"VAX_ALLOW_CLOUD": "0", "VAX_REMOTE_URL": "http://127.0.0.1:9"})
    assert code == 2
    assert "--allow-cloud" in stderr
    # "to youtube" is not the cloud at all, even with --yes.
    code, _, stderr = run_vax("do", "upload it to youtube", media["mp4_aac"], "--yes", cwd=tmp_path)
    assert code == 2 and "vax does not do that" in stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("-16 LUFS", "{file}", "--dry-run", "--json"),
    ("--", "-16 LUFS", "{file}", "--dry-run", "--json"),
    ("--dry-run", "--json", "--", "-16 LUFS", "{file}"),
])
def test_a_request_may_start_with_a_dash_and_a_dry_run_never_writes(run_vax, media, tmp_path, args):
    args = [str(media["mp4_aac"]) if a == "{file}" else a for a in args]
    code, stdout, stderr = run_vax("do", *args, "-o", tmp_path / "x.m4a", cwd=tmp_path)
    assert code == 0, stderr
    line = json.loads(stdout.splitlines()[-1])
    assert line["status"] == "dry-run" and line["spec"]["loudness"] == -16.0
    assert list(tmp_path.iterdir()) == []


def test_each_file_is_probed_once(media, tmp_path, monkeypatch):
    import extractor.api
    import extractor.mediainfo
    import extractor.pipeline
    from extractor.cli.app import cli

    calls = []
    real = extractor.mediainfo.probe

    def counting(path, **kwargs):
        calls.append(str(path))
        return real(path, **kwargs)

    for module in (extractor.mediainfo, extractor.pipeline, extractor.api):
        monkeypatch.setattr(module, "probe", counting)
    out = tmp_path / "end.wav"
    result = CliRunner().invoke(cli, ["do", "the last second as wav", str(media["mp4_aac"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert calls == [str(media["mp4_aac"])]
    samples, rate = decode_track(out)
    assert samples.shape[1] / rate == pytest.approx(1.0, abs=0.03)


def test_spanish_request_end_to_end(run_vax, media, tmp_path):
    out = tmp_path / "es.wav"
    code, stdout, stderr = run_vax("do", "la pista en español, los primeros 2 segundos, en wav", media["mkv_multi"],
                                   "-o", out)
    assert code == 0, stderr
    assert "Understood: Extract the first 2 seconds of the Spanish (spa) track as WAV" in stdout
    samples, rate = decode_track(out)
    assert dominant_freq(samples, rate) == pytest.approx(TONES["mkv_multi_spanish"], abs=2)
    assert samples.shape[1] / rate == pytest.approx(2.0, abs=0.03)


def test_contradictions_exit_2_naming_the_words(run_vax, media):
    code, _, stderr = run_vax("do", "as mp3 and as flac", media["mp4_aac"])
    assert code == 2
    assert "'as mp3' and 'as flac' ask for different formats" in stderr


@pytest.mark.parametrize("words", ["show tracks", "状态"])
def test_probe_intent_prints_the_probe(run_vax, media, words):
    code, stdout, stderr = run_vax("do", words, media["mkv_multi"])
    assert code == 0, stderr
    assert "Understood: Show the audio tracks" in stdout
    assert "audio track 2 (stream #2), ac3" in stdout and "'Commentary'" in stdout


def test_several_files_into_a_folder(run_vax, media, tmp_path):
    outdir = tmp_path / "out"
    code, _, stderr = run_vax("do", "导出 wav", media["mp4_aac"], media["mov_aac"], "-o", f"{outdir}/", "-j", "1")
    assert code == 0, stderr
    for name, tone in (("mp4_aac.wav", TONES["mp4_aac"]), ("mov_aac.wav", TONES["mov_aac"])):
        samples, rate = decode_track(outdir / name)
        assert dominant_freq(samples, rate) == pytest.approx(tone, abs=2)


def test_one_file_name_for_several_files_is_refused(run_vax, media, tmp_path):
    code, _, stderr = run_vax("do", "call it x.mp3", media["mp4_aac"], media["mov_aac"], cwd=tmp_path)
    assert code == 2
    assert "one output name ('x.mp3') for 2 files" in stderr
    assert not (tmp_path / "x.mp3").exists()


def test_no_file_is_a_usage_error(run_vax):
    code, _, stderr = run_vax("do", "as mp3")
    assert code == 2 and "no FILE given" in stderr


def test_credits_intent_uses_the_cloud_backend(monkeypatch):
    import backends.remote
    from extractor.cli.app import cli

    summary = {"available": 70, "frozen": 30, "total": 100, "anonymous": True, "user_id": "anon_x",
               "service": "http://nemo.test"}
    monkeypatch.setattr(backends.remote, "credits_summary", lambda url=None, **kw: summary)
    result = CliRunner().invoke(cli, ["do", "how many credits do I have"])
    assert result.exit_code == 0, result.output
    assert "Understood: Show the cloud account's credit balance" in result.output
    assert "available: 70" in result.output and "total:     100" in result.output

    result = CliRunner().invoke(cli, ["do", "余额", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["available"] == 70


def test_credits_without_a_cloud_backend_exits_12(monkeypatch):
    import sys

    from extractor.cli.app import cli

    monkeypatch.setitem(sys.modules, "extractor.cli.remote", None)  # a build without the cloud client
    result = CliRunner().invoke(cli, ["do", "balance"])
    assert result.exit_code == 12
    assert "no cloud backend" in result.output


def test_a_file_named_in_the_words_is_the_input(run_vax, media, tmp_path):
    """People write "convert talk.mp4 to mp3", not `vax do "to mp3" talk.mp4`."""
    import shutil

    shutil.copy(media["mkv_multi"], tmp_path / "film_take-2.mkv")
    code, stdout, stderr = run_vax("do", "get the spanish track of film_take-2.mkv as flac", cwd=tmp_path)
    assert code == 0, stderr
    assert "Input: film_take-2.mkv" in stdout + stderr
    assert "Did not understand" not in stdout + stderr
    assert _audio_of(tmp_path / "film_take-2.flac")[0] == "flac"


def test_an_output_name_in_the_words_is_never_taken_for_an_input(run_vax, media, tmp_path):
    import shutil

    shutil.copy(media["mkv_multi"], tmp_path / "film.mkv")
    (tmp_path / "take.mp3").write_bytes(b"an earlier recording")
    code, stdout, stderr = run_vax("do", "convert film.mkv to mp3, call it take.mp3", cwd=tmp_path)
    assert code == 8, stderr  # the output exists: refused, never read as a second input
    assert "Input: film.mkv" in stdout + stderr
    assert (tmp_path / "take.mp3").read_bytes() == b"an earlier recording"


def test_words_naming_no_file_stay_unknown(run_vax, media, tmp_path):
    code, stdout, stderr = run_vax("do", "convert nosuchfile.mkv to mp3", media["mkv_multi"], cwd=tmp_path)
    assert code == 2
    assert "Did not understand: 'nosuchfile.mkv'" in stdout + stderr
