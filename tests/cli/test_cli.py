"""``python -m asgicy`` as a user runs it: real processes, stopped by their PID."""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).parent


def asgicy(*args, env=None, timeout=20):
    return subprocess.run([sys.executable, "-m", "asgicy", *args], capture_output=True, text=True, cwd=HERE,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@contextmanager
def running(*args, env=None):
    """Starts the server on a free port and yields (base url, process, stderr lines so far)."""
    proc = subprocess.Popen([sys.executable, "-m", "asgicy", "--port", "0", *args], cwd=HERE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    lines = []
    try:
        deadline = time.monotonic() + 20
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"running on (http://\S+)", line)
            if match:
                url = match.group(1)
        assert url, "".join(lines)
        yield url, proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stderr.close()


def test_version():
    result = asgicy("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"asgicy \d+\.\d+\.\d+ \(HTTP parser: cython; event loop: uvloop \d+\.\d+\.\d+; "
                        r"Python 3\.\d+\.\d+\)\n", result.stdout)


def test_version_and_the_start_up_line_name_the_event_loop():
    # The default install has no uvloop, the benchmarks run on it: a user comparing figures must see which.
    hide = "import sys; sys.modules['uvloop'] = None; from asgicy.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", hide, "--version"], capture_output=True, text=True, cwd=HERE)
    assert "event loop: asyncio (uvloop is not installed: pip install 'asgicy[standard]')" in result.stdout
    with running("sample_apps:app") as (url, proc, lines):
        pass
    assert re.search(r"Started server process \[\d+\] \(HTTP parser: cython, uvloop loop\)", "".join(lines))


def test_kubernetes_service_links_do_not_stop_the_server():
    # A Service named "asgicy" puts these into every pod of its namespace.
    env = {"ASGICY_SERVICE_HOST": "10.0.0.1", "ASGICY_SERVICE_PORT": "8000", "ASGICY_PORT": "tcp://10.0.0.1:8000",
           "ASGICY_PORT_8000_TCP": "tcp://10.0.0.1:8000", "ASGICY_PORT_8000_TCP_ADDR": "10.0.0.1"}
    with running("sample_apps:app", env=env) as (url, proc, lines):
        assert httpx.get(url).status_code == 200
    text = "".join(lines)
    assert "WARNING" in text and "ignoring ASGICY_PORT=tcp://10.0.0.1:8000: a service link" in text
    assert re.search(r"ignoring environment variables that name no option: ASGICY_PORT_8000_TCP, "
                     r"ASGICY_PORT_8000_TCP_ADDR, ASGICY_SERVICE_HOST.*, ASGICY_SERVICE_PORT", text)
    bad = asgicy("sample_apps:app", env={"ASGICY_TIMEOUT_KEEP_ALIVE": "soon"})
    assert bad.returncode == 1 and "ASGICY_TIMEOUT_KEEP_ALIVE: timeout_keep_alive must be a number" in bad.stderr


def test_version_with_pure_python():
    result = asgicy("--version", env={"ASGICY_PURE_PYTHON": "1"})
    assert "HTTP parser: pure-Python reference (ASGICY_PURE_PYTHON is set)" in result.stdout


@pytest.mark.parametrize("target, message", [
    ("nocolon", "the app must be given as 'module:attribute'"),
    ("missing_module:app", "could not import module 'missing_module'"),
    ("sample_apps:nope", "module 'sample_apps' has no attribute 'nope'"),
    ("sample_apps:not_callable", "is int, not a callable ASGI app"),
])
def test_bad_app_is_one_clear_line(target, message):
    result = asgicy(target)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"asgicy: error: {result.stderr.split('error: ', 1)[1].strip()}"]
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_option_value():
    result = asgicy("sample_apps:app", "--port", "70000")
    assert result.returncode == 1 and "port must be between 0 and 65535" in result.stderr
    result = asgicy("sample_apps:app", "--loop", "tokio")
    assert result.returncode == 2 and "invalid choice: 'tokio'" in result.stderr


def test_port_in_use_is_one_clear_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = asgicy("sample_apps:app", "--port", str(port), "--lifespan", "off")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"could not listen on 127.0.0.1:{port}" in result.stderr


def test_lifespan_startup_failure_exits_non_zero():
    result = asgicy("sample_apps:failing_startup", "--port", "0")
    assert result.returncode != 0 and "the database is down" in result.stderr and "Traceback" not in result.stderr


def test_serves_an_app_and_stops_on_sigterm():
    with running("sample_apps:app") as (url, proc, lines):
        assert httpx.get(url).text == "sample"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        rest = proc.stderr.read()
    assert "Finished server process" in rest and "HTTP parser: cython" in "".join(lines)


def test_factory_and_app_dir(tmp_path):
    (tmp_path / "elsewhere.py").write_text(
        "async def app(scope, receive, send):\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'from app-dir'})\n"
        "def make():\n    return app\n")
    with running("elsewhere:make", "--factory", "--app-dir", str(tmp_path), "--lifespan", "off") as (url, *_):
        assert httpx.get(url).text == "from app-dir"


def test_no_app_serves_the_demo():
    with running() as (url, proc, lines):
        page = httpx.get(url + "/hello?x=1").text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    text = html.unescape(page)
    assert "Your request, as ASGI events" in text and "built-in demo app" in "".join(lines)
    # Shown as the tutorial shows events: Python values, bytes as bytes (not a bytes repr inside a JSON
    # string, "b'/hello'" in quotes), one event per entry.
    assert "'path': '/hello'" in text and "'raw_path': b'/hello'" in text and "'query_string': b'x=1'" in text
    assert "\"b'" not in text
    assert "receive  {'type': 'http.request', 'body': b'', 'more_body': False}" in text
    assert "tutorial/index.html" in text


def test_pure_python_says_so_once_at_start():
    with running("sample_apps:app", env={"ASGICY_PURE_PYTHON": "1"}) as (url, proc, lines):
        assert httpx.get(url).text == "sample"
    text = "".join(lines)
    assert text.count("pure-Python HTTP parser") == 1 and "ASGICY_PURE_PYTHON is set" in text


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "asgicy"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0 and result.stdout.startswith("asgicy ")
