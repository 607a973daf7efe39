"""The documentation site builds with warnings as errors and nitpicky references, and every tutorial
notebook runs top to bottom against a real server while it builds (a failing cell fails the build).
The checks after the build make sure the pages say what the server actually did."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from asgicy.config import Config, flag_of
from asgicy.http.reference import STATE_NAMES

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.stem for p in (ROOT / "tutorial").glob("[0-9][0-9]_*.md"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-n", "--keep-going", "-q", "-E", "-b", "html", str(ROOT / "docs"),
         str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    # -W turns every Sphinx warning into a failing exit status, and a failing notebook cell stops the build,
    # so the status says it all. (stderr also carries the notebook kernels' own chatter, including
    # jupyter_client's harmless ZMQ errors at kernel shutdown; it is shown, not judged.)
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def text_of(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


@pytest.mark.timeout(600)
def test_every_notebook_is_in_the_site_and_ran(site):
    assert len(NOTEBOOKS) >= 12
    for name in NOTEBOOKS:
        page = site / "tutorial" / f"{name}.html"
        assert page.exists(), name
        source = page.read_text()
        assert "cell_output" in source, f"{name} shows no output: was it executed?"
        assert "Traceback" not in source, f"{name} shows a traceback"


@pytest.mark.timeout(600)
def test_notebooks_show_what_the_server_did(site):
    tutorial = site / "tutorial"
    callable_page = text_of(tutorial / "01_the_callable.html")
    assert "receive  {'type': 'http.request', 'body': b'ASGI', 'more_body': False}" in callable_page
    assert "not a [name, value] pair" in callable_page and "served as ASGI 2" in callable_page
    extensions = text_of(tutorial / "11_extensions.html")
    assert "HTTP/1.1 103 Early Hints" in extensions and "x-sha256: " in extensions
    assert "a file, sent by the kernel" in extensions and "nothing may follow it" in extensions
    closing = text_of(tutorial / "09_websocket_messages_and_closing.html")
    assert "'code': 1005" in closing and "'code': 1006" in closing and "'reason': 'done for today'" in closing


@pytest.mark.timeout(600)
def test_reference_lists_every_option_and_the_state_machine(site):
    options = text_of(site / "reference" / "options.html")
    for f in Config.options():
        assert flag_of(f) in options, f"{flag_of(f)} is missing from the options reference"
    svg = (site / "_images" / "state-machine.svg").read_text()
    for name in STATE_NAMES[:-1]:  # ERROR is a note under the drawing, not a box
        assert name in svg, name
