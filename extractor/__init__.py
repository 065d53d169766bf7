"""video-audio-extractor: get the audio out of a video, locally first.

    from extractor import probe, extract

Heavy modules (PyAV, numpy) load on first use, so `vax --help` stays instant.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY = {
    "probe": ".mediainfo",
    "MediaInfo": ".mediainfo",
    "extract": ".api",
    "plan": ".api",
    "run_spec": ".api",
    "ExtractResult": ".api",
    "JobSpec": ".jobspec",
    "TrackSelection": ".jobspec",
    "VaxError": ".errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from .api import ExtractResult, extract, plan, run_spec
    from .errors import VaxError
    from .jobspec import JobSpec, TrackSelection
    from .mediainfo import MediaInfo, probe


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'extractor' has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)


__all__ = [
    "ExtractResult", "JobSpec", "MediaInfo", "TrackSelection", "VaxError", "__version__",
    "extract", "plan", "probe", "run_spec",
]
