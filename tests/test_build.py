"""The install builds what it should: the Cython cores and the compiled hot path of the server.

The server's hot-path modules are plain Python that also runs uncompiled, so a build that silently
skipped compiling them would pass every other test and only be slower. This test is what notices."""

from __future__ import annotations

import importlib
import os
from importlib.machinery import EXTENSION_SUFFIXES

import pytest

from .distribution.smoke import COMPILED  # every extension setup.py builds


@pytest.mark.parametrize("name", COMPILED)
def test_module_is_the_built_extension(name):
    module = importlib.import_module(name)
    assert module.__file__.endswith(tuple(EXTENSION_SUFFIXES)), f"{name} runs from {module.__file__}"


def test_the_cycle_and_the_protocol_are_extension_types():
    from asgicy.asgi.http import HTTPCycle
    from asgicy.server.protocol import HTTPProtocol

    # Extension types keep their attributes in C slots: an instance has no __dict__ to put others in.
    for cls in (HTTPCycle, HTTPProtocol):
        assert "__dict__" not in dir(cls), cls


@pytest.mark.timeout(600)
def test_the_same_source_passes_the_cycle_and_integration_tests_uncompiled(tmp_path):
    # The compiled modules are their .py source compiled as it stands; without the extensions (a source
    # tree nobody built) that source runs as plain Python over the reference cores, and must behave the
    # same. A typing in a .pxd that changes what the code means shows up as a difference here or in the
    # compiled run of the same tests. A copy of the package without its .so files, and of the tests
    # (pytest puts the directory above the tests package first on the path).
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    ignore = shutil.ignore_patterns("*.so", "__pycache__", "*.c")
    shutil.copytree(root / "asgicy", tmp_path / "asgicy", ignore=ignore)
    shutil.copytree(root / "tests", tmp_path / "tests", ignore=ignore)
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    probe = "import asgicy.asgi.http as m, asgicy.http as p; print(m.__file__, p.IMPLEMENTATION)"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("ASGICY_PURE_PYTHON", None)
    where = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.stdout.split() == [str(tmp_path / "asgicy" / "asgi" / "http.py"), "python"], where
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/asgi",
                             "tests/integration"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=580)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
