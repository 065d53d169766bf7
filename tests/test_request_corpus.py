"""The `vax do` interpreter: a corpus of requests in five languages and the jobs they must give
(tests/request_corpus*.json, read by tests/words_corpus.py), and the sentences, clashes and
probe-dependent choices around it."""

from __future__ import annotations

import pytest
import test_words_corpus as words_corpus

from extractor.errors import UsageError
from extractor.mediainfo import probe
from extractor.planner import plan_jobs
from extractor.words.interpret import Interpretation, describe, interpret

CORPUS = words_corpus.load()


def _id(entry: dict) -> str:
    return f"{entry['lang']}:{entry['class']}:" + entry["request"][:50] + (" (follow-up)" if "previous" in entry else "")


def test_corpus_is_big_enough_and_covers_every_intent_and_language():
    assert len(CORPUS) >= 500
    assert sum(1 for e in CORPUS if e.get("refuse")) >= 60
    assert {e.get("intent") for e in CORPUS if not e.get("refuse")} == {
        "extract", "probe", "credits", "upload", "apply_all"}
    languages = {e["lang"] for e in CORPUS}
    assert {"en", "zh", "es", "de", "fr"} <= languages
    for language in ("zh", "es", "de", "fr"):
        assert sum(1 for e in CORPUS if e["lang"] == language) >= 70, language
        assert sum(1 for e in CORPUS if e["lang"] == language and e.get("refuse")) >= 8, language


@pytest.mark.parametrize("entry", CORPUS, ids=_id)
def test_corpus(entry):
    # Purpose words map to the option `preset` (the named presets of extractor.presets).
    assert words_corpus.check(entry, interpret) is None


def test_understood_sentences_are_one_line():
    for entry in CORPUS[:200]:
        if entry.get("refuse"):
            continue
        got = interpret(entry["request"], previous=entry.get("previous"), duration=entry.get("duration"),
                        cloud_allowed=bool(entry.get("cloud_allowed")))
        assert got.understood and "\n" not in got.understood


CONTRADICTIONS = [
    ("as mp3 and as flac", ["'as mp3'", "'as flac'", "formats"]),
    ("mono and stereo", ["'mono'", "'stereo'"]),
    ("mp3 320k then 128 kbps", ["'320k'", "'128 kbps'", "bitrates"]),
    ("lossless mp3", ["'lossless'", "'mp3'", "lossy"]),
    ("wav at 320 kbps", ["'wav'", "'320 kbps'"]),
    ("small file as flac", ["'small file'", "'as flac'"]),
    ("as mp3, 24-bit", ["'24-bit'", "'as mp3'"]),
    ("all tracks and track 2", ["'all tracks'", "'track 2'", "tracks"]),
    ("from 2:30 to 1:00", ["'from 2:30 to 1:00'"]),
    ("from 1:00 to 2:30, the first 30 seconds", ["'from 1:00 to 2:30'", "'the first 30 seconds'"]),
    ("the last 2 minutes starting at 10s", ["'the last 2 minutes'", "'starting at 10s'"]),
    ("podcast loudness, EBU R128", ["'podcast loudness'", "'EBU R128'"]),
    ("-14 LUFS and -23 LUFS", ["'-14 LUFS'", "'-23 LUFS'"]),
    ("normalize, no normalization", ["'normalize'", "'no normalization'"]),
    ("call it talk.flac as mp3", ["'call it talk.flac'", "'as mp3'"]),
    ("locally, upload it", ["'locally'", "'upload it'"]),
    ("status and credits", ["'status'", "'credits'"]),
    ("show tracks, the spanish one as mp3", ["'show tracks'"]),
    ("积分 导出mp3", ["'积分'", "'mp3'"]),
]


@pytest.mark.parametrize(("request_text", "words"), CONTRADICTIONS, ids=[c[0] for c in CONTRADICTIONS])
def test_contradictions_name_the_clashing_words(request_text, words):
    with pytest.raises(UsageError) as info:
        interpret(request_text)
    message = info.value.one_line()
    for word in words:
        assert word in message
    assert info.value.exit_code == 2


def test_empty_request_is_a_usage_error():
    with pytest.raises(UsageError, match="empty"):
        interpret("   ")


def test_unknown_parts_are_reported_by_name_in_the_users_own_spelling():
    got = interpret("Please extract the Spanish track with Reverb, then Speed It Up")
    assert got.options == {"lang": "spa"}
    assert got.unknown == got.out_of_scope == ("with Reverb", "Speed It Up")
    assert "vax does not do that" in got.refusal()
    assert interpret("as mp3 with Zorblax").unknown == ("with Zorblax",)
    # Filler alone is never reported.
    assert interpret("hey, could you please just get me the audio of this video file? thanks").unknown == ()


def test_understood_sentences():
    assert (interpret("Extract track 2 as MP3 320 kbps from 1:00 to 2:30").understood
            == "Extract track 2 from 01:00 to 02:30 as MP3 320 kbps")
    assert (interpret("the first 30 seconds of the spanish track, small file").understood
            == "Extract the first 30 seconds of the Spanish (spa) track as Opus 96 kbps")
    assert (interpret("lossless, the last 2 minutes").understood
            == "Extract the last 2 minutes of the default audio track as a lossless copy")
    assert (interpret("podcast loudness, call it interview.mp3").understood
            == "Extract the default audio track as MP3, normalised to -16 LUFS -> interview.mp3")
    assert interpret("状态").understood == "Show the audio tracks and details of each file"


def test_follow_up_chain():
    """A conversation about one file: each answer refines the last job."""
    first = interpret("track 2 as mp3 320k from 1:00 to 2:30, call it talk.mp3")
    assert first.options == {"track": 2, "format": "mp3", "bitrate": 320000, "start": 60.0, "end": 150.0,
                             "output": "talk.mp3"}
    second = interpret("now only the first minute", previous=first.options)
    assert second.options == {"track": 2, "format": "mp3", "bitrate": 320000, "end": 60.0, "output": "talk.mp3"}
    third = interpret("as flac instead", previous=second.options)
    assert third.options == {"track": 2, "format": "flac", "end": 60.0, "output": "talk.flac"}
    fourth = interpret("the other track, normalize", previous=third.options)
    assert fourth.options == {"track": 1, "format": "flac", "end": 60.0, "output": "talk.flac", "loudness": -16.0}
    fifth = interpret("make it louder", previous=fourth.options)
    assert fifth.options["loudness"] == -13.0
    everyone = interpret("do the same for all", previous=fifth.options)
    assert everyone.intent == "apply_all"
    assert everyone.options == fifth.options
    # `previous` itself is never modified.
    assert first.options["start"] == 60.0


def test_the_other_track_after_a_language_choice_is_ambiguous():
    with pytest.raises(UsageError, match="ambiguous"):
        interpret("the other track", previous={"lang": "spa"})


def test_interpretation_is_deterministic():
    text = "the commentary as opus 64k from 0:10 to 0:20, normalize, save to ./out"
    assert interpret(text) == interpret(text)


# -- spec_for and describe, against real (generated) media -----------------------------------

def test_spec_for_applies_overrides_and_keeps_the_request(media):
    got = interpret("the spanish track as mp3 from 0:01 to 0:02")
    spec = got.spec_for(media["mkv_multi"], output="x.mp3", overwrite=True)
    assert (spec.tracks.language, spec.format, spec.start, spec.end) == ("spa", "mp3", 1.0, 2.0)
    assert (spec.output, spec.overwrite) == ("x.mp3", True)


def test_spec_for_resolves_the_last_seconds_from_the_probe(media):
    got = interpret("the last 1 second")
    assert got.from_end == 1.0 and "start" not in got.options
    spec = got.spec_for(media["mp4_late"])
    duration = probe(media["mp4_late"]).duration
    assert spec.start == pytest.approx(duration - 1.0)


@pytest.mark.parametrize(("name", "request_text", "expected_format"), [
    ("mp4_aac", "lossless", "auto"),  # AAC copies into .m4a sample-exactly
    ("webm_opus", "lossless", "mka"),  # .opus would gain end padding: Matroska keeps it exact
    ("mkv_multi", "lossless, the spanish track", "mka"),  # raw .ac3 out of Matroska would gain priming
    ("mkv_multi", "lossless, all tracks", "mka"),
    ("mp4_aac", "lossless, mono", "flac"),  # a copy cannot be mono
])
def test_lossless_is_an_exact_copy_or_flac(media, name, request_text, expected_format):
    got = interpret(request_text)
    assert got.lossless
    spec = got.spec_for(media[name])
    assert spec.format == expected_format
    plans = plan_jobs(spec, probe(media[name]))
    for each in plans:
        if expected_format == "flac":
            assert each.mode == "transcode" and each.format.lossless
        else:
            assert each.is_copy and each.sample_exact


def test_lossless_keeps_the_users_own_file_name(media):
    spec = interpret("lossless, call it x.mka").spec_for(media["mp4_aac"])
    assert (spec.format, spec.output) == ("mka", "x.mka")


def test_describe_with_and_without_a_plan(media):
    spec = interpret("the spanish track as mp3 from 0:01 to 0:02.5").spec_for(media["mkv_multi"])
    plans = plan_jobs(spec, probe(media["mkv_multi"]))
    assert (describe(spec, plans[0])
            == "Extract track 2 (spa, AC-3) from 00:01 to 00:02.500 as MP3 192 kbps -> mkv_multi.mp3")
    assert describe(spec) == "Extract the spa track from 00:01 to 00:02.500 as MP3"
    every = interpret("all tracks").spec_for(media["mkv_multi"])
    plans = plan_jobs(every, probe(media["mkv_multi"]))
    sentences = describe(every, plans).split("; ")
    assert len(sentences) == 3
    for each, sentence in zip(plans, sentences):
        assert sentence.startswith(f"Extract track {each.track.number} (")
        assert sentence.endswith(f"in .{each.format.ext} -> {each.output.name}")
        assert ("as a lossless copy" in sentence) == each.sample_exact


def test_interpretation_contract_fields():
    got = interpret("track 2")
    assert isinstance(got, Interpretation)
    assert (got.intent, got.options, got.unknown) == ("extract", {"track": 2}, ())
    with pytest.raises(AttributeError):
        got.intent = "probe"  # frozen
