"""The fast paths of a stream copy prove and write exactly what the general ones do.

- An MP4/M4A copy is proven from its sample index (``extractor.mp4index``) instead of a demux
  of every packet: the figures must be the demux's, and a fault in the index (a sample size,
  a chunk offset, a duration) must still fail verification and leave nothing behind.
- The copy loop's ordinary-packet path (``backends.local.copy._copy_plain``) must write the
  same packets and the same evidence as the general path (``_CopyState.take``).

Whole MP4 copies go by the sample index (``backends.local.mp4_copy``, tests/test_mp4_copy.py)
before any packet loop: here it is turned off, so these files exercise the loop and its proof.
"""

from __future__ import annotations

import pytest

from backends import LocalBackend
from backends.local import copy as copy_module
from backends.local import engine
from backends.mock import MockBackend
from extractor import JobSpec, proof
from extractor.api import run_spec
from extractor.errors import VerificationFailed
from extractor.mp4index import read_index


@pytest.fixture(autouse=True)
def _packet_loop(monkeypatch):
    monkeypatch.setattr(engine, "copy_by_index", lambda plan, destination: None)


def _copy(media, tmp_path, name="mp4_aac", folder="out"):
    spec = JobSpec.build(str(media[name]), output=f"{tmp_path}/{folder}/")
    (result,) = run_spec(spec, backends={"local": LocalBackend()})
    return result


@pytest.mark.parametrize("name", ["mp4_aac", "mov_aac"])
def test_an_mp4_copy_is_proven_from_its_index_with_the_demuxs_figures(media, tmp_path, monkeypatch, name):
    demuxed = _copy(media, tmp_path, name, "demuxed")
    monkeypatch.setattr(proof, "_check_index", lambda *args: None)
    assert demuxed.verification.method == "evidence"
    monkeypatch.undo()

    def no_demux(*args):
        raise AssertionError("the index should have proven this file")

    monkeypatch.setattr(proof, "_check_packets", no_demux)
    indexed = _copy(media, tmp_path, name, "indexed")
    assert indexed.verification.method == "evidence"
    assert read_index(indexed.output) is not None
    assert indexed.verification.samples == demuxed.verification.samples
    assert indexed.verification.duration == demuxed.verification.duration


def _box(data: bytes, kind: bytes) -> int:
    """Where the payload of the (only) box ``kind`` starts in ``data``."""
    at = data.find(kind)
    assert at > 0 and data.find(kind, at + 1) < 0
    return at + 4


def _patch(kind: bytes, offset: int, change):
    """A handler: the real engine's file, with the 32-bit field ``offset`` bytes into box ``kind`` changed."""
    local = LocalBackend()

    def handler(plan, destination):
        report = local.run(plan, destination)
        data = bytearray(destination.read_bytes())
        at = _box(data, kind) + offset
        value = int.from_bytes(data[at:at + 4], "big")
        data[at:at + 4] = change(value).to_bytes(4, "big")
        destination.write_bytes(bytes(data))
        return report

    return handler


INDEX_FAULTS = [
    (b"stsz", 12, lambda size: size + 1, "a sample one byte longer"),
    (b"stsz", 12, lambda size: size - 1, "a sample one byte shorter"),
    (b"stco", 8, lambda offset: offset + 1, "a chunk one byte off"),
    (b"stts", 12, lambda delta: delta + 1, "a longer duration"),
    (b"stsz", 8, lambda count: count - 1, "a sample fewer"),
]


@pytest.mark.parametrize("kind,offset,change,what", INDEX_FAULTS, ids=[f[3] for f in INDEX_FAULTS])
def test_a_damaged_index_fails_verification(media, tmp_path, kind, offset, change, what):
    spec = JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/")
    with pytest.raises(VerificationFailed) as caught:
        run_spec(spec, backends={"local": MockBackend(_patch(kind, offset, change))})
    assert caught.value.exit_code == 10
    assert list(tmp_path.iterdir()) == []


def test_the_plain_copy_loop_writes_what_the_general_one_writes(media, tmp_path, monkeypatch):
    fast = _copy(media, tmp_path, "mp4_aac", "fast")
    calls = []
    monkeypatch.setattr(copy_module, "_copy_plain", lambda *args: calls.append(args))
    monkeypatch.setattr(copy_module._CopyState, "plain", lambda self: False)
    general = _copy(media, tmp_path, "mp4_aac", "general")
    assert not calls
    assert fast.output.read_bytes() == general.output.read_bytes()
    assert fast.verification == general.verification


def test_the_plain_copy_loop_is_the_one_a_whole_copy_takes(media, tmp_path, monkeypatch):
    taken = []
    original = copy_module._copy_plain
    monkeypatch.setattr(copy_module, "_copy_plain", lambda *args: taken.append(1) or original(*args))
    _copy(media, tmp_path)
    assert taken == [1]


def test_the_index_reader_declines_what_it_does_not_expect(media, tmp_path):
    assert read_index(media["mp4_aac"]) is None  # a video track beside the audio
    assert read_index(media["wav_audio"]) is None  # not an MP4
    copied = _copy(media, tmp_path).output
    assert read_index(copied) is not None
    (tmp_path / "junk.m4a").write_bytes(copied.read_bytes() + b"\0\0\0")  # trailing bytes after the boxes
    assert read_index(tmp_path / "junk.m4a") is None


def test_damage_met_by_the_plain_copy_loop_is_a_damaged_input(media, tmp_path, monkeypatch):
    import av

    from extractor.errors import DamagedInput

    real_open = copy_module.open_audio_only

    class Breaking:
        """The real container, whose demux fails after a few dozen packets, as damaged data does."""

        def __init__(self, container):
            self.container = container

        def demux(self, stream):
            for count, packet in enumerate(self.container.demux(stream)):
                if count == 40:
                    raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
                yield packet

        def __getattr__(self, name):
            return getattr(self.container, name)

    def opening(plan):
        container, stream = real_open(plan)
        return Breaking(container), stream

    monkeypatch.setattr(copy_module, "open_audio_only", opening)
    spec = JobSpec.build(str(media["mp4_aac"]), output=f"{tmp_path}/")
    with pytest.raises(DamagedInput) as caught:
        run_spec(spec, backends={"local": LocalBackend()})
    assert caught.value.exit_code == 11
    assert "damaged" in caught.value.one_line()
    assert list(tmp_path.iterdir()) == []
