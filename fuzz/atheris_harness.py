"""Coverage-guided fuzzing of `vax probe` and `vax extract` with atheris (libFuzzer for Python).

    make fuzz                         # FUZZ_SECONDS=300 by default
    .venv/bin/python fuzz/atheris_harness.py -max_total_time=60 [CORPUS_DIR ...]

An input is one option byte followed by a media file. The option byte picks the output
format and whether to salvage; the rest is written to a file and probed, then extracted.
Every run must end in a verified output or a VaxError, leave no temporary or partial file,
and never modify its input; anything else (another exception, a crash, a hang past
-timeout) is a finding, saved by libFuzzer under .fuzz/artifacts/.

Only the Python side is instrumented (the FFmpeg inside the PyAV wheel is not), so coverage
guides the fuzzer through vax's own branches; FFmpeg's are reached by mutation alone.
Without a corpus directory on the command line, the standard fixtures and the bad-input
corpus are used as seeds (written to .fuzz/seeds/).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from extractor.api import extract
    from extractor.errors import VaxError
    from extractor.mediainfo import probe
    from extractor.publish import TEMP_MARK

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".fuzz"
FORMATS = ["auto", "flac", "wav", "mka", "m4a", "mp3", "opus"]
SUFFIXES = [".mp4", ".mkv", ".mov", ".webm", ".avi", ".mp3", ".m4a", ".flac", ".wav"]

_scratch = Path(tempfile.mkdtemp(prefix="vax-fuzz-"))


def _options(selector: int) -> tuple[dict, str]:
    fmt = FORMATS[selector % len(FORMATS)]
    salvage = bool(selector & 0x80)
    suffix = SUFFIXES[(selector >> 3) % len(SUFFIXES)]  # some demuxers take the name as a hint
    return {"format": fmt, "salvage": salvage}, suffix


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    options, suffix = _options(data[0])
    body = data[1:]
    folder = _scratch / "run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    source = folder / f"input{suffix}"
    source.write_bytes(body)
    out = folder / "out"
    results = []
    try:
        probe(source)
        results = extract(str(source), output=f"{out}/", **options)
    except VaxError as exc:
        if "\n" in exc.one_line():
            raise AssertionError(f"a multi-line error message: {exc.one_line()!r}") from None
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    expected = sorted(r.output.name for r in results)
    if written != expected or any(TEMP_MARK in name for name in written):
        raise AssertionError(f"files left behind: {written}, expected {expected}")
    for result in results:
        if result.verification.samples <= 0:
            raise AssertionError(f"an unverified output: {result.verification}")
    if hashlib.sha256(source.read_bytes()).digest() != hashlib.sha256(body).digest():
        raise AssertionError("the input was modified")


def write_seeds(folder: Path) -> Path:
    """The standard fixtures and the bad-input corpus, each with an option byte in front."""
    from fixtures.badinputs import make_bad_set
    from fixtures.generate import make_standard_set

    folder.mkdir(parents=True, exist_ok=True)
    media = _scratch / "media"
    files = list(make_standard_set(media / "std").values()) + list(make_bad_set(media / "bad").values())
    for number, path in enumerate(files):
        for selector in (number % len(FORMATS), 0x80 | (number + 3) % len(FORMATS)):
            (folder / f"{path.stem}-{selector:02x}").write_bytes(bytes([selector]) + path.read_bytes())
    return folder


def main(argv: list[str]) -> None:
    args = list(argv)
    if not any(not a.startswith("-") for a in args[1:]):
        args.append(str(write_seeds(WORK / "seeds")))
        # New inputs libFuzzer finds go to the first corpus dir: keep the seeds pristine.
        (WORK / "corpus").mkdir(parents=True, exist_ok=True)
        args.insert(1, str(WORK / "corpus"))
    (WORK / "artifacts").mkdir(parents=True, exist_ok=True)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        args.insert(1, f"-artifact_prefix={WORK / 'artifacts'}/")
    atheris.Setup(args, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(_scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
