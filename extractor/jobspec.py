"""The shared job spec: what the user asked for, independent of how it will be done.

Every backend takes the same spec. It is immutable, validated on construction, and
round-trips through JSON (``JobSpec.from_json(spec.to_json()) == spec``), so a request
can be queued, logged, sent to a helper process or written in a test table.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError
from .policy import FORMATS
from .timeparse import parse_bitrate, parse_time

BACKENDS = ("auto", "local", "remote")
CHANNEL_CHOICES = (1, 2)
SAMPLE_BITS = (16, 24, 32)
SPLITS = (None, "chapters", "times", "silence")
VERIFY_MODES = ("evidence", "full")


@dataclass(frozen=True)
class TrackSelection:
    """Which audio track(s). Track numbers count audio tracks from 1, as ``vax probe`` lists them."""

    number: int | None = None
    language: str | None = None
    title: str | None = None
    all: bool = False

    def __post_init__(self):
        chosen = [self.number is not None, self.language is not None, self.title is not None, self.all]
        if sum(chosen) > 1:
            raise UsageError("choose one of --track, --lang, --title and --all-tracks")
        if self.number is not None and self.number < 1:
            raise UsageError(f"track numbers start at 1 (got {self.number}); see `vax probe FILE`")

    def describe(self) -> str:
        if self.all:
            return "all audio tracks"
        if self.number is not None:
            return f"track {self.number}"
        if self.language:
            return f"the {self.language} track"
        if self.title:
            return f"the track titled {self.title!r}"
        return "the default audio track"


@dataclass(frozen=True)
class JobSpec:
    input: str
    output: str | None = None  # a file path, a folder, or a template with {stem} {ext} {track} {lang} {title}
    tracks: TrackSelection = field(default_factory=TrackSelection)
    start: float | None = None
    end: float | None = None
    duration: float | None = None
    format: str = "auto"
    bitrate: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    sample_bits: int | None = None
    exact: bool = False  # force a transcode so trims are sample-accurate
    keep_offset: bool = True  # keep a late-starting track's offset relative to the video
    loudness: float | None = None  # target integrated loudness in LUFS (EBU R128)
    overwrite: bool = False
    backend: str = "auto"
    allow_cloud: bool = False
    salvage: bool = False
    keep_tags: bool = True  # carry file-level tags, cover art and chapters where the output holds them
    remote_url: str | None = None  # the cloud service's base URL (None: VAX_REMOTE_URL, config, production)
    preset: str | None = None  # the named preset the values started from (extractor.presets)
    true_peak: float | None = None  # dBTP ceiling for loudness normalisation (None: -1.5)
    max_duration: float | None = None  # seconds the output may last at most (a ringtone's 30 s)
    split: str | None = None  # one file per piece: "chapters", "times" (split_points) or "silence"
    split_points: tuple = ()  # ((seconds, title or None), ...) where pieces start, for split="times"
    trim_silence: bool = False  # cut leading and trailing silence (sample-exact)
    silence_threshold: float | None = None  # dBFS under which audio counts as silent (None: -50)
    silence_min: float | None = None  # seconds a silence must last (None: 0.5)
    piece_min: float | None = None  # split on silence: no piece shorter (merged into the next)
    piece_max: float | None = None  # split on silence: no piece longer (cut evenly)
    keep_mtime: bool = False  # give each output the source's modification time
    timeout: float | None = None  # seconds a job may run before it is stopped (a hung decoder)
    waveform: str | None = None  # also draw each output's waveform into this PNG
    verify: str = "evidence"  # prove the output from what the engine wrote, or "full": decode all of it

    def __post_init__(self):
        # JSON gives lists: hold the points as tuples, so a spec equals its round trip.
        object.__setattr__(self, "split_points", tuple((float(at), title) for at, title in self.split_points))
        self._check_pieces()
        if not self.input:
            raise UsageError("no input file given")
        if self.format not in ("auto", *FORMATS):
            raise UsageError(f"unknown format {self.format!r}; choose from auto, {', '.join(FORMATS)}")
        if self.end is not None and self.duration is not None:
            raise UsageError("give either --end or --duration, not both")
        for name in ("start", "end", "duration"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise UsageError(f"--{name} cannot be negative")
        if self.duration is not None and self.duration == 0:
            raise UsageError("--duration must be more than zero")
        if self.end is not None and self.end <= (self.start or 0.0):
            raise UsageError(f"--end ({self.end:g}s) must be after --start ({self.start or 0:g}s)")
        if self.channels is not None and self.channels not in CHANNEL_CHOICES:
            raise UsageError("--channels must be 1 or 2")
        if self.sample_rate is not None and not 8000 <= self.sample_rate <= 192000:
            raise UsageError(f"--sample-rate {self.sample_rate} is out of range (8000 to 192000)")
        if self.sample_bits is not None and self.sample_bits not in SAMPLE_BITS:
            raise UsageError("sample bits must be 16, 24 or 32")
        self._check_levels()
        if self.verify not in VERIFY_MODES:
            raise UsageError(f"unknown verification {self.verify!r}; choose from {', '.join(VERIFY_MODES)}")
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}; choose from {', '.join(BACKENDS)}")

    def _check_levels(self) -> None:
        if self.loudness is not None and not -70 <= self.loudness <= -5:
            raise UsageError(f"loudness target {self.loudness} LUFS is out of range (-70 to -5)")
        if self.true_peak is not None and not -9 <= self.true_peak <= 0:
            raise UsageError(f"true-peak ceiling {self.true_peak} dBTP is out of range (-9 to 0)")
        if self.max_duration is not None and self.max_duration <= 0:
            raise UsageError("the longest output allowed must be more than zero seconds")

    def _check_pieces(self) -> None:
        if self.split not in SPLITS:
            raise UsageError(f"unknown split {self.split!r}; choose from {', '.join(s for s in SPLITS if s)}")
        if self.split == "times" and not self.split_points:
            raise UsageError("--split-at needs at least one time")
        if any(at < 0 for at, _ in self.split_points):
            raise UsageError("split times cannot be negative")
        if self.silence_min is not None and self.silence_min <= 0:
            raise UsageError("the shortest silence must be more than zero seconds")
        if self.silence_threshold is not None and not -120 <= self.silence_threshold < 0:
            raise UsageError(f"silence threshold {self.silence_threshold} dBFS is out of range (-120 to 0)")
        if self.piece_max is not None and self.piece_max <= max(self.piece_min or 0.0, 0.0):
            raise UsageError("the longest piece must be longer than the shortest")
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError("--timeout must be more than zero seconds")

    # -- the requested range -------------------------------------------------------------
    @property
    def range_end(self) -> float | None:
        """End of the requested range in seconds of the source timeline, or None for 'to the end'."""
        start = self.start or 0.0
        end = start + self.duration if self.duration is not None else self.end
        if self.max_duration is not None and (end is None or end - start > self.max_duration):
            end = start + self.max_duration
        return end

    @property
    def trims(self) -> bool:
        return bool(self.start) or self.range_end is not None

    @property
    def wants_reencode(self) -> bool:
        """Options that cannot be honoured by a stream copy."""
        return bool(
            self.bitrate or self.sample_rate or self.channels or self.sample_bits
            or self.loudness is not None or self.exact and self.trims or self.trim_silence
        )

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        data = dict(data)
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise UsageError(f"unknown job spec field(s): {', '.join(sorted(unknown))}")
        tracks = data.pop("tracks", None) or {}
        if isinstance(tracks, dict):
            tracks = TrackSelection(**tracks)
        return cls(tracks=tracks, **data)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"job spec is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict):
            raise UsageError("job spec JSON must be an object")
        return cls.from_dict(data)

    @classmethod
    def build(cls, input: str, **options: Any) -> JobSpec:
        """Build from loose user values (strings for times and bitrates, CLI-style track keys)."""
        track_keys = {"track": "number", "lang": "language", "language": "language", "title": "title",
                      "all_tracks": "all"}
        selection = {track_keys[k]: options.pop(k) for k in list(options) if k in track_keys}
        # Not `v not in (None, False, "")`: 0 == False, and --track 0 must be refused, not ignored.
        selection = {k: v for k, v in selection.items() if v is not None and v is not False and v != ""}
        for name in ("start", "end", "duration", "timeout", "max_duration", "silence_min", "piece_min", "piece_max"):
            if options.get(name) is not None:
                options[name] = parse_time(options[name])
        if "bitrate" in options:
            options["bitrate"] = parse_bitrate(options["bitrate"])
        options = {k: v for k, v in options.items() if v is not None}
        if options.get("preset"):
            from .presets import apply_preset

            options, _ = apply_preset(options["preset"], options)
            options["preset"] = options["preset"].strip().lower()
        return cls(input=str(input), tracks=TrackSelection(**selection), **options)

    def preset_note(self) -> str | None:
        """What the preset set, and which of its values options given beside it replaced."""
        if not self.preset:
            return None
        from .presets import describe_settings, preset_named

        preset = preset_named(self.preset)
        changed = {k: getattr(self, k) for k, v in preset.options.items() if getattr(self, k) != v}
        kept = {k: v for k, v in preset.options.items() if k not in changed}
        text = f"preset {preset.name} set {describe_settings(kept)}"
        if changed:
            text += f"; given beside it, {describe_settings(changed)} won over the preset"
        return text

    def replace(self, **changes: Any) -> JobSpec:
        return dataclasses.replace(self, **changes)
