"""--workers, SIGHUP, --limit-max-requests and --reload, with real processes."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from .conftest import asgicy_args


def pids_seen(url, requests=40):
    """The worker PIDs that answered (each request on a new connection, so the kernel spreads them)."""
    seen = {}
    for _ in range(requests):
        pid, startups = httpx.get(url + "/", headers={"connection": "close"}, timeout=10).text.split()
        seen[int(pid)] = int(startups)
    return seen


def test_workers_share_the_socket_each_with_one_lifespan(launch):
    server = launch(asgicy_args("apps:app", "--workers", "2", "--no-access-log"))
    url = server.wait_serving()
    server.wait_log("Started server process", count=2)
    seen = server.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(pids_seen(url)), what="two workers")
    assert all(startups == 1 for startups in seen.values())  # one lifespan startup in each worker
    assert os.getpid() not in seen and server.proc.pid not in seen  # the supervisor serves nothing itself
    assert server.stop() == 0
    assert server.log.count("Finished server process") == 2


def test_a_killed_worker_is_replaced(launch):
    server = launch(asgicy_args("apps:app", "--workers", "2", "--no-access-log"))
    url = server.wait_serving()
    first = server.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(pids_seen(url)), what="two workers")
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    server.wait_log(f"Worker process [{victim}] died (signal 9); starting a new one")
    later = server.wait_for(lambda: (lambda s: s if len(s) == 2 and victim not in s else None)(pids_seen(url)),
                            what="a replacement worker")
    assert max(first) in later


def test_a_hung_worker_is_killed_and_replaced(launch):
    server = launch(asgicy_args("apps:app", "--workers", "2", "--timeout-worker-healthcheck", "1.5",
                               "--no-access-log"))
    url = server.wait_serving()
    server.wait_for(lambda: len(pids_seen(url, 20)) == 2, what="two workers")
    try:
        httpx.get(url + "/hang", timeout=1)
    except httpx.TimeoutException:
        pass
    server.wait_log("has not responded for")
    server.wait_log("died (signal 9); starting a new one")
    assert server.wait_for(lambda: len(pids_seen(url, 20)) == 2, what="two workers again")


def test_sighup_rolls_the_workers_without_dropping_a_request(launch):
    server = launch(asgicy_args("apps:app", "--workers", "2", "--no-access-log"))
    url = server.wait_serving()
    before = server.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(pids_seen(url)), what="two workers")
    failures, answers = [], []
    stop = threading.Event()

    def load(keep_alive):
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    headers = {} if keep_alive else {"connection": "close"}
                    response = client.get(url + "/slow?0.02", headers=headers)
                    answers.append(response.status_code)
                    if response.status_code != 200:
                        failures.append(response.status_code)
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
    threads = [threading.Thread(target=load, args=(keep_alive,)) for keep_alive in (True, False, False)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        server.signal(signal.SIGHUP)
        server.wait_log("All workers replaced", timeout=60)
        for pid in before:
            server.wait_log(f"Worker process [{pid}] stopped", timeout=60)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert failures == [] and len(answers) > 50
    after = server.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(pids_seen(url)), what="two workers")
    assert not set(after) & set(before)


def test_limit_max_requests_replaces_workers(launch):
    server = launch(asgicy_args("apps:app", "--workers", "2", "--limit-max-requests", "5",
                               "--limit-max-requests-jitter", "3", "--no-access-log"))
    url = server.wait_serving()
    seen = set()
    for _ in range(60):
        response = httpx.get(url + "/", headers={"connection": "close"}, timeout=10)
        assert response.status_code == 200  # a retiring worker finishes what it accepted
        seen.add(int(response.text.split()[0]))
    assert len(seen) > 2
    assert "retired (limit-max-requests)" in server.log


def test_limit_max_requests_alone_ends_the_server(launch):
    server = launch(asgicy_args("apps:app", "--limit-max-requests", "3", "--no-access-log"))
    url = server.wait_serving()
    for _ in range(3):
        httpx.get(url + "/", headers={"connection": "close"}, timeout=10)
    assert server.proc.wait(10) == 0
    assert "Served 4 requests (limit-max-requests)" in server.log or \
        "Served 3 requests (limit-max-requests)" in server.log


@pytest.mark.parametrize("target, code", [("apps:failing_startup", 3), ("apps:missing", 1)])
def test_a_worker_failing_at_start_up_stops_everything(launch, target, code):
    server = launch(asgicy_args(target, "--workers", "2"))
    assert server.proc.wait(30) == code
    assert "failed to start" in server.log and "Stopped supervisor process" in server.log


def test_sigterm_lets_requests_in_progress_finish(launch):
    server = launch(asgicy_args("apps:app", "--workers", "2", "--no-access-log"))
    url = server.wait_serving()
    server.wait_for(lambda: len(pids_seen(url, 20)) == 2, what="two workers")
    results = []
    thread = threading.Thread(target=lambda: results.append(httpx.get(url + "/slow?1.5", timeout=10)))
    thread.start()
    time.sleep(0.4)
    server.signal(signal.SIGTERM)
    thread.join(20)
    assert results and results[0].status_code == 200
    assert server.proc.wait(20) == 0


def test_reload_restarts_on_a_change(launch, tmp_path):
    module = tmp_path / "reloaded.py"
    module.write_text("async def app(scope, receive, send):\n"
                      "    await send({'type': 'http.response.start', 'status': 200})\n"
                      "    await send({'type': 'http.response.body', 'body': b'one'})\n")
    server = launch(asgicy_args("reloaded:app", "--reload", "--reload-dir", str(tmp_path), "--lifespan", "off",
                               "--reload-delay", "0.1"), cwd=tmp_path)
    url = server.wait_serving()
    assert httpx.get(url + "/").text == "one"
    # The workers start once the watcher is watching, so a change made as soon as one answers is seen.
    assert server.log.index("Watching") < server.log.index("Started worker process")
    (tmp_path / "notes.txt").write_text("not watched")
    time.sleep(0.3)
    module.write_text(module.read_text().replace("b'one'", "b'two'"))
    server.wait_log("reloading")
    server.wait_for(lambda: _text(url) == "two", what="the new code")
    # A change that breaks the import is reported; the next good change is served.
    module.write_text("this is not python\n")
    server.wait_log("failed to start", timeout=30)
    module.write_text(module.read_text().replace("this is not python", "") +
                      "async def app(scope, receive, send):\n"
                      "    await send({'type': 'http.response.start', 'status': 200})\n"
                      "    await send({'type': 'http.response.body', 'body': b'three'})\n")
    server.wait_for(lambda: _text(url) == "three", what="the fixed code")
    assert "notes.txt" not in server.log


def _text(url):
    try:
        return httpx.get(url + "/", timeout=2).text
    except httpx.HTTPError:
        return None


def test_with_reload_the_worker_starts_once_the_watcher_is_watching(monkeypatch):
    # Deterministic form of the race above: a watcher slow to start (as under load) holds the worker back.
    from asgicy.config import Config
    from asgicy.server.supervisor import Supervisor

    supervisor = Supervisor(Config(app="apps:app", reload=True, host="127.0.0.1", port=0))
    order = []

    def slow_watcher():
        time.sleep(0.5)
        order.append("watching")
        supervisor.watch_ready.set()

    def spawn():
        order.append("worker")
        supervisor.stop_requested = True  # the supervisor's loop ends at once

    monkeypatch.setattr(supervisor, "_watch", slow_watcher)
    monkeypatch.setattr(supervisor, "spawn", spawn)
    assert supervisor.run() == 0
    assert order == ["watching", "worker"]
