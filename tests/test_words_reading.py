"""How a request is read: typos, the user's own spelling in messages, languages, numbers, follow-ups."""

from __future__ import annotations

import pytest

from extractor.errors import UsageError
from extractor.words import interpret
from extractor.words.normalize import normalize


def test_typos_are_corrected_and_shown():
    got = interpret("extract teh audoi as mp3, normalzie")
    assert got.options == {"format": "mp3", "loudness": -16.0}
    assert ("audoi", "audio") in got.corrections and ("normalzie", "normalize") in got.corrections


def test_words_far_from_the_vocabulary_stay_unknown():
    got = interpret("as mp3 zorblax")
    assert got.unknown == ("zorblax",)
    assert interpret("the frist 30 secnds").options == {"end": 30.0}


def test_did_you_mean_for_a_word_too_far_to_correct():
    got = interpret("as mp3, spnsh")
    assert got.unknown == ("spnsh",)
    assert ("spnsh", "spanish") in got.suggestions


def test_unknown_words_are_quoted_as_the_user_wrote_them_in_any_language():
    assert interpret("la pista española con Zorblax").unknown == ("con Zorblax",)
    assert interpret("die spanische Tonspur mit Zorblax").unknown == ("mit Zorblax",)


def test_the_normalized_text_maps_back_to_the_original_characters():
    text = "les 30 premières secondes en MP3"
    norm = normalize(text)
    assert norm.text == "the first 30 seconds in mp3"
    start = norm.text.index("mp3")
    a, b = norm.source(start, start + 3)
    assert text[a:b] == "MP3"


@pytest.mark.parametrize(("words", "code"), [
    ("the spanish track", "spa"), ("la pista en español", "spa"), ("die spanische Tonspur", "spa"),
    ("la piste espagnole", "spa"), ("西班牙语音轨", "spa"), ("lang sv", "swe"), ("the czech track", "cze"),
    ("la versión japonesa", "jpn"), ("die deutsche Fassung", "ger"),
])
def test_language_names_in_every_request_language(words, code):
    assert interpret(words).options == {"lang": code}


@pytest.mark.parametrize(("words", "end"), [
    ("the first twenty five seconds", 25.0), ("los primeros treinta y cinco segundos", 35.0),
    ("die ersten fünfzig Sekunden", 50.0), ("les trente premières secondes", 30.0), ("前三十秒", 30.0),
    ("the first minute and a half", 90.0), ("die ersten fünfundzwanzig Sekunden", 25.0),
    ("los primeros veinticinco segundos", 25.0), ("les vingt-cinq premières secondes", 25.0),
])
def test_numbers_in_words(words, end):
    assert interpret(words).options == {"end": end}


def test_short_words_of_other_languages_are_not_language_codes():
    assert interpret("24 bits en flac").options == {"sample_bits": 24, "format": "flac"}
    assert interpret("el audio por favor en mp3").options == {"format": "mp3"}


def test_a_positive_loudness_target_is_refused_not_flipped():
    with pytest.raises(UsageError, match="below 0 LUFS"):
        interpret("normalize to +5 LUFS")
    assert interpret("normalize to 14 LUFS").options == {"loudness": -14.0}  # a bare number has no sign to flip


def test_yes_is_safe_only_without_a_selection():
    assert interpret("as mp3 with zorblax").yes_safe
    assert not interpret("the first 30 seconds zorblax").yes_safe
    assert not interpret("the spanish track zorblax").yes_safe
    assert not interpret("cut off the last second zorblax").yes_safe
    assert interpret("the first 30 seconds zorblax").refusal(yes=True)


def test_start_over_drops_the_previous_job():
    got = interpret("start over, as wav", previous={"format": "mp3", "end": 30.0, "track": 2})
    assert got.start_over and got.options == {"format": "wav"}
    assert interpret("as wav", previous={"end": 30.0}).options == {"end": 30.0, "format": "wav"}


def test_out_of_scope_alone_is_an_error_that_says_what_vax_can_do():
    for words in ("add reverb", "remove background noise", "translate it", "upload it to youtube", "加混响"):
        with pytest.raises(UsageError) as info:
            interpret(words)
        assert "vax does not do that" in info.value.one_line()
        assert "it can extract a track" in info.value.one_line()


@pytest.mark.parametrize(("words", "options", "trim_end"), [
    ("everything but the first 10 seconds", {"start": 10.0}, None),
    ("all except the last 5 seconds", {}, 5.0),
    ("skip to 1:00", {"start": 60.0}, None),
    ("the audio after the first minute", {"start": 60.0}, None),
    ("everything before 2:00", {"end": 120.0}, None),
])
def test_phrasings_that_keep_the_other_part(words, options, trim_end):
    got = interpret(words)
    assert (got.options, got.trim_end, got.unknown) == (options, trim_end, ())


@pytest.mark.parametrize("words", ["anything other than the first 10 seconds", "the spanish track, other than zorblax"])
def test_a_left_over_word_that_could_invert_the_rest_is_never_dropped(words):
    got = interpret(words)
    assert got.unknown and not got.yes_safe
    assert got.refusal(yes=True)


@pytest.mark.parametrize(("words", "trim_end", "start", "excluded"), [
    ("todo menos los primeros 10 segundos", None, 10.0, ()),
    ("alles außer den letzten 5 Sekunden", 5.0, None, ()),
    ("tout sauf les 10 premières secondes", None, 10.0, ()),
    ("除了最后5秒", 5.0, None, ()),
    ("all but the spanish track", None, None, ("spa",)),
    ("除了西班牙语音轨", None, None, ("spa",)),
])
def test_except_in_every_language(words, trim_end, start, excluded):
    got = interpret(words)
    assert got.unknown == () and got.trim_end == trim_end and got.options.get("start") == start
    assert (got.track_rule.exclude_langs if got.track_rule else ()) == excluded


@pytest.mark.parametrize("words", ["not mono", "dont make it mono", "mp3 but not 320k"])
def test_yes_never_runs_what_a_left_over_not_could_invert(words):
    got = interpret(words)
    assert got.unknown and not got.yes_safe and got.refusal(yes=True)


@pytest.mark.parametrize(("words", "start"), [
    ("I dont want the first 10 seconds", 10.0), ("no quiero los primeros 5 segundos", 5.0),
    ("ich will nicht die ersten 5 Sekunden", 5.0), ("不要前5秒", 5.0),
])
def test_not_wanting_the_first_seconds_removes_them(words, start):
    got = interpret(words)
    assert got.options == {"start": start} and got.unknown == ()
