"""The bad-input corpus: whatever users feed `vax`, they get a verified file or one clear error line.

Each case runs the real CLI in a subprocess (so FFmpeg's own log lines, written to the C-level
stderr, would be seen too) inside a folder of its own, and checks, besides its exit code and
message: no traceback, nothing on stderr but the one error line, no partial output, no
temporary file left, and every input byte-for-byte unchanged.

Permission cases: CI runs as root, for whom file modes do not stop reads or writes. The child
process then gives up the two capabilities that let root ignore them (CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH, dropped from its bounding set before exec), so a mode-000 file is really
unreadable to it. Where that is impossible the case is skipped, saying why.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from extractor.publish import TEMP_MARK

try:
    import resource  # POSIX only: the disk-full cases set RLIMIT_FSIZE
except ImportError:  # Windows, where preexec_fn does not exist either: those cases skip
    resource = None
from fixtures.badinputs import long_wav, make_bad_set
from fixtures.generate import decode_track, dominant_freq, make_standard_set

VAX = [sys.executable, "-c", "from extractor.cli import main; main()"]
RUN_TIMEOUT = 60

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    found = make_bad_set(folder / "bad")
    found.update(make_standard_set(folder / "std"))
    found["whole_for_corrupt_mp4"] = folder / "bad" / "whole-for-corrupt.mp4"
    return found


# -- running one case --------------------------------------------------------------------

def _without_dac_override() -> None:
    """preexec_fn: make file modes bind even for root (see the module docstring)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)  # prctl is Linux's: elsewhere this fails and the case skips
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop CAP_DAC_OVERRIDE")


def _file_size_limit(limit: int) -> Callable[[], None]:
    """preexec_fn: a "disk" that is full after ``limit`` bytes: writes past it fail with EFBIG."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _can_drop_dac_override() -> bool:
    try:
        result = subprocess.run(["true"], preexec_fn=_without_dac_override, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir() or p.is_symlink()}


@dataclass
class Case:
    id: str
    # Sets up inputs inside the case folder; returns the vax arguments (after "vax").
    setup: Callable[[Path, dict], list[str]]
    code: int
    fragment: str  # must appear on stderr (or, for success cases, on stdout)
    outputs: tuple[str, ...] = ()  # files the run may create, relative to the case folder
    check: Callable[[Path, subprocess.CompletedProcess, dict], None] | None = None
    preexec: Callable[[], None] | None = None
    needs_dac_drop: bool = False
    one_line: bool = True  # click's own option errors print a usage line too
    tags: set = field(default_factory=set)


def _copy(corpus: dict, name: str, folder: Path, as_name: str | None = None) -> Path:
    src = corpus[name]
    dst = folder / (as_name or src.name)
    shutil.copyfile(src, dst)
    return dst


def _extract(name: str, *options: str, as_name: str | None = None):
    """Setup: copy corpus file ``name`` into the case folder and extract it into out/."""

    def setup(folder: Path, corpus: dict) -> list[str]:
        path = _copy(corpus, name, folder, as_name)
        return ["extract", path.name, "-o", "out/", *options]

    return setup


def _run(case: Case, folder: Path, corpus: dict) -> subprocess.CompletedProcess:
    args = case.setup(folder, corpus)
    before = _tree(folder)
    hashes = {rel: _sha256(folder / rel) for rel in before if (folder / rel).is_file()
              and os.access(folder / rel, os.R_OK)}
    proc = subprocess.run(VAX + args, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          preexec_fn=case.preexec, stdin=subprocess.DEVNULL, check=False)
    # Everything the user had is untouched; nothing new appeared but the promised outputs.
    for rel, digest in hashes.items():
        assert _sha256(folder / rel) == digest, f"{rel} was modified"
    created = _tree(folder) - before
    assert not [p for p in created if TEMP_MARK in p], f"temporary files left: {created}"
    if case.code == 0:
        assert created == set(case.outputs), f"created {created}, expected {case.outputs}"
    else:
        assert created == set(), f"a failed run left files behind: {created}"
    return proc


# -- extra checks for the cases that succeed --------------------------------------------

def _json_result(proc) -> dict:
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, proc.stdout
    return lines[0]


def _salvaged_truncation(folder: Path, proc, corpus) -> None:
    result = _json_result(proc)
    assert result["status"] == "ok"
    (at, length), = result["gaps"]
    # Half the 4 s clip was cut away: the gap is the missing end.
    assert 1.5 < at < 2.5 and 1.5 < length < 2.5
    assert abs(at + length - 4.0) < 0.1
    samples, rate = decode_track(folder / result["output"])
    assert abs(samples.shape[1] / rate - result["verification"]["duration"]) < 1e-3
    assert abs(dominant_freq(samples, rate) - 440.0) < 2


def _salvaged_in_sync(folder: Path, proc, corpus) -> None:
    """Damage in the middle becomes silence of the same length: what follows stays in sync."""
    result = _json_result(proc)
    (at, length), = result["gaps"]
    assert 1.5 < at < 2.5 and 0.01 < length < 0.2
    assert any("silence" in note for note in result["notes"])
    out, rate = decode_track(folder / result["output"])
    ref, ref_rate = decode_track(corpus["whole_for_corrupt_mp4"])
    assert rate == ref_rate and abs(out.shape[1] - ref.shape[1]) <= 1024
    hole = slice(round((at + 0.005) * rate), round((at + length - 0.005) * rate))
    assert abs(out[:, hole]).max() == 0.0  # the hole is silent...
    later = slice(3 * rate, 3 * rate + 4800)  # ...and a second later the audio lines up exactly
    assert abs(out[:, later] - ref[:, later]).max() < 1e-3


def _salvaged_copy(folder: Path, proc, corpus) -> None:
    result = _json_result(proc)
    (at, length), = result["gaps"]
    assert 1.5 < at < 2.5 and 0.01 < length < 0.2
    assert any("cannot fill" in note for note in result["notes"])
    assert result["verification"]["duration"] == pytest.approx(4.0 - length, abs=0.03)


def _tone(freq: float, output: str) -> Callable:
    def check(folder: Path, proc, corpus) -> None:
        samples, rate = decode_track(folder / output)
        assert abs(dominant_freq(samples, rate) - freq) < 2

    return check


def _existing_output(folder: Path, corpus: dict) -> list[str]:
    path = _copy(corpus, "mp4_aac", folder)
    (folder / "out").mkdir()
    (folder / "out" / "mp4_aac.m4a").write_bytes(b"the user's own file, not to be replaced")
    return ["extract", path.name, "-o", "out/"]


def _missing(folder: Path, corpus: dict) -> list[str]:
    return ["extract", "nothing-here.mp4", "-o", "out/"]


def _empty_directory(folder: Path, corpus: dict) -> list[str]:
    (folder / "videos").mkdir()  # a folder with files is a batch (see test_batch); an empty one is an error
    return ["extract", "videos", "-o", "out/"]


def _symlink_loop(folder: Path, corpus: dict) -> list[str]:
    os.symlink("b.mp4", folder / "a.mp4")
    os.symlink("a.mp4", folder / "b.mp4")
    return ["extract", "a.mp4", "-o", "out/"]


def _fifo(folder: Path, corpus: dict) -> list[str]:
    os.mkfifo(folder / "pipe.mp4")
    return ["extract", "pipe.mp4", "-o", "out/"]


def _unreadable(folder: Path, corpus: dict) -> list[str]:
    path = _copy(corpus, "mp4_aac", folder)
    path.chmod(0)
    return ["extract", path.name, "-o", "out/"]


def _readonly_folder(folder: Path, corpus: dict) -> list[str]:
    path = _copy(corpus, "mp4_aac", folder)
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0o555)
    return ["extract", path.name, "-o", "locked/"]


def _output_under_file(folder: Path, corpus: dict) -> list[str]:
    path = _copy(corpus, "mp4_aac", folder)
    (folder / "notes.txt").write_text("a file, not a folder")
    return ["extract", path.name, "-o", "notes.txt/out.mp3"]


def _output_is_input(folder: Path, corpus: dict) -> list[str]:
    path = _copy(corpus, "m4a_audio", folder)
    return ["extract", path.name, "-o", path.name, "--overwrite"]


def _odd_name(name: str) -> Callable:
    def setup(folder: Path, corpus: dict) -> list[str]:
        path = _copy(corpus, "mp4_aac", folder, name)
        return ["extract", "-o", "out/", "--", path.name]

    return setup


def _probe(name: str) -> Callable:
    def setup(folder: Path, corpus: dict) -> list[str]:
        return ["probe", _copy(corpus, name, folder).name]

    return setup


def _dangling_link_output(folder: Path, corpus: dict) -> list[str]:
    _copy(corpus, "mp4_aac", folder)
    (folder / "out").mkdir()
    (folder / "out" / "mp4_aac.m4a").symlink_to(folder / "gone" / "target.m4a")
    return ["extract", "mp4_aac.mp4", "-o", "out/"]


def _long_name(folder: Path, corpus: dict) -> list[str]:
    name = "ü" * 123 + ".mp4"  # 250 bytes: the output and its temporary name must still fit
    _copy(corpus, "mp4_aac", folder, name)
    return ["extract", name, "-o", "out/", "-f", "flac"]


def _stays_inside(folder: Path, proc, corpus) -> None:
    made = [p for p in (folder / "out").rglob("*") if p.is_file()]
    assert len(made) == 2 and all(p.resolve().is_relative_to(folder / "out") for p in made)
    assert not list(folder.parent.glob("escaped*"))


def _json_error(folder: Path, proc, corpus) -> None:
    result = _json_result(proc)
    assert result["status"] == "error" and result["exit_code"] == 3


CASES = [
    # What the file is
    Case("zero-byte", _extract("zero_byte"), 4, "empty (0 bytes)"),
    Case("text-renamed-mp4", _extract("text_as_mp4"), 4, "not a media file"),
    Case("jpeg-renamed-mov", _extract("jpeg_as_mov"), 5, "has no audio track"),
    Case("mp4-index-missing", _extract("mp4_index_missing"), 11, "without its index (moov)"),
    Case("mp4-index-missing-salvage", _extract("mp4_index_missing", "--salvage"), 11, "cannot rebuild"),
    Case("mp4-cut-mid-data", _extract("mp4_cut_mid_data"), 11, "truncated?"),
    Case("mp4-cut-mid-data-wav", _extract("mp4_cut_mid_data", "-f", "wav"), 11, "--salvage keeps"),
    Case("m4a-cut-mid-data", _extract("m4a_cut_mid_data"), 11, "truncated?"),
    Case("mkv-cut-mid-cluster", _extract("mkv_cut_mid_cluster"), 11, "truncated?"),
    # A copy carries damaged packets unchanged and is proven from them: only a full decode finds the damage.
    Case("mp4-corrupt-audio-copy", _extract("mp4_corrupt_audio", "--verify", "full"), 11, "undecodable audio at 1.9"),
    Case("mp4-corrupt-audio-mp3", _extract("mp4_corrupt_audio", "-f", "mp3"), 11, "undecodable audio at 1.9"),
    Case("mkv-corrupt-audio", _extract("mkv_corrupt_audio", "--verify", "full"), 11, "--salvage keeps what is readable"),
    Case("video-without-audio", _extract("video_only"), 5, "has no audio track (1 video stream only)"),
    Case("audio-track-zero-packets", _extract("empty_audio_track"), 5, "is declared but has no audio packets"),
    Case("audio-track-zero-packets-wav", _extract("empty_audio_track", "-f", "wav"), 5, "decoded to no audio"),
    Case("probe-text", _probe("text_as_mp4"), 4, "not a media file"),
    Case("probe-index-missing", _probe("mp4_index_missing"), 11, "cut off before it was finished"),
    # Salvage: the readable audio back, gaps reported, verified against what was read
    Case("salvage-truncated-copy", _extract("mp4_cut_mid_data", "--salvage", "--json"), 0, '"gaps"',
         outputs=("out/cut-mid-data.m4a",), check=_salvaged_truncation),
    Case("salvage-truncated-mkv-flac", _extract("mkv_cut_mid_cluster", "--salvage", "-f", "flac"), 0,
         "input is truncated", outputs=("out/cut-mid-cluster.flac",), check=_tone(880.0, "out/cut-mid-cluster.flac")),
    Case("salvage-corrupt-wav-in-sync", _extract("mp4_corrupt_audio", "--salvage", "-f", "wav", "--json"), 0,
         "replaced by silence", outputs=("out/corrupt-audio.wav",), check=_salvaged_in_sync),
    Case("salvage-corrupt-copy", _extract("mkv_corrupt_audio", "--salvage", "--json"), 0, "cannot fill",
         outputs=("out/corrupt-audio.m4a",), check=_salvaged_copy),
    Case("damage-outside-range", _extract("mp4_corrupt_audio", "--start", "3"), 0, "verified",
         outputs=("out/corrupt-audio.m4a",)),
    # What the user asked for
    Case("track-does-not-exist", _extract("mkv_multi", "--track", "7"), 6, "there is no audio track 7; it has 3"),
    Case("track-zero", _extract("mkv_multi", "--track", "0"), 2, "track numbers start at 1"),
    Case("unknown-language", _extract("mkv_multi", "--lang", "klingon"), 6, "no audio track in language 'klingon'"),
    Case("start-after-end-of-file", _extract("mp4_aac", "--start", "1:00"), 2, "at or after the end of track 1"),
    Case("start-after-end", _extract("mp4_aac", "--start", "2", "--end", "1"), 2, "must be after --start"),
    Case("range-past-end", _extract("mp4_aac", "--start", "1", "--end", "30"), 0, "runs past the end",
         outputs=("out/mp4_aac.m4a",), check=_tone(440.0, "out/mp4_aac.m4a")),
    Case("bad-time", _extract("mp4_aac", "--start", "soon"), 2, "cannot read 'soon' as a time"),
    Case("bad-template", _extract("mp4_aac", "-o", "{nope}.mp3"), 2, "unknown field(s) {nope}"),
    Case("unknown-format", _extract("mp4_aac", "-f", "xyz"), 2, "Invalid value", one_line=False),
    # Where it comes from
    Case("missing-file", _missing, 3, "nothing-here.mp4: no such file"),
    Case("missing-file-json", lambda f, c: _missing(f, c) + ["--json"], 3, "no such file", check=_json_error),
    Case("empty-directory-input", _empty_directory, 3, "videos: the folder has no files"),
    Case("directory-probe", lambda f, c: ["probe", str(_empty_directory(f, c)[1])], 2, "is a folder, not a file"),
    Case("symlink-loop", _symlink_loop, 3, "Too many levels of symbolic links"),
    Case("fifo-input", _fifo, 4, "not a regular file"),
    Case("unreadable-input", _unreadable, 3, "permission denied", preexec=_without_dac_override,
         needs_dac_drop=True),
    # Where it goes
    Case("output-folder-read-only", _readonly_folder, 9, "is not writable", preexec=_without_dac_override,
         needs_dac_drop=True),
    Case("output-under-a-file", _output_under_file, 9, "notes.txt: it is a file, not a folder"),
    Case("output-is-input", _output_is_input, 2, "is the input itself"),
    Case("output-exists", _existing_output, 8, "already exists (use --overwrite"),
    Case("disk-full-copy", _extract("mp4_aac"), 9, "File too large", preexec=_file_size_limit(16_000)),
    Case("disk-full-mp3", _extract("mp4_aac", "-f", "mp3"), 9, "File too large", preexec=_file_size_limit(16_000)),
    Case("disk-full-wav", _extract("mp4_aac", "-f", "wav"), 9, "File too large", preexec=_file_size_limit(16_000)),
    # Names
    Case("name-spaces-quotes-unicode", _odd_name('my "best" take – ñandú 🎬.mp4'), 0, "verified",
         outputs=('out/my "best" take – ñandú 🎬.m4a',), check=_tone(440.0, 'out/my "best" take – ñandú 🎬.m4a')),
    Case("name-leading-dash", _odd_name("-weird.mp4"), 0, "verified", outputs=("out/-weird.m4a",)),
    Case("name-apostrophe", _odd_name("it's.mp4"), 0, "verified", outputs=("out/it's.m4a",)),
    # Issue 21: damage FFmpeg misnames, tags that steer paths, odd targets, limits
    Case("mp4-index-cut-short", _extract("mp4_index_cut_short"), 11, "index (moov) is cut short"),
    Case("mp4-index-cut-short-salvage", _extract("mp4_index_cut_short", "--salvage"), 11, "cannot rebuild"),
    Case("probe-index-cut-short", _probe("mp4_index_cut_short"), 11, "is cut short"),
    Case("hostile-tags-template", lambda f, c: _extract("mkv_hostile_tags")(f, c)[:2]
         + ["-o", "out/{lang}/{title}-{stem}.{ext}", "--all-tracks"], 0, "verified",
         outputs=("out/_.._.._.._escaped/_.._up-hostile-tags.m4a", "out/_con/AUX_a_b_c_d_-hostile-tags.m4a"),
         check=_stays_inside),
    Case("hostile-tags-all-tracks-file", lambda f, c: _extract("mkv_hostile_tags")(f, c)[:2]
         + ["-o", "out/film.m4a", "--all-tracks"], 0, "verified",
         outputs=("out/film.1-_.._.._.._escaped.m4a", "out/film.2-con.m4a"), check=_stays_inside),
    Case("output-dangling-symlink", _dangling_link_output, 8, "symbolic link to"),
    Case("output-is-a-device", lambda f, c: _extract("mp4_aac")(f, c)[:2] + ["-o", "/dev/full"], 2,
         "not a regular file or folder"),
    Case("name-250-bytes-to-flac", _long_name, 0, "verified", outputs=("out/" + "ü" * 123 + ".flac",)),
]


def test_corpus_is_big_enough():
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, corpus, tmp_path):
    if case.preexec is not None and os.name == "nt":
        pytest.skip("preexec_fn (capabilities, rlimits) exists only on POSIX")
    if case.needs_dac_drop and not _can_drop_dac_override():
        pytest.skip("running as root without CAP_SETPCAP: file modes cannot be made to bind")
    folder = tmp_path / "case"
    folder.mkdir()
    try:
        proc = _run(case, folder, corpus)
    finally:
        for path in folder.rglob("*"):  # undo the mode changes so pytest can clean up
            if not path.is_symlink():
                path.chmod(0o755)
    assert proc.returncode == case.code, f"exit {proc.returncode}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if case.code == 0:
        assert lines == [], proc.stderr  # not even an FFmpeg log line
        assert case.fragment in proc.stdout
    elif case.one_line:
        assert len(lines) == 1 and lines[0].startswith("vax: error: "), proc.stderr
        assert case.fragment in lines[0]
    else:
        assert case.fragment in proc.stderr
    if case.check:
        case.check(folder, proc, corpus)


# -- an input that changes while it is being read ---------------------------------------
# Decided behaviour: vax reads the file it opened. Appending to it or replacing it (a
# rename over it, as editors and downloaders do) while a job runs still gives a verified
# output of what was read; the new bytes are not mixed in.

def _run_with_change(corpus, tmp_path, name: str, change: Callable[[Path], None], **options):
    from extractor.api import extract

    path = tmp_path / Path(corpus[name]).name
    shutil.copyfile(corpus[name], path)
    calls = []

    def progress(plan, fraction):
        if not calls:
            change(path)
        calls.append(fraction)

    results = extract(str(path), output=str(tmp_path / "out") + "/", progress=progress, **options)
    assert len(calls) > 1, "the change must happen while the job runs"
    assert not [p for p in tmp_path.rglob("*") if TEMP_MARK in p.name]
    return results[0]


def test_input_growing_while_read(corpus, tmp_path):
    def grow(path: Path) -> None:
        with open(path, "ab") as f:
            f.write(os.urandom(256 * 1024))

    recording = {"recording": long_wav(tmp_path / "src", 20.0, "recording.wav")}  # long enough for progress
    result = _run_with_change(recording, tmp_path, "recording", grow, format="flac")
    samples, rate = decode_track(result.output)
    assert samples.shape[1] == 20 * rate  # what the header declared when it was opened
    assert abs(dominant_freq(samples, rate) - 1540.0) < 2


def test_input_replaced_while_read(corpus, tmp_path):
    def replace(path: Path) -> None:
        other = path.with_name("other.mkv")
        shutil.copyfile(corpus["mkv_multi"], other)
        os.replace(other, path)

    result = _run_with_change(corpus, tmp_path, "mp4_aac", replace)
    samples, rate = decode_track(result.output)
    assert abs(dominant_freq(samples, rate) - 440.0) < 2  # the file it opened, not its replacement
    assert abs(result.verification.duration - 3.0) < 0.05
