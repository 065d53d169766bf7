"""Durations from what was read: an input that declares less than it holds still verifies.

A file joined from parts by stream copy (ffmpeg's concat demuxer) keeps every part's AAC
priming packet but squeezes the timestamps so that the whole declares the sum of the parts'
lengths: decoders deliver more than the header says. The output is checked against what was
read, and the declared length is reported as information.
"""

from __future__ import annotations

import av
import pytest

from extractor import JobSpec
from extractor.api import run_spec
from extractor.errors import VerificationFailed
from fixtures.generate import Tone, decode_track, make_media
from fixtures.joined import join_as_concat

PARTS, PART_SECONDS, RATE = 6, 2.0, 48000


def _joined(folder, count: int = PARTS):
    """The parts' packets one after the other, as the concat demuxer times them: each part is
    shifted by the parts before it, and a timestamp that would go back is bumped by one tick."""
    parts = [make_media(folder / f"part{k}.mp4", duration=PART_SECONDS, tones=[Tone(440.0, "aac")], video=None)
             for k in range(count)]
    return join_as_concat(parts, folder / "joined.mp4", PART_SECONDS, RATE)


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    return _joined(tmp_path_factory.mktemp("joined"))


def test_the_joined_file_declares_less_than_it_holds(joined):
    samples, rate = decode_track(joined)
    with av.open(str(joined)) as c:
        declared = c.duration / 1e6
    assert samples.shape[1] / rate - declared > 0.1  # more than any verification tolerance


@pytest.mark.parametrize("fmt", ["auto", "wav", "flac", "mp3"])
def test_an_output_of_the_joined_file_verifies_against_what_was_read(joined, tmp_path, fmt):
    samples, rate = decode_track(joined)
    (result,) = run_spec(JobSpec.build(str(joined), format=fmt, output=f"{tmp_path}/"))
    v = result.verification
    assert v.declared_duration is not None and v.declared_duration < v.duration
    assert v.duration == pytest.approx(samples.shape[1] / rate, abs=0.03)  # all of it, nothing cut at the header's end
    decoded, out_rate = decode_track(result.output)
    assert decoded.shape[1] / out_rate == pytest.approx(samples.shape[1] / rate, abs=0.03)


def test_a_copy_verified_by_full_decode_too(joined, tmp_path):
    (result,) = run_spec(JobSpec.build(str(joined), output=f"{tmp_path}/", verify="full"))
    assert result.verification.method == "decode" and result.verification.declared_duration is not None


def test_a_short_output_still_fails_against_the_declared_length(joined, tmp_path):
    from backends import LocalBackend
    from backends.mock import MockBackend
    from extractor.mediainfo import probe
    from extractor.planner import plan_jobs

    local = LocalBackend()

    def half(plan, destination):
        other = plan_jobs(plan.spec.replace(duration=PARTS * PART_SECONDS / 2), probe(plan.spec.input))[0]
        return local.run(other, destination)

    with pytest.raises(VerificationFailed, match="duration is 6.0"):
        run_spec(JobSpec.build(str(joined), format="wav", output=f"{tmp_path}/"), backends={"local": MockBackend(half)})
    assert list(tmp_path.iterdir()) == []


def test_a_join_of_two_parts_keeps_the_audio_its_header_leaves_out(tmp_path):
    """Less past the declared end than any tolerance, but more than one frame: that is audio,
    not a codec's end padding (which lies within the last frame), and none of it is dropped."""
    joined = _joined(tmp_path, count=2)
    samples, rate = decode_track(joined)
    with av.open(str(joined)) as c:
        declared = round(c.duration / 1e6 * rate)
    assert 1024 < samples.shape[1] - declared < 0.05 * rate
    (result,) = run_spec(JobSpec.build(str(joined), format="wav", output=f"{tmp_path}/out/"))
    decoded, _ = decode_track(result.output)
    assert decoded.shape[1] == samples.shape[1]


def test_end_padding_within_the_last_frame_is_still_trimmed(tmp_path):
    part = make_media(tmp_path / "part.mp4", duration=PART_SECONDS, tones=[Tone(440.0, "aac")], video=None)
    (result,) = run_spec(JobSpec.build(str(part), format="wav", output=f"{tmp_path}/out/"))
    decoded, rate = decode_track(result.output)
    assert decoded.shape[1] == round(PART_SECONDS * rate)
