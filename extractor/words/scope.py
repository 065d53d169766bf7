"""What vax does not do, said plainly, with what it can do instead."""

from __future__ import annotations

CAN_DO = ("it can extract a track (by number, language or title), trim it (a range, the first or last part), "
          "convert it (mp3, wav, flac, m4a, opus, ...; bitrate, sample rate, mono/stereo, bit depth), "
          "normalise its loudness, name the output, and show a file's tracks")


def out_of_scope_message(parts: tuple[str, ...]) -> str:
    said = ", ".join(repr(p) for p in parts)
    return f"vax does not do that ({said}); it gets the audio out of videos: {CAN_DO}"
