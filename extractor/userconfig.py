"""Where vax keeps its settings: one folder per user, in the platform's own place.

``$XDG_CONFIG_HOME/vax`` when that is set (on every platform: it is the user's explicit
choice, and it keeps tests and sandboxes away from the real folder); otherwise what
``platformdirs`` names for the platform: ``~/.config/vax`` on Linux,
``~/Library/Application Support/vax`` on macOS, ``%APPDATA%\\vax`` on Windows (roaming, so the
settings follow a domain user). The folder holds ``config.toml`` (the user's settings) and the
cloud client's own state (``backends.remote.config``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "vax"
SETTINGS_NAME = "config.toml"


@dataclass(frozen=True)
class Setting:
    key: str
    env: str  # the environment variable that wins over the file
    kind: type
    help: str


# Every key config.toml may hold; `vax config show` lists them with where each value comes from.
SETTINGS = (
    Setting("allow_cloud", "VAX_ALLOW_CLOUD", bool,
            "upload an input to the cloud service when the local engine cannot decode it"),
    Setting("remote_url", "VAX_REMOTE_URL", str, "the cloud service's address"),
)


def config_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(xdg) / APP_NAME
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True))


def settings_file() -> Path:
    return config_dir() / SETTINGS_NAME


class SettingsUnreadable(Exception):
    """config.toml exists but is not valid TOML (the message names the line)."""


def read_settings(path: Path | None = None) -> dict:
    """The file's settings ({} when there is none); raises SettingsUnreadable for a broken file,
    so `vax config show` can say what is wrong instead of silently using the defaults."""
    path = path or settings_file()
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise SettingsUnreadable(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsUnreadable(f"cannot read {path}: {exc.strerror or exc}") from None


def unknown_keys(settings: dict) -> list[str]:
    known = {s.key for s in SETTINGS}
    return sorted(k for k in settings if k not in known)
