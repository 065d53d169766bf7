"""What a person trips on, in a real Chromium: a phone's width, a drop beside the box, two
tabs, a screen reader's announcements, an AC-3 result in a browser that cannot play AC-3,
and failed uploads that pile up.
"""

from __future__ import annotations

import base64

from playwright.sync_api import expect

from fixtures.generate import Tone, Video, make_media

RESULT_TIMEOUT = 60_000
LONG_NAME = "会議の録音と字幕のための長い名前のビデオファイル" * 2 + ".mp4"  # 48 characters, 144 bytes before .mp4


def add_by_path(page, path) -> None:
    page.get_by_label("Or add a file already on this computer").fill(str(path))
    page.keyboard.press("Enter")


def test_a_phone_shows_everything_without_sideways_scroll(server, browser, tmp_path, shots):
    video = make_media(tmp_path / LONG_NAME, duration=2.0, video=Video(), tones=[
        Tone(440, language="jpn", title="Japanese commentary with a long title", default=True),
        Tone(660, language="eng", title="English dub")])
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True,
                                has_touch=True)
    try:
        page = phone.new_page()
        page.goto(server.url)
        add_by_path(page, video)
        card = page.locator("article.file")
        expect(card).to_have_count(1, timeout=30_000)
        card.get_by_role("textbox").fill("the english track as mp3")
        page.keyboard.press("Enter")
        expect(card.locator(".result")).to_have_count(1, timeout=RESULT_TIMEOUT)
        card.locator(".result").get_by_text("Details").click()
        page.screenshot(path=shots / "phone.png", full_page=True)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] == 390, f"the page scrolls sideways: {widths}"
        # Named by what was asked; a long stem is cut by its bytes, so the name fits any disk.
        name = card.locator(".result-name").inner_text()
        assert name.endswith(", eng.mp3") and LONG_NAME.startswith(name[:30]) and len(name.encode()) <= 200
    finally:
        phone.close()


def test_a_file_dropped_beside_the_box_is_added_and_the_page_stays(server, page, tmp_path):
    video = make_media(tmp_path / "dropped.mp4", duration=1.0, video=Video(), tones=[Tone(440)])
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Add videos")).to_be_visible()
    address = page.url
    payload = base64.b64encode(video.read_bytes()).decode()
    prevented = page.evaluate("""(payload) => {
        const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "dropped.mp4", { type: "video/mp4" }));
        const target = document.querySelector("#settings-title");  // far from the dashed box
        const over = new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true });
        const drop = new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
        target.dispatchEvent(over);
        target.dispatchEvent(drop);
        return [over.defaultPrevented, drop.defaultPrevented];  // not prevented: the browser opens the file
    }""", payload)
    assert prevented == [True, True]
    expect(page.locator("article.file h3")).to_have_text("dropped.mp4", timeout=30_000)
    assert page.url == address


def test_two_tabs_stay_in_step(server, context, tmp_path):
    video = make_media(tmp_path / "shared.mp4", duration=1.0, video=Video(), tones=[Tone(440)])
    first, second = context.new_page(), context.new_page()
    first.goto(server.url)
    expect(first.get_by_role("heading", name="Add videos")).to_be_visible()
    second.goto(server.base + "/")  # a second tab of the same page: the token is in the origin's storage
    expect(second.get_by_role("heading", name="Add videos")).to_be_visible()
    add_by_path(first, video)
    expect(second.locator("article.file h3")).to_have_text("shared.mp4", timeout=10_000)
    first.locator("#cloud").check()
    expect(second.locator("#cloud")).to_be_checked(timeout=10_000)
    second.on("dialog", lambda dialog: dialog.accept())
    second.get_by_role("button", name="Remove shared.mp4 from the session").click()
    expect(first.locator("article.file")).to_have_count(0, timeout=10_000)
    expect(first.locator("#empty")).to_be_visible()


def test_an_ac3_result_plays_a_preview_and_is_announced(server, page, tmp_path, shots):
    movie = make_media(tmp_path / "movie.mkv", duration=2.0, video=Video(), tones=[
        Tone(440, codec="ac3", layout="5.1", language="eng")])
    page.goto(server.url)
    add_by_path(page, movie)
    card = page.locator("article.file")
    expect(card).to_have_count(1, timeout=30_000)
    card.get_by_role("textbox").fill("as ac3")
    expect(card.locator(".preview")).to_contain_text("Will be saved as: movie.ac3", timeout=10_000)
    page.keyboard.press("Enter")
    announcer = page.get_by_role("status").and_(page.locator("#announcer"))
    expect(announcer).to_have_text("Done for movie.mkv: movie.ac3 is ready.", timeout=RESULT_TIMEOUT)
    result = card.locator(".result")
    expect(result).to_contain_text("plays a stereo preview")
    # One tab stop to play, one to download, one for the details: not a player's six.
    stops = result.evaluate("""(node) => [...node.querySelectorAll('button, a[href], summary, audio[controls], input')]
        .filter((el) => el.tabIndex >= 0).length""")
    assert stops == 3
    result.get_by_role("button", name="Play movie.ac3").click()
    page.wait_for_function("() => { const a = document.querySelector('.result audio'); return a.currentTime > 0.3; }",
                           timeout=15_000)
    state = result.evaluate("(node) => { const a = node.querySelector('audio'); return [a.error, a.currentSrc]; }")
    assert state[0] is None and ".preview.opus" in state[1]
    expect(result.get_by_role("button", name="Pause movie.ac3")).to_be_visible()
    page.screenshot(path=shots / "ac3-preview.png", full_page=True)
    with page.expect_download() as info:
        result.get_by_role("link", name="Download movie.ac3").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "movie.ac3" and saved.read_bytes()[:2] == b"\x0b\x77"  # the AC-3 sync word


def test_failed_uploads_are_announced_and_can_be_dismissed(server, page, tmp_path, shots):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Add videos")).to_be_visible()
    page.set_input_files("#file-input", [str(notes), str(notes)])
    rows = page.locator("#uploads li.failed")
    expect(rows).to_have_count(2)
    expect(page.locator("#announcer")).to_contain_text("not a media file")
    page.screenshot(path=shots / "failed-uploads.png")
    assert page.get_by_role("button", name="Choose video or audio files to add").count() == 0  # the hidden input
    page.get_by_role("button", name="Dismiss the failed upload of notes.txt (2)", exact=True).click()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Dismiss the failed upload of notes.txt", exact=True).click()
    expect(rows).to_have_count(0)
