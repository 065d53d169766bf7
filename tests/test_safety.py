"""Nothing lost, whatever the names and the files say (issue 21): tags that try to steer the
output path, names Windows refuses, names at the length limit, an input that is another
job's output, the same file name in different folders, resume that knows whose output a file
is, a closed or full stdout, a low open-file limit, a damaged index, odd output targets.

Every case runs the real thing (the API in-process, or the CLI in a subprocess) on media made
here with known tones, and checks the files on disk, not only the messages.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from extractor import extract
from extractor.batch import record
from extractor.errors import DamagedInput, UsageError
from extractor.naming import NAME_MAX, portable_name, safe_field
from extractor.publish import TEMP_MARK, temp_path_for
from fixtures.badinputs import base_mp4, box, cut
from fixtures.generate import Tone, decode_track, dominant_freq, make_media

VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]
HOSTILE_LANGUAGES = ["../../../escaped", "..", "/abs/path", "C:\\evil", "a/../../b", "con", "x\x00y"]
HOSTILE_TITLES = ["../../up", "AUX", "lpt1.txt", "name. . ", 'a:b?c*d<e>f|g"h', "\\\\server\\share", "." * 40]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """An MKV whose tracks' language and title tags are paths, device names and reserved characters."""
    folder = tmp_path_factory.mktemp("hostile")
    tones = [Tone(300.0 + 100 * i, "flac", language=lang, title=title)
             for i, (lang, title) in enumerate(zip(HOSTILE_LANGUAGES, HOSTILE_TITLES))]
    return make_media(folder / "tagged.mkv", duration=0.5, tones=tones, video=None)


@pytest.mark.parametrize("template", ["out/{stem}-{lang}.{ext}", "out/{lang}/{title}-{codec}"])
def test_tags_never_steer_the_output_out_of_the_folder(hostile, tmp_path, template, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "victim.m4a").write_bytes(b"precious")
    monkeypatch.chdir(work)
    results = extract(hostile, output=template, all_tracks=True, overwrite=True)
    assert len(results) == len(HOSTILE_LANGUAGES)
    outputs = [r.output for r in results]
    assert len(set(outputs)) == len(outputs)
    for result in results:
        real = Path(os.path.realpath(result.output))
        assert real.is_relative_to(work / "out"), result.output
        name = real.name
        assert len(name.encode()) <= NAME_MAX
        assert not any(ch in name for ch in '\\:*?"<>|\x00')
        assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1", "COM1"}
        assert not name.endswith((".", " "))
    # Nothing anywhere else: the folder holds the victim and out/, nothing else, untouched.
    assert {p for p in _tree(work) if not p.startswith("out")} == {"victim.m4a"}
    assert (work / "victim.m4a").read_bytes() == b"precious"
    assert not list(tmp_path.glob("escaped*")) and not (tmp_path.parent / "escaped.flac").exists()


def test_all_tracks_to_a_named_file_with_hostile_languages(hostile, tmp_path):
    results = extract(hostile, output=str(tmp_path / "out" / "film.flac"), all_tracks=True)
    assert {r.output.parent for r in results} == {tmp_path / "out"}
    for result in results:  # each file holds its own track's tone
        samples, rate = decode_track(result.output)
        assert abs(dominant_freq(samples, rate) - (300.0 + 100 * (result.plan.track.number - 1))) < 5


def test_a_template_that_leads_out_of_its_folder_is_refused(hostile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="outside"):
        extract(hostile, output="out/{stem}/../../../x-{track}.{ext}", all_tracks=True)
    assert _tree(tmp_path) == set()


@pytest.mark.parametrize(("name", "expected"), [
    ("CON.m4a", "_CON.m4a"), ("aux.mp3", "_aux.mp3"), ("nul", "_nul"), ("Com1.flac", "_Com1.flac"),
    ("LPT9.tar.gz", "_LPT9.tar.gz"), ("talk. .", "talk"), ("talk. .m4a", "talk. .m4a"), ("console.m4a", "console.m4a"),
    ("conference.mp3", "conference.mp3"),
])
def test_portable_names(name, expected):
    assert portable_name(name) == expected


def test_unsafe_fields_become_one_component():
    for text in HOSTILE_LANGUAGES + HOSTILE_TITLES:
        field = safe_field(text, "fallback")
        assert "/" not in field and "\\" not in field and field not in (".", "..")
        assert not field.endswith((".", " ")) and "\x00" not in field


@pytest.mark.parametrize("stem", ["a" * 300, "ñ" * 200, "🎬" * 90, "x" * 251])
def test_long_names_are_cut_to_255_bytes_keeping_the_extension(stem):
    name = portable_name(f"{stem}.flac")
    assert len(name.encode()) <= NAME_MAX and name.endswith(".flac")
    name.encode().decode()  # never cut inside a character
    temp = temp_path_for(Path("/x") / name)
    assert len(temp.name.encode()) <= NAME_MAX and temp.name.endswith(".flac") and TEMP_MARK in temp.name


def test_an_input_name_at_the_limit_gives_a_verified_output(tmp_path):
    stem = "é" * 125  # 250 bytes: legal with ".mp4"; ".flac" and the temporary name's 23 bytes are not
    src = make_media(tmp_path / f"{stem}.mp4", duration=0.5, tones=[Tone(440.0)])
    assert len(src.name.encode()) == 254
    for fmt in ("flac", "wav", "auto"):
        (result,) = extract(src, output=str(tmp_path / "out") + "/", format=fmt)
        assert len(result.output.name.encode()) <= NAME_MAX and result.output.exists()
        samples, rate = decode_track(result.output)
        assert abs(dominant_freq(samples, rate) - 440.0) < 5
    assert not [p for p in (tmp_path / "out").iterdir() if TEMP_MARK in p.name]


def test_the_same_name_in_different_folders_is_mirrored_and_resumed(tmp_path, run_vax):
    for sub, freq in (("100", 440.0), ("101", 880.0), ("102/deep", 660.0)):
        make_media(tmp_path / "DCIM" / sub / "CLIP0001.MP4", duration=0.5, tones=[Tone(freq)])
    code, out, err = run_vax("extract", tmp_path / "DCIM", "-r", "-o", f"{tmp_path / 'out'}/", "--jobs", "2")
    assert code == 0, err
    for sub, freq in (("100", 440.0), ("101", 880.0), ("102/deep", 660.0)):
        samples, rate = decode_track(tmp_path / "out" / sub / "CLIP0001.m4a")
        assert abs(dominant_freq(samples, rate) - freq) < 5
        found = record.read(tmp_path / "out" / sub / "CLIP0001.m4a")
        assert found is None or found["input"] == os.path.realpath(tmp_path / "DCIM" / sub / "CLIP0001.MP4")
    code, out, err = run_vax("extract", tmp_path / "DCIM", "-r", "-o", f"{tmp_path / 'out'}/")
    assert code == 0 and "0 ok, 3 skipped" in out, out + err


def test_resume_knows_whose_output_a_file_is(tmp_path, run_vax):
    first = make_media(tmp_path / "a" / "clip.mp4", duration=0.5, tones=[Tone(440.0)])
    other = make_media(tmp_path / "b" / "clip.mp4", duration=0.5, tones=[Tone(880.0)])
    code, _, err = run_vax("extract", first, "-o", f"{tmp_path / 'out'}/", "--skip-existing")
    assert code == 0, err
    if record.read(tmp_path / "out" / "clip.m4a") is None:
        pytest.skip("this file system keeps no extended attributes")
    before = _sha(tmp_path / "out" / "clip.m4a")
    code, out, err = run_vax("extract", other, "-o", f"{tmp_path / 'out'}/", "--skip-existing")
    assert code == 8 and "was made from" in err and "already done" not in out, out + err
    assert _sha(tmp_path / "out" / "clip.m4a") == before


def test_same_stem_two_formats_one_folder_never_overwrite_each_other(tmp_path, run_vax):
    make_media(tmp_path / "x.mp4", duration=0.5, tones=[Tone(440.0)])
    make_media(tmp_path / "x.mkv", duration=0.5, tones=[Tone(880.0)])
    code, out, err = run_vax("extract", tmp_path / "x.mp4", tmp_path / "x.mkv", "-o", f"{tmp_path / 'out'}/",
                             "--overwrite", "--jobs", "1")
    assert code == 8 and "written by this run" in err, out + err
    samples, rate = decode_track(tmp_path / "out" / "x.m4a")
    assert abs(dominant_freq(samples, rate) - 440.0) < 5  # the first stays, not replaced by the second


@pytest.mark.parametrize("overwrite", [True])
def test_an_input_is_never_another_jobs_output(tmp_path, run_vax, overwrite):
    make_media(tmp_path / "take.mp4", duration=0.5, tones=[Tone(440.0)])
    take = make_media(tmp_path / "take.m4a", duration=0.5, tones=[Tone(880.0)], video=None)
    before = _sha(take)
    code, out, err = run_vax("extract", tmp_path / "take.mp4", take, *(["--overwrite"] if overwrite else []))
    assert code == 8 and "is also an input of this run" in err, out + err
    assert "already done" not in out.split("take.extracted")[0]
    assert _sha(take) == before


def test_stdout_full_or_closed_keeps_the_outputs(tmp_path, media):
    base = [*VAX, "extract", str(media["mp4_aac"])]
    with open("/dev/full", "w") as full:
        for extra in (["-o", str(tmp_path / "one.m4a")],
                      [str(media["mkv_multi"]), "-o", f"{tmp_path / 'batch'}/", "--json"]):
            proc = subprocess.run(base + extra, check=False, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
            lines = proc.stderr.strip().splitlines()
            assert proc.returncode == 9 and len(lines) == 1 and "standard output" in lines[0], proc.stderr
    assert decode_track(tmp_path / "one.m4a")[0].size
    assert sorted(p.name for p in (tmp_path / "batch").iterdir()) == ["mkv_multi.m4a", "mp4_aac.m4a"]
    # A pipe closed after 10 bytes (`| head -c 10`): the same, never a traceback.
    reader, writer = os.pipe()
    proc = subprocess.Popen(base + ["-o", str(tmp_path / "two.m4a"), "--json"], stdout=writer,
                            stderr=subprocess.PIPE, text=True)
    os.close(writer)
    os.read(reader, 10)
    os.close(reader)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 9) and "Traceback" not in err, err
    assert (tmp_path / "two.m4a").exists()


def test_low_open_file_limit_runs_with_fewer_workers(tmp_path, run_vax):
    for i in range(6):
        make_media(tmp_path / "in" / f"f{i}.wav", duration=0.5, tones=[Tone(440.0 + 10 * i, "pcm_s16le")],
                   video=None)
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    proc = subprocess.run([*VAX, "extract", str(tmp_path / "in"), "-f", "flac",
                           "-o", f"{tmp_path / 'out'}/", "--jobs", "8"], preexec_fn=limit, capture_output=True, check=False,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "open-file limit" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"f{i}.flac" for i in range(6)]


@pytest.mark.parametrize("fraction", [0.2, 0.8])
def test_an_index_cut_short_is_damage_not_no_audio(tmp_path, fraction):
    src = base_mp4(tmp_path)
    offset, length = box(src, "moov")
    damaged = cut(src, tmp_path / "cut-index.mp4", offset + int(length * fraction))
    with pytest.raises(DamagedInput, match="index"):
        extract(damaged, output=str(tmp_path / "out") + "/")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_odd_output_targets(tmp_path, media, run_vax):
    link = tmp_path / "dangling.m4a"
    link.symlink_to(tmp_path / "nowhere" / "gone.m4a")
    code, _, err = run_vax("extract", media["mp4_aac"], "-o", link)
    assert code == 8 and "symbolic link" in err and "does not exist" in err, err
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()
    code, _, err = run_vax("extract", media["mp4_aac"], "-o", "/dev/full")
    assert code == 2 and "not a regular file" in err, err
    assert not Path("/dev/full.m4a").exists()


def test_signal_handlers_are_installed_before_click(tmp_path):
    """The entry point's first act: SIGHUP is caught (not the default, which kills silently)."""
    code = ("import signal, sys\nfrom extractor.cli import stop\nstop.install_signal_handlers()\n"
            "print(signal.getsignal(signal.SIGHUP) is stop._on_terminate, 'click' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=30).stdout.split()
    assert out == ["True", "False"]
    assert signal.SIGHUP  # POSIX only


def _piped(args, data: bytes | None, tmp_path: Path, stdin=None):
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run([*VAX, *map(str, args)], input=data, stdin=stdin, capture_output=True, env=env,
                          timeout=60, check=False)


@pytest.mark.parametrize("name", ["mkv_multi", "mp4_aac", "wav_audio"])
def test_reading_from_a_pipe(media, tmp_path, name):
    """`cat video | vax extract - -o out`: every format, an MP4 with its index last included."""
    if name not in media:
        pytest.skip(f"no {name} in the standard set")
    proc = _piped(["extract", "-", "-o", f"{tmp_path / 'out'}/", "-f", "flac"], media[name].read_bytes(), tmp_path)
    assert proc.returncode == 0, proc.stderr
    samples, rate = decode_track(tmp_path / "out" / "stdin.flac")
    reference, ref_rate = decode_track(media[name])
    assert abs(samples.shape[1] / rate - reference.shape[1] / ref_rate) < 0.05
    assert abs(dominant_freq(samples, rate) - dominant_freq(reference, ref_rate)) < 5
    assert list((tmp_path / "tmp").iterdir()) == []  # the spooled copy is gone


@pytest.mark.parametrize("fmt", ["mp3", "auto"])
def test_writing_to_stdout(media, tmp_path, fmt):
    proc = _piped(["extract", media["mkv_multi"], "-o", "-", "-f", fmt], None, tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    copy = tmp_path / f"from-stdout.{'mka' if fmt == 'auto' else fmt}"
    copy.write_bytes(proc.stdout)
    samples, rate = decode_track(copy)
    reference, ref_rate = decode_track(media["mkv_multi"])
    assert abs(samples.shape[1] / rate - reference.shape[1] / ref_rate) < 0.06
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(("args", "data", "code", "fragment"), [
    (["extract", "-", "-o", "x.m4a"], b"", 4, "nothing arrived"),
    (["extract", "-"], b"abc", 2, "needs an output"),
    (["extract", "-", "-o", "-", "--json"], b"abc", 2, "both want standard output"),
    (["extract", "-", "-o", "x.m4a"], b"not media at all" * 100, 4, "not a media file"),
])
def test_pipe_misuse_is_one_line(tmp_path, args, data, code, fragment, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proc = _piped(args, data, tmp_path)
    lines = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == code and len(lines) == 1 and fragment in lines[0], proc.stderr
    assert list((tmp_path / "tmp").iterdir()) == [] and not (tmp_path / "x.m4a").exists()


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 256 KiB tmpfs (needs root with CAP_SYS_ADMIN; skipped elsewhere)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_real_full_tmpfs_leaves_nothing_and_the_next_job_fits(small_tmpfs, tmp_path, media):
    big = make_media(tmp_path / "big.wav", duration=10.0, tones=[Tone(440.0, "pcm_s16le")], video=None)
    proc = subprocess.run([*VAX, "extract", str(big), "-o", f"{small_tmpfs}/", "-f", "wav"], capture_output=True,
                          text=True, timeout=60, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 9 and len(lines) == 1 and "No space left" in lines[0], proc.stderr
    assert list(small_tmpfs.iterdir()) == []
    proc = subprocess.run([*VAX, "extract", str(media["mp4_aac"]), "-o", f"{small_tmpfs}/"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in small_tmpfs.iterdir()] == ["mp4_aac.m4a"]
    # Standard input spooled into a full TMPDIR: one line, exit 9, nothing left there.
    env = {**os.environ, "TMPDIR": str(small_tmpfs)}
    proc = subprocess.run([*VAX, "extract", "-", "-o", str(tmp_path / "out.wav")], input=big.read_bytes(),
                          capture_output=True, env=env, timeout=60, check=False)
    lines = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 9 and len(lines) == 1 and "standard input" in lines[0], proc.stderr
    assert [p.name for p in small_tmpfs.iterdir()] == ["mp4_aac.m4a"] and not (tmp_path / "out.wav").exists()
