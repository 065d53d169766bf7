"""The wheel stands alone: built from this checkout, installed into a fresh virtual environment
outside the repository (no editable install, the checkout not on sys.path), every command a new
user tries works from the installed package alone.

Dependencies come the way a user's `pipx install` gets them: pip with its usual configuration
(and its cache). Without a network or a package index that holds them the test skips, naming
why; any other failure to build or install fails it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from extractor import __version__
from fixtures.generate import decode_track, dominant_freq

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_SIGNS = re.compile(
    r"No matching distribution|Could not find a version|Temporary failure in name resolution|"
    r"Failed to establish a new connection|Network is unreachable|Max retries exceeded|"
    r"NewConnectionError|ConnectTimeout|ReadTimeoutError|No route to host", re.IGNORECASE)


def _run(args, *, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          check=False, stdin=subprocess.DEVNULL, **kwargs)


def _must(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode == 0:
        return
    output = proc.stdout + proc.stderr
    if OFFLINE_SIGNS.search(output):
        pytest.skip(f"{what} needs packages from an index, and none is reachable: "
                    f"{OFFLINE_SIGNS.search(output).group(0)}")
    pytest.fail(f"{what} failed ({proc.returncode}):\n{output[-4000:]}")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("build", reason="the dev extra (python -m build) is not installed")
    dist = tmp_path_factory.mktemp("dist")
    _must(_run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=dist, timeout=300), "python -m build")
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0], "dist": dist}


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> dict:
    """A fresh venv outside the repository with only the wheel (and its dependencies) in it."""
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    _must(_run([sys.executable, "-m", "venv", "--without-pip", venv]), "python -m venv")
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    # This interpreter's pip installs into the new venv (--python): no pip bootstrap there. Byte-code
    # compiling every dependency up front is most of an install's time; Python compiles on import.
    _must(_run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile",
                built["wheel"]],
               cwd=home, timeout=600), "installing the wheel")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "COLUMNS")}
    env.update({"XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"), "NO_COLOR": "1",
                "PATH": os.pathsep.join([str(bindir), env.get("PATH", "")])})
    work = home / "work"
    work.mkdir()
    return {"python": python, "vax": bindir / ("vax.exe" if os.name == "nt" else "vax"), "env": env,
            "work": work, "venv": venv}


def vax(installed, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    return _run([installed["vax"], *args], cwd=installed["work"], env=installed["env"], timeout=timeout)


def test_the_distributions_carry_what_they_should(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
    assert {"extractor/web/static/index.html", "extractor/web/static/app.js",
            "extractor/web/static/style.css", "fixtures/generate.py"} <= set(names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "fuzz/"))]
    with tarfile.open(built["sdist"]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "tests/test_wheel.py"} <= members
    assert built["wheel"].name.startswith(f"video_audio_extractor-{__version__}-")


def test_twine_accepts_the_metadata(built):
    pytest.importorskip("twine", reason="the dev extra (twine) is not installed")
    proc = _run([sys.executable, "-m", "twine", "check", "--strict", built["wheel"], built["sdist"]])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_installed_package_is_used_not_the_checkout(installed):
    code = "import backends, extractor, fixtures; print('\\n'.join(m.__file__ for m in (backends, extractor, fixtures)))"
    proc = _run([installed["python"], "-c", code],
                cwd=installed["work"], env=installed["env"])
    assert proc.returncode == 0, proc.stderr
    venv = str(installed["venv"].resolve())
    assert all(str(Path(line).resolve()).startswith(venv) for line in proc.stdout.split()), proc.stdout
    assert str(ROOT) not in proc.stdout


def test_version_names_pyav_and_ffmpeg(installed):
    proc = vax(installed, "--version")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rf"vax {re.escape(__version__)} \(PyAV \d+\.\d+\S*, FFmpeg \S+, Python \S+\)\n",
                        proc.stdout), proc.stdout


def test_demo_sample_probe_copy_transcode_and_words(installed):
    """`vax demo` makes its sample with the packaged fixture code, then runs `vax probe`, a copy,
    a trimmed MP3 transcode and `vax do` on it, each as the command line it prints."""
    proc = vax(installed, "demo", "demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("\n$ vax ") == 4
    assert "stream copy: AAC into .m4a, lossless" in proc.stdout and "Understood:" in proc.stdout
    folder = installed["work"] / "demo"
    assert sorted(p.name for p in folder.iterdir()) == ["sample.flac", "sample.m4a", "sample.mp3", "sample.mp4"]
    # The English track (440 Hz) copied whole and cut to 3 s as MP3; the Spanish one (660 Hz) as FLAC.
    for name, freq, seconds in (("sample.m4a", 440.0, 12.0), ("sample.mp3", 440.0, 3.0),
                                ("sample.flac", 660.0, 12.0)):
        samples, rate = decode_track(folder / name)
        assert abs(dominant_freq(samples, rate) - freq) < 2, name
        assert abs(samples.shape[-1] / rate - seconds) < 0.1, name

    probe = vax(installed, "probe", folder / "sample.mp4", "--json")
    assert probe.returncode == 0, probe.stderr
    assert [t["language"] for t in json.loads(probe.stdout)["audio"]] == ["eng", "spa"]
    only = vax(installed, "demo", "sample-only", "--sample-only")
    assert only.returncode == 0, only.stderr
    assert [p.name for p in (installed["work"] / "sample-only").iterdir()] == ["sample.mp4"]


def test_config_show_and_completion(installed):
    show = vax(installed, "config", "show", "--json")
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["file"] == str(Path(installed["env"]["XDG_CONFIG_HOME"]) / "vax" / "config.toml")
    for shell, sign in (("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files")):
        proc = _run([installed["vax"]], cwd=installed["work"], timeout=60,
                    env={**installed["env"], "_VAX_COMPLETE": f"{shell}_source"})
        assert proc.returncode == 0 and sign in proc.stdout, (shell, proc.stdout, proc.stderr)


def test_serve_page_loads_with_its_assets_and_runs_a_job(installed):
    """The page and its assets come from the installed package, and a job runs in the web
    worker process, which imports the installed copy too."""
    import httpx

    made = vax(installed, "demo", "web-sample", "--sample-only")
    assert made.returncode == 0, made.stderr
    sample = installed["work"] / "web-sample" / "sample.mp4"
    process = subprocess.Popen([str(installed["vax"]), "serve", "--port", "0", "--workspace",
                                str(installed["work"] / "ws")], cwd=installed["work"], env=installed["env"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in process.stdout:
            if "open http" in line:
                url = line.split("open ", 1)[1].strip()
                break
        assert url, process.stderr.read() if process.poll() is not None else "no URL printed"
        token = parse_qs(urlsplit(url).query)["token"][0]
        # The page keeps the token and sends it as a header (never a cookie); so does this client.
        with httpx.Client(timeout=20, headers={"X-Vax-Token": token}) as client:
            page = client.get(url)
            assert page.status_code == 200 and "<html" in page.text.lower()
            assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
            assert {"/static/style.css", "/static/app.js"} <= {a.split("?")[0] for a in assets}, assets
            base = url.split("/?", 1)[0]
            for asset in assets:
                response = client.get(base + asset)
                assert response.status_code == 200 and response.content, asset
            job = _web_job(client, base, sample, "as mp3")
            assert job["status"] == "done", job
            name = job["results"][0]["name"]
            audio = client.get(base + job["links"][name])  # the short-lived signed link the page plays
            assert audio.status_code == 200
            downloaded = installed["work"] / "from-the-page.mp3"
            downloaded.write_bytes(audio.content)
            samples, rate = decode_track(downloaded)
            assert abs(dominant_freq(samples, rate) - 440.0) < 2
    finally:
        process.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _web_job(client, base: str, path: Path, text: str) -> dict:
    """Add a file by its path, ask for ``text``, follow the job's events to its end."""
    added = client.post(f"{base}/api/files", json={"path": str(path)})
    assert added.status_code == 200, added.text
    reply = client.post(f"{base}/api/run", json={"file_id": added.json()["id"], "text": text})
    assert reply.status_code == 200 and reply.json()["kind"] == "jobs", reply.text
    job_id = reply.json()["jobs"][0]["id"]
    last = None
    with client.stream("GET", f"{base}/api/events?job={job_id}", timeout=120) as events:
        kind = None
        for line in events.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "job":
                last = json.loads(line[6:])
    assert last is not None, "no job events"
    return last
