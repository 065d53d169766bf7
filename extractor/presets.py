"""Named presets: a preset is a job-spec fragment, as data.

``JobSpec.build(input, preset="podcast", bitrate="192k")`` starts from the preset's values
and lets every option given beside it win; the plan says which values came from the preset
and which were overridden. ``vax presets`` prints this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    purpose: str  # one line for `vax presets` and the web page's picker
    options: dict[str, Any] = field(default_factory=dict)  # JobSpec.build keywords
    notes: tuple[str, ...] = ()  # what the preset cannot promise, in plain words


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset("podcast", "podcast episode: MP3, loudness -16 LUFS (Apple and Spotify's spoken-word level)",
               {"format": "mp3", "bitrate": 128_000, "loudness": -16.0}),
        Preset("streaming", "music streaming services: AAC in .m4a at 256 kbps, loudness -14 LUFS",
               {"format": "m4a", "bitrate": 256_000, "loudness": -14.0}),
        Preset("broadcast", "broadcast delivery: EBU R128 (-23 LUFS), 48 kHz 24-bit WAV",
               {"format": "wav", "sample_rate": 48000, "sample_bits": 24, "loudness": -23.0}),
        Preset("audiobook", "ACX audiobook: MP3 192 kbps CBR, 44.1 kHz mono, about -20 LUFS, peaks under -3 dBFS",
               {"format": "mp3", "bitrate": 192_000, "sample_rate": 44100, "channels": 1, "loudness": -20.0,
                "true_peak": -3.5},
               (("ACX measures RMS (-23 to -18 dBFS), not LUFS: for speech -20 LUFS lands inside that window; "
                 "check the result with `vax loudness`"), "room tone is kept: silences are not trimmed")),
        Preset("cd", "audio CD: 44.1 kHz, 16-bit, stereo WAV", {"format": "wav", "sample_rate": 44100,
                                                                 "sample_bits": 16, "channels": 2}),
        # exact: a stream copy cuts at packet boundaries and can end a few ms past 30 s.
        Preset("ringtone", "iPhone ringtone: AAC in .m4r, at most 30 seconds, cut to the sample",
               {"format": "m4r", "max_duration": 30.0, "exact": True}),
        Preset("speech", "speech-to-text (Whisper and others): 16 kHz mono 16-bit WAV, levelled to -20 LUFS",
               {"format": "wav", "sample_rate": 16000, "channels": 1, "sample_bits": 16, "loudness": -20.0}),
    ]
}


def preset_named(name: str) -> Preset:
    from .errors import UsageError

    key = (name or "").strip().lower()
    if key not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}", hint="see `vax presets`")
    return PRESETS[key]


def apply_preset(name: str, options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The preset's values under the given options (given values win), and what was overridden."""
    preset = preset_named(name)
    # "auto" and False are what an option is when nobody set it: they never override a preset.
    given = {k: v for k, v in options.items() if v is not None and v is not False and v != "auto"}
    overridden = sorted(k for k in preset.options if k in given and given[k] != preset.options[k])
    return {**preset.options, **given}, overridden


def describe_settings(options: dict[str, Any]) -> str:
    """A preset's values in the words of the command line."""
    shown = []
    for key, value in options.items():
        if key == "bitrate":
            shown.append(f"--bitrate {value // 1000}k")
        elif key == "max_duration":
            shown.append(f"at most {value:g} s")
        elif key == "true_peak":
            shown.append(f"true peak <= {value:g} dBTP")
        elif key == "exact":
            shown.append("--exact")
        elif key == "sample_bits":
            shown.append(f"--bits {value}")
        else:
            shown.append(f"--{key.replace('_', '-')} {value:g}" if isinstance(value, float)
                         else f"--{key.replace('_', '-')} {value}")
    return ", ".join(shown)
