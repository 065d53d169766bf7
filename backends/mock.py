"""A backend for tests, in the spirit of httpx.MockTransport: it runs a function you give it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import ProgressFn, RunReport


class MockBackend:
    def __init__(self, handler: Callable[[object, Path], RunReport | None], *, name: str = "mock",
                 unsupported: Callable[[object], str | None] | None = None, offer: str | None = None):
        self.name = name
        self._handler = handler
        self._unsupported = unsupported
        self._offer = offer  # what this mock pretends it would upload (None: nothing)
        self.calls: list[tuple[object, Path]] = []

    def unsupported_reason(self, plan) -> str | None:
        return self._unsupported(plan) if self._unsupported else None

    def upload_offer(self, plan) -> str | None:
        return self._offer

    def allowed_by_user(self) -> bool:
        return False

    def how_to_allow(self) -> str:
        return "allow it with --allow-cloud"

    def run(self, plan, destination: Path, progress: ProgressFn | None = None) -> RunReport:
        self.calls.append((plan, destination))
        report = self._handler(plan, destination)
        return report or RunReport(backend=self.name)
