"""Engines that run a plan: the local PyAV engine (and, for tests, a mock), behind one small interface."""

from backends.local import LocalBackend

from .base import Backend, ProgressFn, RunReport
from .mock import MockBackend

__all__ = ["Backend", "LocalBackend", "MockBackend", "ProgressFn", "RunReport"]
