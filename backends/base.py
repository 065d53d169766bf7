"""The one small interface every engine implements.

Like an httpx transport: the selection layer hands a backend a plan and a destination
path and gets a report back. It never needs to know how the engine works. Consent is part
of the interface: a backend that sends data off the machine says what it would send.

``LocalBackend`` (backends.local) and ``RemoteBackend`` (backends.remote) are the real
ones; ``MockBackend`` (backends.mock) runs a function, for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

# Called with the fraction done (0.0 to 1.0); cheap, and may be called often.
ProgressFn = Callable[[float], None]


@dataclass
class Evidence:
    """What an engine wrote, for verification to check the file against without decoding it all.

    Two kinds, one per way a file gets written. Through an FFmpeg muxer (stream copy, FFmpeg
    encoders): the payloads handed to the muxer (count, bytes, a running CRC-32) and their
    timestamp span, which a demux of the file must reproduce. Through a writer of our own
    (libsndfile WAV/FLAC, LAME MP3): the file's size and a CRC-32 of every byte after ``head``
    (the header the writer rewrites when it closes), which the file's bytes must reproduce.
    """

    packets: int = 0  # payloads handed to the muxer
    payload_bytes: int = 0
    payload_crc: int = 0  # CRC-32 of the payloads, in order
    span: float | None = None  # seconds from the first payload's timestamp to the last one's end
    # seconds the first payload's timestamp lies after its decoding time: a muxer that times audio
    # by decoding time alone (the MP4 muxer, for a source with a composition offset on its first
    # packet) writes a span longer by this much
    lead: float = 0.0
    # seconds of the first payload before zero (priming with a negative timestamp), which a muxer
    # that starts its clock at zero (Ogg's granule positions) leaves out of the span
    before_zero: float = 0.0
    samples: int | None = None  # samples handed to the encoder (transcodes)
    file_size: int | None = None  # writers of our own: the file's length ...
    head: int = 0  # ... the bytes at its start rewritten on close (checked by opening the file) ...
    tail_crc: int | None = None  # ... and a CRC-32 of everything after them
    peak: float | None = None  # peak sample magnitude (0..1) handed to the encoder, where it was at hand
    loudness: float | None = None  # integrated loudness (LUFS) of what was encoded, when the plan normalises


@dataclass
class RunReport:
    """What a backend says it did; verification checks the file against the plan, not against this."""

    backend: str
    written_duration: float | None = None  # seconds of audio the engine wrote (excluding container delay)
    source_complete: bool = True  # False when the input ended before its declared duration
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (start, length) skipped in salvage mode
    packets: int = 0
    notes: list[str] = field(default_factory=list)
    # A backend that learns the output's codec/rate/channels only while running (the cloud renders
    # first) returns the plan it really carried out; verification then checks against that plan.
    effective_plan: object | None = None
    # Seconds per step, for backends whose steps are worth seeing apart (the cloud's session, upload,
    # agent, render, download, local extraction), in the order they ran; empty when not measured.
    phases: dict[str, float] = field(default_factory=dict)
    # Bytes moved per step over the network (``upload``, ``download``), so a bench can show MB/s.
    transferred: dict[str, int] = field(default_factory=dict)
    # The source's file-level metadata carried into the output: {"tags": [names], "pictures": n, "chapters": n}.
    metadata: dict = field(default_factory=dict)
    # What was written, when the engine kept count (backends.local does); None means verification
    # decodes the whole file instead.
    evidence: Evidence | None = None


@runtime_checkable
class Backend(Protocol):
    name: str

    def unsupported_reason(self, plan) -> str | None:
        """None when this backend can run the plan, else a short reason."""

    def upload_offer(self, plan) -> str | None:
        """What running the plan would send off this machine, in words; None when nothing leaves it."""

    def allowed_by_user(self) -> bool:
        """Whether the user has standing permission for what ``upload_offer`` describes."""

    def how_to_allow(self) -> str:
        """How the user gives that permission."""

    def run(self, plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
        """Write the plan's output to ``destination`` (a temporary path), or raise a VaxError."""
