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
    remote_url: str | None = None  # the cloud service's base URL (None: VAX_REMOTE_URL, config, production)
    verify: str = "evidence"  # prove the output from what the engine wrote, or "full": decode all of it

    def __post_init__(self):
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
        if self.loudness is not None and not -70 <= self.loudness <= -5:
            raise UsageError(f"loudness target {self.loudness} LUFS is out of range (-70 to -5)")
        if self.verify not in VERIFY_MODES:
            raise UsageError(f"unknown verification {self.verify!r}; choose from {', '.join(VERIFY_MODES)}")
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}; choose from {', '.join(BACKENDS)}")

    # -- the requested range -------------------------------------------------------------
    @property
    def range_end(self) -> float | None:
        """End of the requested range in seconds of the source timeline, or None for 'to the end'."""
        if self.duration is not None:
            return (self.start or 0.0) + self.duration
        return self.end

    @property
    def trims(self) -> bool:
        return bool(self.start) or self.range_end is not None

    @property
    def wants_reencode(self) -> bool:
        """Options that cannot be honoured by a stream copy."""
        return bool(
            self.bitrate or self.sample_rate or self.channels or self.sample_bits
            or self.loudness is not None or self.exact and self.trims
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
        for name in ("start", "end", "duration"):
            if name in options:
                options[name] = parse_time(options[name])
        if "bitrate" in options:
            options["bitrate"] = parse_bitrate(options["bitrate"])
        options = {k: v for k, v in options.items() if v is not None}
        return cls(input=str(input), tracks=TrackSelection(**selection), **options)

    def replace(self, **changes: Any) -> JobSpec:
        return dataclasses.replace(self, **changes)
