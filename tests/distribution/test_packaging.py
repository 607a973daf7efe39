"""asgicy as a packager and a user installing it see it: ``python -m build`` from the tracked files, the
wheel's size and metadata, the wheel installed in a fresh venv outside the source tree serving a request
with the compiled parser, its types read by mypy, and the sdist refused by a Python it does not support.

The build is done once for the module (about a minute: it compiles every extension)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from .smoke import COMPILED

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
# 14 extensions (three cores, HPACK, the compiled hot path of both protocols) made 1.58 MB at 86edec7; built
# with debug information the same wheel was 4 MB, the bloat this bound is here to catch.
WHEEL_LIMIT = 2 * 1024 * 1024

pytestmark = pytest.mark.timeout(900)


def _tracked_tree(dest: Path) -> None:
    """The files a clean clone has: what git tracks, or (no git) the tree without what builds leave."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = None
    if names is None:
        ignore = shutil.ignore_patterns("*.so", "*.c", "__pycache__", "build", "dist", "*.egg-info", ".venv",
                                        "_build", ".git")
        shutil.copytree(ROOT, dest, ignore=ignore)
        return
    for name in names:
        source = ROOT / name
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # docs/tutorial -> ../tutorial: a link in the clone too
            os.symlink(os.readlink(source), dest / name)
        elif source.is_file():
            shutil.copy2(source, dest / name)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sdist, wheel, the build's output) from ``python -m build`` over a copy of the tracked files."""
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    _tracked_tree(source)
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("ASGICY_BUILD_WITH_SYMBOLS", None)
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)],
                            capture_output=True, text=True, env=env, timeout=840)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    (sdist,) = glob.glob(str(work / "dist" / "*.tar.gz"))
    (wheel,) = glob.glob(str(work / "dist" / "*.whl"))
    return Path(sdist), Path(wheel), output


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory):
    """A fresh venv, outside the source tree, with only the built wheel installed."""
    where = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(built[1])],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def test_the_build_says_nothing_deprecated(built):
    warnings = [line for line in built[2].splitlines() if re.search("deprecat", line, re.IGNORECASE)]
    assert not warnings, "\n".join(warnings)


def test_the_wheel_is_small_and_has_no_c_or_debug_sections(built):
    wheel = built[1]
    assert wheel.stat().st_size < WHEEL_LIMIT, f"{wheel.name}: {wheel.stat().st_size} bytes"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert not [n for n in names if n.endswith(".c")]
        extensions = [n for n in names if n.endswith(".so")]
        # Every extension setup.py builds, and nothing else (smoke.py's list, which the wheel test runs).
        assert sorted(n.split(".")[0].replace("/", ".") for n in extensions) == sorted(COMPILED), extensions
        for name in extensions:
            assert b".debug_info" not in archive.read(name), f"{name} carries debug information"
        assert "asgicy/py.typed" in names


def test_the_metadata_says_which_pythons_and_license(built):
    with zipfile.ZipFile(built[1]) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
    fields = [line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line]
    values = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    assert values["Requires-Python"] == [">=3.11"]
    assert values["License-Expression"] == ["BSD-3-Clause"]
    declared = sorted(c.rsplit(" :: ", 1)[1] for c in values["Classifier"]
                      if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    # The classifiers, requires-python and the wheels cibuildwheel builds name the same Pythons.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheels = sorted(f"3.{tag[3:-2]}" for tag in project["tool"]["cibuildwheel"]["build"].split())
    assert declared == wheels == ["3.11", "3.12", "3.13", "3.14"]


def test_the_installed_wheel_serves_with_the_compiled_parser(venv, tmp_path):
    # Run from an empty directory: nothing of the source tree can be imported by accident.
    smoke = subprocess.run([str(venv), str(HERE / "smoke.py")], cwd=tmp_path, capture_output=True, text=True,
                           timeout=60)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "parser cython, served 'GET /smoke over HTTP/1.1'" in smoke.stdout
    assert str(venv.parent.parent) in smoke.stdout  # the venv's asgicy, not the checkout's
    version = subprocess.run([str(venv), "-m", "asgicy", "--version"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert "HTTP parser: cython; event loop: asyncio (uvloop is not installed" in version.stdout


USER_PROGRAM = '''
import asyncio
from typing import Any

import asgicy
from asgicy import Config, ConfigError, Server
from asgicy.testing import Running, send_raw, serve_in_thread, serving


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204})


def main() -> int:
    try:
        return asgicy.run(app, port=8000, workers=1)
    except ConfigError as exc:
        print(exc)
        return 2


async def embedded() -> bool:
    server = Server(Config(app=app, port=0, timeout_keep_alive=5.0))
    await server.serve()
    server.request_exit()
    async with serving(app) as running:
        url: str = running.url
    return server.started and bool(url)


def in_a_thread() -> bytes:
    with serve_in_thread(app) as running:
        port: int = running.port
        assert isinstance(running, Running) and port
        return send_raw(running, b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")


asyncio.run(embedded())
'''


def test_the_public_api_is_typed(venv, tmp_path):
    (tmp_path / "user.py").write_text(USER_PROGRAM)
    (tmp_path / "wrong.py").write_text("from asgicy import Config\nConfig(app=None, port='80')\n")
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", str(venv)]
    good = subprocess.run([*mypy, "user.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert good.returncode == 0, good.stdout + good.stderr
    # The types are really read: a wrong option type is caught.
    wrong = subprocess.run([*mypy, "wrong.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 1 and 'Argument "port" to "Config" has incompatible type "str"' in wrong.stdout


def _python_310():
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10.*/bin/python")))
    return found[-1] if found else shutil.which("python3.10")


def test_python_310_is_refused_at_install(built, tmp_path):
    python = _python_310()
    if python is None:
        pytest.skip("no CPython 3.10 on this machine to try the install with")
    subprocess.run([python, "-m", "venv", str(tmp_path / "env")], check=True, timeout=120)
    result = subprocess.run([str(tmp_path / "env" / "bin" / "python"), "-m", "pip", "install", "--no-deps",
                             str(built[0])], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "requires a different Python: 3.10" in result.stdout + result.stderr
