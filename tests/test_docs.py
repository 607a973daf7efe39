"""The documentation site builds with warnings as errors and nitpicky references, and every tutorial
notebook runs top to bottom against a real server while it builds (a failing cell fails the build).
The checks after the build make sure the pages say what the server actually did."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from asgicy.config import Config, flag_of
from asgicy.http.grammar import STATE_NAMES

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
    # (Events are wrapped to the column they are shown in: compare with the white space folded.)
    folded = " ".join(callable_page.split())
    assert "receive {'type': 'http.request', 'body': b'ASGI', 'more_body': False}" in folded
    assert "not a [name, value] pair" in folded and "served as ASGI 2" in folded
    concurrency = " ".join(text_of(tutorial / "14_concurrency_inside_a_connection.html").split())
    assert "stopped: receive() returned {'type': 'http.disconnect'}" in concurrency
    assert "pusher: cancelled by the task group" in concurrency and "cy got: bob: hello, room" in concurrency
    assert "send waited" in concurrency  # backpressure showed
    rules = text_of(tutorial / "15_rules_for_apps_and_servers.html")
    assert "receive raised CancelledError" in rules and "background job 0 finished" in rules
    assert "'client_cert_name': 'CN=alice,OU=Accounts,O=Example'" in text_of(tutorial / "16_tls.html")
    versions = text_of(tutorial / "12_versions_and_features.html")
    assert "spec 2.4: send raises" in versions and "spec 2.0: a task listens for http.disconnect" in versions
    board = text_of(tutorial / "17_a_small_real_app.html")
    assert "ann got 'hi all' | ben got 'hi all'" in board and "receive  {'type': 'http.disconnect'}" in board
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


@pytest.mark.timeout(1800)
def test_the_readme_docs_command_and_every_chapter_run_in_a_docs_only_venv(tmp_path):
    """As a reader does it: a fresh venv holding only asgicy[docs], in a clean copy of the checkout, runs the
    README's documentation command; then every chapter's downloaded notebook runs whole with
    ``jupyter execute`` from a directory of its own. A dependency the notebooks use and [docs] lacks fails
    here (the rest of the suite runs with [test], which has more)."""
    import shutil

    from tests.distribution.test_packaging import _tracked_tree

    readme = (ROOT / "README.md").read_text()
    command = "python -m pip install -e '.[docs]' && python -m sphinx -W -n -b html docs docs/_build/html"
    assert command in readme, "the README's documentation command changed: change this test with it"
    checkout = tmp_path / "checkout"
    _tracked_tree(checkout)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    built = subprocess.run(["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
                           timeout=1500)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-5000:]
    downloads = sorted((checkout / "docs" / "_build" / "html" / "_downloads").glob("*/*.ipynb"))
    assert sorted(p.stem for p in downloads) == NOTEBOOKS
    reader = tmp_path / "reader"
    reader.mkdir()
    for notebook in downloads:
        copy = reader / notebook.name
        shutil.copy(notebook, copy)
        ran = subprocess.run([str(venv / "bin" / "jupyter"), "execute", copy.name], cwd=reader, env=env,
                             capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, f"{notebook.name}:\n{ran.stderr[-4000:]}"


def output_lines(page: Path) -> list:
    """Every line the page shows as a notebook cell's output."""
    source = page.read_text()
    lines = []
    for block in re.findall(r'<div class="cell_output docutils container">(.*?)</div>\s*</div>\s*</div>', source,
                            re.S):
        for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", block, re.S):
            lines += html.unescape(re.sub(r"<[^>]+>", "", pre)).split("\n")
    return lines


@pytest.mark.timeout(600)
def test_no_output_line_needs_scrolling_sideways(site):
    # About 110 characters fit the page at 1280 px (docs/_static/asgicy.css); events are wrapped by
    # EventRecorder.show, long messages by the chapters themselves.
    too_long = []
    for name in NOTEBOOKS:
        lines = output_lines(site / "tutorial" / f"{name}.html")
        assert lines, f"{name}: no output found (did the page layout change?)"
        too_long += [f"{name}: {len(line)}: {line[:80]}..." for line in lines if len(line) > 110]
    assert not too_long, "\n".join(too_long)


@pytest.mark.timeout(600)
def test_every_chapter_offers_its_notebook(site):
    assert len(NOTEBOOKS) >= 17
    for name in NOTEBOOKS:
        page = (site / "tutorial" / f"{name}.html").read_text()
        assert re.search(rf'href="[^"]*_downloads/[0-9a-f]+/{name}\.ipynb"', page), name


def test_every_section_of_the_tutorial_names_what_it_teaches_in_the_spec():
    for name in NOTEBOOKS:
        text = (ROOT / "tutorial" / f"{name}.md").read_text()
        prose = re.sub(r"```.*?```", "", text, flags=re.S)  # headings only outside code
        headings = re.findall(r"^#{1,2} .*$", prose, re.M)
        pointers = re.findall(r"^\*In the spec: \[.*\]\(https://[^)]+\).*\*$", prose, re.M)
        assert len(pointers) == len(headings) and headings, f"{name}: {len(headings)} sections, {len(pointers)} links"


def _pages_that_scroll_sideways(site: Path, width: int) -> list:
    """Every page of the built site loaded in headless Chromium at ``width`` px (as a phone, below 500):
    the ones whose document is wider than the window. Code blocks scroll inside themselves; a page must not."""
    import json
    import socket
    import time
    import urllib.request

    from websockets.sync.client import connect

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    browser = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                f"--remote-debugging-port={port}",
                                "--remote-debugging-address=127.0.0.1", f"--window-size={width},900", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2))
                break
            except OSError:
                time.sleep(0.1)
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
            calls = iter(range(1, 10**6))

            def call(method, **params):
                number = next(calls)
                ws.send(json.dumps({"id": number, "method": method, "params": params}))
                while (reply := json.loads(ws.recv())).get("id") != number:
                    pass
                return reply.get("result", {})

            call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                 mobile=width < 500)
            wide = []
            for page in sorted(site.rglob("*.html")):
                if any(part.startswith("_") for part in page.relative_to(site).parts) or page.stem in (
                        "genindex", "search", "py-modindex"):
                    continue
                call("Page.navigate", url=page.as_uri())
                for _ in range(50):  # until the page has loaded
                    state = call("Runtime.evaluate", expression="document.readyState", returnByValue=True)
                    if state["result"]["value"] == "complete":
                        break
                    time.sleep(0.05)
                sizes = call("Runtime.evaluate", expression="[document.documentElement.scrollWidth, innerWidth]",
                             returnByValue=True)["result"]["value"]
                if sizes[0] > sizes[1] + 1:
                    wide.append(f"{page.relative_to(site)}: {sizes[0]} px wide in a {sizes[1]} px window")
            return wide
    finally:
        browser.kill()
        browser.wait(10)


CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)), None)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(site, width):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (Debian's chromium)")
        pytest.skip("no chromium here (apt-get install chromium); .ci/run installs it")
    assert _pages_that_scroll_sideways(site, width) == []
