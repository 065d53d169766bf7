"""The NemoVideo cloud backend: the fallback for tracks the bundled FFmpeg cannot decode.

    from backends.remote import make_remote_backend, credits_summary

Importing this package is cheap (httpx loads only when a job or a credits call runs), because
``extractor.api.default_backends`` registers the backend on every run, local jobs included.
The protocol it speaks is in docs/remote.md; it is verified against tests/fakenemo.py.
"""

from __future__ import annotations

from .backend import RemoteBackend


def make_remote_backend(**options) -> RemoteBackend | None:
    """The backend for ``extractor.api.default_backends``; it does no I/O until a job runs."""
    return RemoteBackend(**options)


def credits_summary(base_url: str | None = None, **client_options) -> dict:
    """{"available", "frozen", "total"} for the current token (made anonymously when needed)."""
    from .client import NemoClient

    with NemoClient(base_url, **client_options) as client:
        data = client.call("GET", "/api/credits/balance/simple")
        if not isinstance(data, dict):
            data = {}
        available, frozen = _number(data.get("available")), _number(data.get("frozen"))
        total = _number(data.get("total"))
        if total is None and available is not None:
            total = available + (frozen or 0)
        token = client.token()
        return {"available": available, "frozen": frozen, "total": total, "anonymous": token.anonymous,
                "user_id": token.user_id, "service": client.base_url}


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


__all__ = ["RemoteBackend", "credits_summary", "make_remote_backend"]
