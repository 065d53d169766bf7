"""The creator features' controls on the page: a preset picker and, for a file with chapters,
one file per chapter. They write the interpreter's own words, so the job is what typing gives."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from playwright.sync_api import expect

RESULT_TIMEOUT = 60_000


def _chaptered(path):
    out = av.open(str(path), "w", format="ipod")
    out.set_chapters([{"id": 1, "start": 0, "end": 1000, "time_base": Fraction(1, 1000), "metadata": {"title": "One"}},
                      {"id": 2, "start": 1000, "end": 2000, "time_base": Fraction(1, 1000),
                       "metadata": {"title": "Two"}}])
    stream = out.add_stream("aac", rate=48000)
    stream.layout = "stereo"
    t = np.arange(2 * 48000) / 48000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32)
    for i in range(0, audio.shape[1], 1024):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[:, i:i + 1024]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return path


def test_a_preset_and_one_file_per_chapter_from_the_page(server, page, tmp_path, shots):
    src = _chaptered(tmp_path / "book.m4a")
    page.goto(server.url)
    page.get_by_label("Or add a file already on this computer").fill(str(src))
    page.keyboard.press("Enter")
    card = page.locator("article.file")
    expect(card).to_have_count(1, timeout=30_000)
    card.get_by_label("Preset for book.m4a").select_option("podcast")
    card.get_by_label("One file per chapter (2)").check()
    field = card.get_by_role("textbox")
    expect(field).to_have_value("with the podcast preset, one file per chapter")
    field.press("Enter")
    expect(card.locator(".result")).to_have_count(2, timeout=RESULT_TIMEOUT)
    page.screenshot(path=shots / "picks.png", full_page=True)
    text = card.locator(".jobs").inner_text()
    assert "One" in text and "Two" in text and ".mp3" in text
