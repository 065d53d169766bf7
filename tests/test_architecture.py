"""The rules of the house hold: import-linter's contracts pass, there are no import cycles,
no module grows past the size a reader can hold, and a local job loads nothing it does not need."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
# Modules allowed past the limit, each with its reason (keep this list short).
LONG_MODULES: dict[str, str] = {}


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    proc = subprocess.run([lint], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_no_import_cycles_anywhere():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import importgraph
    finally:
        sys.path.pop(0)
    graph = importgraph.build_graph(ROOT)
    assert importgraph.cycles(graph) == []


def test_no_module_is_too_long_to_read():
    long = {}
    for path in sorted([*ROOT.glob("extractor/**/*.py"), *ROOT.glob("backends/**/*.py")]):
        name = str(path.relative_to(ROOT))
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_MODULE_LINES and name not in LONG_MODULES:
            long[name] = count
    assert long == {}


def _function_lengths():
    for path in sorted([*ROOT.glob("extractor/**/*.py"), *ROOT.glob("backends/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{path.relative_to(ROOT)}:{node.name}", node.end_lineno - node.lineno + 1


def test_no_function_is_too_long_to_read():
    assert {name: n for name, n in _function_lengths() if n > 60} == {}


def test_a_local_copy_imports_no_cloud_client_and_no_numpy(tmp_path):
    from fixtures.generate import Tone, make_media

    src = make_media(tmp_path / "in.mp4", tones=[Tone(440.0, "aac")], duration=1.0)
    code = (
        "import sys\n"
        "from extractor.cli import main\n"
        f"sys.argv = ['vax', 'extract', {str(src)!r}, '-o', {str(tmp_path / 'out.m4a')!r}, '-q']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "loaded = [m for m in ('httpx', 'backends.remote', 'numpy', 'extractor.batch.pool', 'extractor.web',"
        " 'extractor.words', 'starlette') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert not (tmp_path / "c").exists()  # no cloud config was read or made
