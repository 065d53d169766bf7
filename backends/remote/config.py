"""Where the cloud client keeps its state, and the knobs it reads from the environment.

The config folder (``extractor.userconfig.config_dir``: ``$XDG_CONFIG_HOME/vax`` when set, else the
platform's own folder, e.g. ``~/.config/vax`` on Linux) holds:

* ``client_id``: a UUID made once per install; the service rate-limits anonymous tokens by it.
* ``token.json``: cached tokens per service URL, readable by the owner only (0600).
* ``config.toml``: user settings, e.g. ``allow_cloud = true`` and ``remote_url = "https://..."``.

Tokens are secrets: this module never prints them, and ``CachedToken.__repr__`` hides them so a
stray debug print or traceback cannot leak one.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PRODUCTION_URL = "https://mega-api-prod.nemovideo.ai"
TRUTHY = {"1", "true", "yes", "on"}
# File types the service takes, by extension (its error 4001 lists the same).
ACCEPTED_TYPES = ("mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac")


def config_dir() -> Path:
    from extractor.userconfig import config_dir as user_config_dir

    return user_config_dir()


def _ensure_dir() -> Path:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (never a moment with wider permissions)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)  # in case a umask or an inherited ACL widened it
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


# -- user settings ------------------------------------------------------------------------

def settings_file() -> Path:
    return config_dir() / "config.toml"


def user_settings() -> dict:
    try:
        with open(settings_file(), "rb") as handle:
            return tomllib.load(handle)
    except (FileNotFoundError, tomllib.TOMLDecodeError, OSError):
        return {}


def cloud_allowed_by_user() -> bool:
    """The user's standing permission to upload media: ``VAX_ALLOW_CLOUD=1`` or ``allow_cloud = true``."""
    env = os.environ.get("VAX_ALLOW_CLOUD")
    if env is not None and env.strip():
        return env.strip().lower() in TRUTHY
    return user_settings().get("allow_cloud") is True


def how_to_allow() -> str:
    return (f"allow it with --allow-cloud, or always with VAX_ALLOW_CLOUD=1 "
            f"or `allow_cloud = true` in {settings_file()}")


def default_base_url() -> str:
    return os.environ.get("VAX_REMOTE_URL") or user_settings().get("remote_url") or PRODUCTION_URL


# -- client id ------------------------------------------------------------------------------

def client_id(*, regenerate: bool = False) -> str:
    path = config_dir() / "client_id"
    if not regenerate:
        with contextlib.suppress(FileNotFoundError, OSError):
            known = path.read_text(encoding="utf-8").strip()
            if known and len(known) <= 64:
                return known
    fresh = str(uuid.uuid4())
    _ensure_dir()
    _write_private(path, fresh + "\n")
    return fresh


# -- token cache ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CachedToken:
    token: str
    user_id: str | None = None
    expires_at: float | None = None  # unix seconds
    anonymous: bool = True

    def __repr__(self) -> str:  # never show the secret
        return f"CachedToken(user_id={self.user_id!r}, anonymous={self.anonymous}, token=<hidden>)"

    @property
    def expired(self) -> bool:
        # A minute's margin: a token that dies mid-job costs a re-authentication round trip.
        return self.expires_at is not None and self.expires_at < time.time() + 60


def token_file() -> Path:
    return config_dir() / "token.json"


def _read_tokens() -> dict:
    try:
        data = json.loads(token_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def load_token(base_url: str) -> CachedToken | None:
    entry = _read_tokens().get(base_url)
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return None
    cached = CachedToken(token=entry["token"], user_id=entry.get("user_id"),
                         expires_at=entry.get("expires_at"), anonymous=entry.get("anonymous", True))
    return None if cached.expired else cached


def save_token(base_url: str, cached: CachedToken) -> None:
    tokens = _read_tokens()
    tokens[base_url] = {"token": cached.token, "user_id": cached.user_id, "expires_at": cached.expires_at,
                        "anonymous": cached.anonymous}
    _ensure_dir()
    _write_private(token_file(), json.dumps(tokens, indent=1))


def forget_token(base_url: str) -> None:
    tokens = _read_tokens()
    if tokens.pop(base_url, None) is not None:
        _write_private(token_file(), json.dumps(tokens, indent=1))


def parse_expiry(value) -> float | None:
    """ISO-8601 (``...Z`` too) or unix seconds -> unix seconds; None when absent or unreadable."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value:
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value).timestamp()
    return None


# -- timings and limits -----------------------------------------------------------------------

def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        return default


@dataclass(frozen=True)
class RemoteSettings:
    """Every wait and limit of the cloud client; the defaults follow the service's documents."""

    poll_interval: float = 30.0  # seconds between render status polls
    render_timeout: float = 1800.0  # give up on a render after this long
    rate_limit_wait: float = 30.0  # HTTP 429: wait this long, then retry once
    retries: int = 3  # network errors and 5xx: attempts in all
    backoff: float = 1.0  # first retry waits this long, then doubles
    sse_timeout: float = 900.0  # the agent's whole answer (15 minutes)
    heartbeat_giveup: float = 600.0  # only heartbeats for this long: stop listening
    connect_timeout: float = 30.0
    read_timeout: float = 120.0
    download_cap: int = 2 * 1024**3  # bytes; a rendered video larger than this is refused
    upload_limit: int = 500 * 1000**2  # the service's documented limit

    @classmethod
    def from_env(cls) -> RemoteSettings:
        d = cls()
        return cls(
            poll_interval=_env_float("VAX_REMOTE_POLL_INTERVAL", d.poll_interval),
            render_timeout=_env_float("VAX_REMOTE_RENDER_TIMEOUT", d.render_timeout),
            rate_limit_wait=_env_float("VAX_REMOTE_RATE_LIMIT_WAIT", d.rate_limit_wait),
            retries=max(1, int(_env_float("VAX_REMOTE_RETRIES", d.retries))),
            backoff=_env_float("VAX_REMOTE_BACKOFF", d.backoff),
            sse_timeout=_env_float("VAX_REMOTE_SSE_TIMEOUT", d.sse_timeout),
            heartbeat_giveup=_env_float("VAX_REMOTE_HEARTBEAT_GIVEUP", d.heartbeat_giveup),
            connect_timeout=_env_float("VAX_REMOTE_CONNECT_TIMEOUT", d.connect_timeout),
            read_timeout=_env_float("VAX_REMOTE_READ_TIMEOUT", d.read_timeout),
            download_cap=int(_env_float("VAX_REMOTE_DOWNLOAD_CAP", d.download_cap)),
        )
