"""asgicy as a gunicorn worker class, run by a real gunicorn arbiter."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

import httpx
import pytest
import websockets

from .test_workers import pids_seen


def gunicorn_args(*args, app="apps:app"):
    from gunicorn.config import Config
    # gunicorn 24+ opens a control socket in $HOME by default; a test has no business there.
    quiet = ["--no-control-socket"] if "control_socket_disable" in Config().settings else []
    return [sys.executable, "-m", "gunicorn", "-k", "asgicy.workers.AsgicyWorker", "-b", "127.0.0.1:0", *quiet,
            *args, app]


@pytest.fixture(autouse=True)
def _gunicorn_installed():
    pytest.importorskip("gunicorn")  # a test dependency: present in CI; this only guards a partial install


def test_serves_http_and_websocket_with_one_lifespan_per_worker(launch):
    server = launch(gunicorn_args("-w", "2", "--access-logfile", "-", "--access-logformat",
                                  '%(h)s "%(r)s" %(s)s %({user-agent}i)s'))
    url = server.wait_serving()
    seen = server.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(pids_seen(url)), what="two workers")
    assert all(startups == 1 for startups in seen.values())

    async def talk():
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send("hi")
            return await ws.recv()
    assert asyncio.run(talk()) == "hi ws 127.0.0.1"
    httpx.get(url + "/scope", headers={"user-agent": "probe/1"})
    server.wait_log('"GET /scope HTTP/1.1" 200 probe/1')  # gunicorn's access log format, asgicy's atoms
    assert server.stop() == 0
    assert "Worker exiting" in server.log and "Traceback" not in server.log


def test_a_killed_worker_is_replaced_and_max_requests_applies(launch):
    server = launch(gunicorn_args("-w", "2", "--max-requests", "5"))
    url = server.wait_serving()
    first = server.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(pids_seen(url, 8)), what="two workers")
    seen = set(first)
    for _ in range(30):
        response = httpx.get(url + "/", headers={"connection": "close"}, timeout=10)
        assert response.status_code == 200
        seen.add(int(response.text.split()[0]))
    assert len(seen) > 2  # workers retired after their requests and gunicorn started new ones


def test_graceful_term_and_wsgi_app(launch, tmp_path):
    (tmp_path / "flaskapp.py").write_text(
        "import time\nimport flask\napp = flask.Flask('x')\n"
        "@app.get('/slow')\ndef slow():\n    time.sleep(1.0)\n    return 'done'\n")
    server = launch(gunicorn_args("-w", "1", "--chdir", str(tmp_path), app="flaskapp:app"), cwd=tmp_path)
    url = server.url or server.wait_for(lambda: server.url, what="the URL")
    server.wait_for(lambda: _ok(url + "/slow"), what="Flask through the worker", timeout=30)
    results = []
    thread = threading.Thread(target=lambda: results.append(httpx.get(url + "/slow", timeout=10)))
    thread.start()
    server.wait_for(lambda: _in_app(thread), what="the request to start", timeout=5)
    server.signal(signal.SIGTERM)
    thread.join(15)
    assert results and results[0].text == "done"
    assert server.proc.wait(20) == 0


def _ok(url):
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _in_app(thread):
    import time
    time.sleep(0.3)
    return thread.is_alive()
