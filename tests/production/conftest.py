"""Running asgicy (or gunicorn) as a user does, in its own process, read through its log."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).parent


class Served:
    """A server process; ``lines`` is its output so far, stderr and stdout together (read by a thread, so
    the pipe never fills)."""

    def __init__(self, args, cwd=HERE, env=None, url_pattern=r"running on (https?://\S+)|Listening at: (\S+)",
                 **popen):
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, **(env or {})}, start_new_session=True, **popen)
        self.lines: list = []
        self.url = None
        self._pattern = re.compile(url_pattern)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            match = self._pattern.search(line)
            if match and self.url is None:
                self.url = next(g for g in match.groups() if g)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_for(self, predicate, timeout=20.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log}")

    def wait_log(self, text, count=1, timeout=20.0):
        return self.wait_for(lambda: self.log.count(text) >= count, timeout, repr(text))

    def wait_serving(self, timeout=30.0, **client_options):
        self.wait_for(lambda: self.url, timeout, "the URL")

        def answered():
            try:
                return httpx.get(self.url + "/", timeout=2, **client_options).status_code == 200
            except httpx.HTTPError:
                return False
        self.wait_for(answered, timeout, "a first response")
        return self.url

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=30.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(10)
        self._reader.join(5)
        return self.proc.returncode


def asgicy_args(*args):
    return [sys.executable, "-m", "asgicy", "--port", "0", *args]


@pytest.fixture
def launch():
    """Starts server processes for a test and stops each, by its PID, when the test ends."""
    started = []

    def start(args, **kwargs):
        served = Served(args, **kwargs)
        started.append(served)
        return served
    yield start
    for served in started:
        if served.proc.poll() is None:
            try:
                os.killpg(served.proc.pid, signal.SIGKILL)  # its own session: the workers it started too
            except ProcessLookupError:
                pass
        served.stop()


def pytest_asyncio_loop_factories(config, item):
    """The async tests here run on asyncio's loop and on uvloop, as the integration tests do."""
    import asyncio

    import uvloop
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
