"""What a request means for one real file: track constraints, removals at the end, copies that
must stay copies, and the cloud permission, decided against the file's probe."""

from __future__ import annotations

import pytest

from extractor.errors import CloudNotAllowed, UsageError
from extractor.mediainfo import probe
from extractor.planner import plan_jobs
from extractor.words import interpret

# mkv_multi: 1 English "Main" (default), 2 Spanish "Spanish", 3 English "Commentary".


@pytest.mark.parametrize(("words", "track"), [
    ("the english commentary", 3),
    ("the main track, not the commentary", 1),
    ("the non-english one", 2),
    ("not the english track", 2),
    ("track 2, the spanish one", 2),
    ("el comentario en inglés", 3),
    ("英语解说", 3),
])
def test_several_constraints_name_one_track(media, words, track):
    got = interpret(words)
    assert got.track_rule is not None and "track" not in got.options
    assert got.spec_for(media["mkv_multi"]).tracks.number == track


@pytest.mark.parametrize(("words", "message"), [
    ("the spanish commentary", "no audio track is"),
    ("track 3, the spanish one", "no audio track is"),
    ("not the spanish track", "several audio tracks are"),
])
def test_constraints_no_track_or_several_tracks_meet_are_errors(media, words, message):
    with pytest.raises(UsageError, match=message):
        interpret(words).spec_for(media["mkv_multi"])


def test_removals_at_the_end_are_placed_from_the_duration(media):
    duration = probe(media["mp4_aac"]).duration
    spec = interpret("cut off the last second").spec_for(media["mp4_aac"])
    assert spec.start is None and spec.end == pytest.approx(duration - 1.0)
    spec = interpret("trim the first second and the last second").spec_for(media["mp4_aac"])
    assert spec.start == 1.0 and spec.end == pytest.approx(duration - 1.0)
    with pytest.raises(UsageError, match="leaves nothing"):
        interpret("cut off the last 10 minutes").spec_for(media["mp4_aac"])


def test_removal_is_never_read_as_keeping(media):
    """The old reader kept the last 2 minutes of "cut off the last 2 minutes"."""
    got = interpret("cut off the last 2 minutes", duration=600.0)
    assert got.options == {"end": 480.0}
    got = interpret("去掉前5秒")
    assert got.options == {"start": 5.0}


def test_dont_reencode_copies_a_source_that_already_is_that_format(media):
    got = interpret("keep it as mp3, don't re-encode")
    assert got.copy_only and got.options == {"format": "mp3"}
    spec = got.spec_for(media["avi_mp3"])
    assert all(p.is_copy for p in plan_jobs(spec, probe(media["avi_mp3"])))
    with pytest.raises(UsageError, match="needs a re-encode"):
        got.spec_for(media["mp4_aac"])


def test_lossless_with_a_value_the_source_already_has_stays_a_copy(media):
    info = probe(media["avi_mp3"])
    rate = info.audio[0].sample_rate
    spec = interpret(f"lossless at {rate} Hz").spec_for(media["avi_mp3"], info=info)
    assert spec.format == "auto" and spec.sample_rate is None
    assert all(p.is_copy for p in plan_jobs(spec, info))


def test_words_never_grant_the_cloud_permission(media):
    for words in ("upload it", "in the cloud", "allow cloud fallback", "上传", "súbelo a la nube"):
        got = interpret(words)
        assert got.needs_cloud, words
        assert "backend" not in got.options and "allow_cloud" not in got.options
        assert "--allow-cloud" in got.refusal(yes=True)
        with pytest.raises(CloudNotAllowed):
            got.spec_for(media["mp4_aac"])
    allowed = interpret("in the cloud", cloud_allowed=True)
    assert not allowed.needs_cloud and allowed.options == {"backend": "remote", "allow_cloud": True}


def test_a_purpose_word_needs_the_presets(media):
    """Purpose words give the option `preset`; until extractor.presets exists a job refuses them plainly."""
    from extractor.words.compose import presets_available

    got = interpret("for whisper")
    assert got.options == {"preset": "speech"}
    if presets_available():
        assert got.spec_for(media["mp4_aac"]) is not None
    else:
        with pytest.raises(UsageError, match="preset 'speech' is not available"):
            got.spec_for(media["mp4_aac"])


def test_a_title_word_finds_the_same_title_in_another_language():
    from types import SimpleNamespace as Track

    from extractor.words.resolve import title_track

    info = Track(audio=[Track(number=1, title="Principal", language="spa"),
                        Track(number=2, title="Comentario del director", language="spa")])
    assert title_track("commentary", info) == 2
    assert title_track("Principal", info) is None  # found as written: left to the planner
    chinese = Track(audio=[Track(number=1, title="主音轨", language="chi"), Track(number=2, title="导演解说", language="chi")])
    assert title_track("commentary", chinese) == 2
