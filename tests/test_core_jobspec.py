"""The shared job spec (JSON round trip, validation) and the parsers of times and bitrates."""

from __future__ import annotations

import json

import pytest

from extractor.errors import UsageError
from extractor.jobspec import JobSpec, TrackSelection
from extractor.timeparse import format_time, parse_bitrate, parse_time


@pytest.mark.parametrize("text,seconds", [
    ("90", 90.0), ("1.5", 1.5), ("1:30", 90.0), ("01:30", 90.0), ("01:02:03.5", 3723.5),
    ("1:02:03.250", 3723.25), ("1m30s", 90.0), ("2h", 7200.0), ("45s", 45.0), ("1500ms", 1.5),
    ("1m", 60.0), (" 7 ", 7.0), (12, 12.0), (None, None), ("", None),
])
def test_parse_time(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["abc", "1:xx", "-5", "1:60:00", "1::2", "nan", "inf", "5 minutes"])
def test_parse_time_rejects(text):
    with pytest.raises(UsageError) as caught:
        parse_time(text)
    assert text.strip() in caught.value.one_line() or "positive" in caught.value.one_line()


def test_format_time():
    assert format_time(75.5) == "01:15.500"
    assert format_time(3723.25) == "1:02:03.250"
    assert format_time(3) == "00:03"


@pytest.mark.parametrize("text,bps", [
    ("192k", 192_000), ("192K", 192_000), ("192", 192_000), ("192000", 192_000), ("1.5M", 1_500_000),
    ("128kbps", 128_000), (96_000, 96_000), (None, None),
])
def test_parse_bitrate(text, bps):
    assert parse_bitrate(text) == bps


@pytest.mark.parametrize("text", ["loud", "2", "5000k", "-128k"])
def test_parse_bitrate_rejects(text):
    with pytest.raises(UsageError):
        parse_bitrate(text)


def test_json_round_trip():
    spec = JobSpec.build("in put.mp4", output="out/{stem}-{lang}.{ext}", format="mp3", lang="spa",
                         start="1:00", end="2:30.5", bitrate="192k", sample_rate=44100, channels=1,
                         overwrite=True, backend="local", loudness=-16.0)
    text = spec.to_json()
    assert json.loads(text)["tracks"] == {"number": None, "language": "spa", "title": None, "all": False}
    back = JobSpec.from_json(text)
    assert back == spec
    assert (back.start, back.end, back.bitrate) == (60.0, 150.5, 192_000)
    assert back.range_end == 150.5 and back.trims and back.wants_reencode
    assert JobSpec.from_json(JobSpec("a.mp4").to_json()) == JobSpec("a.mp4")


def test_spec_is_immutable():
    spec = JobSpec("a.mp4")
    with pytest.raises(AttributeError):
        spec.format = "mp3"
    assert spec.replace(format="mp3").format == "mp3" and spec.format == "auto"


@pytest.mark.parametrize("factory,message", [
    (lambda: JobSpec(""), "no input"),
    (lambda: JobSpec("a", format="wma"), "unknown format 'wma'"),
    (lambda: JobSpec("a", end=1, duration=1), "either --end or --duration"),
    (lambda: JobSpec("a", start=5, end=2), "must be after --start"),
    (lambda: JobSpec("a", start=-1), "cannot be negative"),
    (lambda: JobSpec("a", channels=6), "--channels must be 1 or 2"),
    (lambda: JobSpec("a", sample_rate=1000), "out of range"),
    (lambda: JobSpec("a", sample_bits=20), "16, 24 or 32"),
    (lambda: JobSpec("a", backend="cloud9"), "unknown backend"),
    (lambda: TrackSelection(number=0), "start at 1"),
    (lambda: TrackSelection(number=1, language="eng"), "choose one of"),
    (lambda: JobSpec.build("a", track=2, all_tracks=True), "choose one of"),
    (lambda: JobSpec.from_json("{not json"), "not valid JSON"),
    (lambda: JobSpec.from_json("[1, 2]"), "must be an object"),
    (lambda: JobSpec.from_json('{"input": "a", "colour": "red"}'), "unknown job spec field(s): colour"),
    (lambda: JobSpec.build("a", start="soon"), "cannot read 'soon' as a time"),
])
def test_validation_errors(factory, message):
    with pytest.raises(UsageError) as caught:
        factory()
    assert message in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_build_maps_cli_style_track_keys():
    assert JobSpec.build("a", track=2).tracks == TrackSelection(number=2)
    assert JobSpec.build("a", lang="es").tracks == TrackSelection(language="es")
    assert JobSpec.build("a", title="Comm").tracks == TrackSelection(title="Comm")
    assert JobSpec.build("a", all_tracks=True).tracks == TrackSelection(all=True)
    assert JobSpec.build("a", lang=None, title="", all_tracks=False).tracks == TrackSelection()
