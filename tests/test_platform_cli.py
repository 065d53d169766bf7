"""What users of a command-line tool expect, in process: --version, shell completion, colour
(--color, NO_COLOR), the settings file in the platform's folder, and `vax demo`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import pytest
from click.testing import CliRunner

from backends.remote import config as remote_config
from extractor import __version__, userconfig
from extractor.cli.app import cli
from fixtures.generate import decode_track, dominant_freq

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture()
def runner(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("VAX_ALLOW_CLOUD", raising=False)
    monkeypatch.delenv("VAX_REMOTE_URL", raising=False)
    return CliRunner()


def test_version_names_the_engine(runner):
    result = runner.invoke(cli, ["--version"], prog_name="vax")
    assert result.exit_code == 0
    assert result.output.startswith(f"vax {__version__} (PyAV {av.__version__}, FFmpeg ")
    assert av.ffmpeg_version_info in result.output


@pytest.mark.parametrize(("shell", "sign"), [("bash", "complete -o nosort -F _vax_completion vax"),
                                             ("zsh", "#compdef vax"), ("fish", "complete --no-files --command vax")])
def test_completion_scripts_for_each_shell(runner, shell, sign):
    result = runner.invoke(cli, [], prog_name="vax", env={"_VAX_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert sign in result.output


def test_completion_offers_the_commands(runner):
    result = runner.invoke(cli, [], prog_name="vax",
                           env={"_VAX_COMPLETE": "bash_complete", "COMP_WORDS": "vax de", "COMP_CWORD": "1"})
    assert "plain,demo" in result.output.split()


# -- colour -------------------------------------------------------------------------------------

def test_errors_are_coloured_unless_no_color_or_color_never(runner, monkeypatch, tmp_path):
    missing = str(tmp_path / "missing.mp4")
    # color=True: the runner's stream counts as a terminal, so "auto" would colour.
    result = runner.invoke(cli, ["probe", missing], prog_name="vax", color=True)
    assert result.exit_code == 3 and ANSI.search(result.stderr)
    assert ANSI.sub("", result.stderr).startswith("vax: error: ")
    result = runner.invoke(cli, ["--color", "never", "probe", missing], prog_name="vax", color=True)
    assert result.exit_code == 3 and not ANSI.search(result.stderr)
    monkeypatch.setenv("NO_COLOR", "1")
    result = runner.invoke(cli, ["probe", missing], prog_name="vax", color=True)
    assert result.exit_code == 3 and not ANSI.search(result.stderr)
    assert result.stderr.startswith("vax: error: ")


def test_color_always_wins_over_no_color_and_a_pipe(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("NO_COLOR", "1")
    result = runner.invoke(cli, ["--color", "always", "probe", str(tmp_path / "missing.mp4")], prog_name="vax")
    assert result.exit_code == 3 and ANSI.search(result.stderr)


# -- settings -------------------------------------------------------------------------------------

def test_config_folder_is_the_platforms_unless_xdg_says(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert userconfig.config_dir() == tmp_path / "vax"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert userconfig.config_dir() == Path(platformdirs.user_config_dir("vax", appauthor=False, roaming=True))
    assert remote_config.config_dir() == userconfig.config_dir()  # the cloud client's state lives there too
    assert remote_config.settings_file() == userconfig.settings_file()


def test_config_show_says_where_each_value_comes_from(runner, monkeypatch, tmp_path):
    result = runner.invoke(cli, ["config", "show", "--json"], prog_name="vax")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["file"] == str(tmp_path / "config" / "vax" / "config.toml") and not report["file_exists"]
    assert {s["key"]: s["source"] for s in report["settings"]} == {"allow_cloud": "default", "remote_url": "default"}

    settings = tmp_path / "config" / "vax" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('allow_cloud = true\nremote_url = "http://127.0.0.1:9"\nspeed = 11\n')
    monkeypatch.setenv("VAX_REMOTE_URL", "http://127.0.0.1:8")
    report = json.loads(runner.invoke(cli, ["config", "show", "--json"], prog_name="vax").output)
    values = {s["key"]: (s["value"], s["source"]) for s in report["settings"]}
    assert values == {"allow_cloud": (True, "file"),
                      "remote_url": ("http://127.0.0.1:8", "environment (VAX_REMOTE_URL)")}
    assert report["unknown"] == ["speed"]
    # What the cloud client itself decides agrees with what is shown.
    assert remote_config.cloud_allowed_by_user() is True
    assert remote_config.default_base_url() == "http://127.0.0.1:8"

    text = runner.invoke(cli, ["config", "show"], prog_name="vax").output
    assert "allow_cloud = true  [file]" in text and "speed: unknown setting, ignored" in text
    assert runner.invoke(cli, ["config", "path"], prog_name="vax").output.strip() == str(settings)


def test_a_broken_settings_file_is_one_line_and_exit_2(runner, tmp_path):
    settings = tmp_path / "config" / "vax" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text("allow_cloud = \n")
    result = runner.invoke(cli, ["config", "show"], prog_name="vax")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"vax: error: {settings} is not valid TOML: Invalid value (at line 1, column 15) (fix or remove the file)"]


# -- vax demo ---------------------------------------------------------------------------------------

def test_demo_makes_the_sample_and_runs_each_step(runner, tmp_path):
    folder = tmp_path / "demo"
    result = runner.invoke(cli, ["demo", str(folder)], prog_name="vax")
    assert result.exit_code == 0, result.output
    steps = [line[2:] for line in result.stdout.splitlines() if line.startswith("$ vax ")]
    assert [s.split()[1] for s in steps] == ["probe", "extract", "extract", "do"]
    outputs = {p.name: p for p in folder.iterdir()}
    assert sorted(outputs) == ["sample.flac", "sample.m4a", "sample.mp3", "sample.mp4"]
    samples, rate = decode_track(outputs["sample.flac"])  # "the Spanish track": 660 Hz
    assert abs(dominant_freq(samples, rate) - 660.0) < 2


def test_demo_stops_at_a_folder_it_cannot_make(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(cli, ["demo", str(blocker / "demo")], prog_name="vax")
    assert result.exit_code == 9
    assert "cannot create the demo folder" in result.stderr and "Traceback" not in result.output

