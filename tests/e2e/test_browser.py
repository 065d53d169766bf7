"""`vax serve` end to end in a real headless Chromium, driven by Playwright.

A user's path: open the page, add a phone video, type "just the audio as mp3 please", wait for
the result, download it; then refine it twice. The downloads are checked by codec, duration
and FFT (the right track). Screenshots of the empty page and of a finished result are saved
in the test's output folder, to look at.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from fixtures.generate import Tone, Video, decode_track, dominant_freq, make_media

RESULT_TIMEOUT = 90_000  # ms; a 3 s MP3 encode takes well under a second, but CI machines are shared


def phone_video(folder: Path) -> Path:
    """Like a phone clip, but with a second (commentary) track so "the right track" means something."""
    return make_media(folder / "phone video.mp4", duration=3.0, video=Video(), tones=[
        Tone(440, language="eng", default=True), Tone(660, language="eng", title="Commentary", default=False)])


def download(page, link, folder: Path) -> Path:
    with page.expect_download() as info:
        link.click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def audio_facts(path: Path) -> tuple[str, float, float]:
    import av

    with av.open(str(path)) as container:
        codec = container.streams.audio[0].codec_context.name
    samples, rate = decode_track(path)
    return codec, samples.shape[1] / rate, dominant_freq(samples, rate)


def test_drop_a_video_ask_for_mp3_download_refine(server, page, tmp_path, shots):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    video = phone_video(tmp_path)

    page.goto(server.url)
    expect(page.get_by_role("heading", name="Add videos")).to_be_visible()
    assert "token=" not in page.url  # the page keeps the token itself
    assert page.context.cookies() == []  # and never in a cookie, which every port of 127.0.0.1 would get
    page.screenshot(path=shots / "empty.png", full_page=True)
    assert_every_control_is_labelled(page)

    page.set_input_files("#file-input", str(video))
    card = page.locator("article.file")
    expect(card).to_have_count(1, timeout=30_000)
    expect(card.locator("table.tracks tbody tr")).to_have_count(2)
    expect(card.locator("table.tracks")).to_contain_text("Commentary")

    request = page.get_by_label("What do you want from phone video.mp4?")
    expect(request).to_be_focused()
    request.fill("just the audio as mp3 please")
    expect(card.locator(".understood")).to_contain_text("mp3", ignore_case=True, timeout=10_000)
    expect(card.locator(".preview")).to_contain_text("Will be saved as: phone video.mp3")
    page.keyboard.press("Enter")

    results = card.locator(".result")
    expect(results).to_have_count(1, timeout=RESULT_TIMEOUT)
    expect(card.locator(".job .status").first).to_have_text("done")
    expect(results.first.locator("img.wave")).to_be_visible()
    assert results.first.locator("img.wave").evaluate("img => img.naturalWidth") > 0
    expect(results.first.locator("audio")).to_have_count(1)
    expect(results.first).to_contain_text("Re-encoded")
    expect(results.first.locator(".plain")).to_contain_text("Converted to MP3")
    expect(results.first.locator("dl.facts")).not_to_be_visible()  # the details wait behind a toggle
    results.first.get_by_text("Details").click()
    expect(results.first.locator("dl.facts")).to_be_visible()
    page.screenshot(path=shots / "result.png", full_page=True)

    first = download(page, results.first.get_by_role("link", name="Download phone video.mp3"), downloads)
    codec, duration, freq = audio_facts(first)
    assert first.name == "phone video.mp3" and codec.startswith("mp3")
    assert abs(duration - 3.0) < 0.1 and abs(freq - 440) < 5

    # Refine: the follow-up builds on the last job of this file.
    request.fill("now only the first second")
    expect(card.locator(".understood")).not_to_be_empty(timeout=10_000)
    card.get_by_role("button", name="Run the request for phone video.mp4").click()
    expect(results).to_have_count(2, timeout=RESULT_TIMEOUT)
    second = download(page, results.first.get_by_role("link", name="Download phone video, first 1 s.mp3"), downloads)
    codec, duration, freq = audio_facts(second)
    assert codec.startswith("mp3") and abs(duration - 1.0) < 0.06 and abs(freq - 440) < 5

    request.fill("as flac instead")
    page.keyboard.press("Enter")
    expect(results).to_have_count(3, timeout=RESULT_TIMEOUT)
    third = download(page, results.first.get_by_role("link", name="Download phone video, first 1 s.flac"), downloads)
    codec, duration, freq = audio_facts(third)
    assert codec == "flac" and abs(duration - 1.0) < 0.06 and abs(freq - 440) < 5
    page.screenshot(path=shots / "refined.png", full_page=True)

    # The session survives a reload of the page.
    page.reload()
    expect(page.locator("article.file .result")).to_have_count(3)


def test_remove_one_file_with_the_keyboard(server, page, tmp_path):
    video = phone_video(tmp_path)
    before = video.read_bytes()
    page.goto(server.url)
    cards = page.locator("article.file")
    path_field = page.get_by_label("Or add a file already on this computer")
    for count in (1, 2):  # the same file twice, as two cards
        # Enter on the path field itself: a card that just arrived takes the keyboard focus.
        path_field.fill(str(video))
        path_field.press("Enter")
        expect(cards).to_have_count(count, timeout=30_000)
    expect(cards.first.locator("h3")).to_have_text("phone video (2).mp4")  # one name per card
    assert_every_control_is_labelled(page)
    page.on("dialog", lambda dialog: dialog.accept())
    remove = cards.first.get_by_role("button", name="Remove phone video (2).mp4 from the session")
    expect(remove).to_have_text("Remove")
    remove.focus()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(1)
    expect(cards.first.get_by_label("What do you want from phone video.mp4?")).to_be_focused()
    expect(page.locator("#status-line")).to_contain_text("Removed phone video (2).mp4")
    page.reload()
    expect(cards).to_have_count(1)
    cards.first.get_by_role("button", name="Remove phone video.mp4 from the session").click()
    expect(cards).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    assert video.read_bytes() == before


def assert_every_control_is_labelled(page) -> None:
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('button, input, a[href], audio, progress')]
        .filter(el => {
            const label = el.getAttribute('aria-label') || (el.labels && [...el.labels].map(l => l.textContent).join(''))
                || el.textContent;
            return !(label && label.trim());
        }).map(el => el.outerHTML)""")
    assert unlabelled == []
    names = page.evaluate("""() => [...document.querySelectorAll('button, a[href], input:not([hidden])')]
        .map(el => el.getAttribute('aria-label') || (el.labels && el.labels.length ? el.labels[0].textContent : el.textContent.trim()))""")
    assert len(names) == len(set(names)), f"controls share a name: {sorted(names)}"
    # Keyboard: Tab reaches the file chooser button, the path field and the cloud switch.
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent"))
    assert "choose" in reached and "path-input" in reached and "cloud" in reached


def test_removal_keeps_the_focus_when_the_event_stream_is_quicker(server, page, tmp_path):
    """The session's event stream may drop the card before the DELETE answers (CI saw it): the
    keyboard focus still moves to the next card, not to the page's body."""
    import time

    video = phone_video(tmp_path)
    page.goto(server.url)
    cards = page.locator("article.file")
    path_field = page.get_by_label("Or add a file already on this computer")
    for count in (1, 2):
        path_field.fill(str(video))
        path_field.press("Enter")
        expect(cards).to_have_count(count, timeout=30_000)

    def answer_late(route):
        response = route.fetch()  # the server removes the file and tells the event stream
        time.sleep(1.5)  # the browser goes on meanwhile and drops the card from the stream's event
        route.fulfill(response=response)

    page.route("**/api/files/*", answer_late)
    page.on("dialog", lambda dialog: dialog.accept())
    remove = cards.first.get_by_role("button", name="Remove phone video (2).mp4 from the session")
    remove.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#status-line")).to_contain_text("Removed phone video (2).mp4")
    expect(cards).to_have_count(1)
    expect(cards.first.get_by_label("What do you want from phone video.mp4?")).to_be_focused()
