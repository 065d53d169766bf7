"""`vax config show` and `vax config path`: the settings file, in the platform's own folder
(``extractor.userconfig``), and the value each setting has now and where it comes from
(the environment wins over the file, the file over the default)."""

from __future__ import annotations

import json
import os
import sys

import click

from extractor.cli.app import _debug_of, run_guarded


@click.group("config")
def config() -> None:
    """Show where vax keeps its settings and what they are."""


@config.command("path")
def path() -> None:
    """Print the settings file's path (it need not exist yet)."""
    from extractor.userconfig import settings_file

    click.echo(str(settings_file()))


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def show(ctx: click.Context, as_json: bool, debug: bool) -> None:
    """Show the settings folder, the settings file and every setting with its source."""

    def body():
        report = _report()
        if as_json:
            click.echo(json.dumps(report, indent=2))
        else:
            click.echo(_format(report))

    sys.exit(run_guarded(body, debug=_debug_of(ctx, debug)))


def _report() -> dict:
    from extractor.errors import UsageError
    from extractor.userconfig import (
        SETTINGS,
        SettingsUnreadable,
        config_dir,
        read_settings,
        settings_file,
        unknown_keys,
    )

    file = settings_file()
    try:
        stored = read_settings(file)
    except SettingsUnreadable as exc:
        raise UsageError(str(exc), hint="fix or remove the file") from None
    settings = []
    for setting in SETTINGS:
        env = os.environ.get(setting.env)
        if env is not None and env.strip():
            value, source = _from_env(setting, env.strip()), f"environment ({setting.env})"
        elif setting.key in stored:
            value, source = stored[setting.key], "file"
        else:
            value, source = _default(setting.key), "default"
        settings.append({"key": setting.key, "value": value, "source": source, "env": setting.env,
                         "help": setting.help})
    return {"folder": str(config_dir()), "file": str(file), "file_exists": file.is_file(),
            "settings": settings, "unknown": unknown_keys(stored)}


def _from_env(setting, text: str):
    # The same reading the cloud client applies (backends.remote.config.cloud_allowed_by_user).
    return text.lower() in {"1", "true", "yes", "on"} if setting.kind is bool else text


def _default(key: str):
    if key == "allow_cloud":
        return False
    if key == "remote_url":
        try:
            from backends.remote.config import PRODUCTION_URL
        except ImportError:  # a build without the cloud backend
            return None
        return PRODUCTION_URL
    return None


def _format(report: dict) -> str:
    state = "" if report["file_exists"] else " (not created yet; vax uses the defaults)"
    lines = [f"folder: {report['folder']}", f"file:   {report['file']}{state}", "settings:"]
    width = max(len(s["key"]) for s in report["settings"])
    for s in report["settings"]:
        value = json.dumps(s["value"]) if not isinstance(s["value"], str) else s["value"]
        lines.append(f"  {s['key']:<{width}} = {value}  [{s['source']}]  {s['help']}")
    for key in report["unknown"]:
        lines.append(f"  {key}: unknown setting, ignored")
    return "\n".join(lines)
