"""--shutdown-delay behind a load balancer, --limit-max-memory, and systemd (socket activation, sd_notify),
with real server processes and the environment systemd would set."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import httpx
import pytest

from .conftest import asgicy_args
from .test_observability import free_port, wait_metrics


class Load:
    """Clients that keep sending until stopped: one on a kept-alive connection, others on a new connection
    per request. Every failure (a refused connection, a reset, a status other than 200) is kept."""

    def __init__(self, url: str, path: str = "/", clients: int = 3) -> None:
        self.url, self.path = url, path
        self.failures: list = []
        self.answers: list = []  # (time, status, connection header, pid)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(number == 0,)) for number in range(clients)]

    def _run(self, keep_alive: bool) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                try:
                    headers = {} if keep_alive else {"connection": "close"}
                    response = client.get(self.url + self.path, headers=headers)
                    self.answers.append((time.monotonic(), response.status_code,
                                         response.headers.get("connection"), response.text.split()[0]))
                    if response.status_code != 200:
                        self.failures.append(response.status_code)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(0.005)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


# -- --shutdown-delay ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", ["1", "2"])
def test_shutdown_delay_keeps_serving_and_fails_readiness(launch, workers):
    server = launch(asgicy_args("apps:ops", "--workers", workers, "--shutdown-delay", "2",
                                "--readiness-path", "/ready", "--timeout-keep-alive", "30", "--no-access-log"))
    url = server.wait_serving()
    server.wait_log("Started server process", count=int(workers))
    assert httpx.get(url + "/ready").status_code == 200  # the app's own answer while serving
    idle = httpx.Client(timeout=10)
    assert idle.get(url + "/").status_code == 200  # a kept-alive connection, idle from now on
    with Load(url) as load:
        time.sleep(0.5)
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        readiness = []
        while time.monotonic() < signalled + 1.6:  # the client goes on for (most of) the delay
            readiness.append(httpx.get(url + "/ready", headers={"connection": "close"}).status_code)
            time.sleep(0.1)
    assert load.failures == []
    during = [answer for answer in load.answers if answer[0] > signalled + 0.3]
    assert len(during) > 20
    assert all(connection == "close" for _, _, connection, _ in during)  # each ends its connection
    assert readiness[-5:] == [503] * 5
    assert server.proc.wait(20) == 0
    ended = time.monotonic() - signalled
    # The idle connection was closed first, not waited for (its keep-alive timeout is 30 s).
    assert ended < 10, ended
    announced = "serving 2 s more before shutting down (shutdown-delay); /ready answers 503"
    assert server.log.count(announced) == int(workers)
    idle.close()


def test_a_second_signal_cuts_the_delay_short(launch):
    server = launch(asgicy_args("apps:ops", "--shutdown-delay", "30", "--no-access-log"))
    server.wait_serving()
    server.signal(signal.SIGTERM)
    server.wait_log("serving 30 s more")
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.proc.wait(15) == 0 and time.monotonic() - started < 10
    assert "the shutdown delay is cut short" in server.log


def test_shutdown_delay_over_http2_sends_goaway_and_finishes_streams(launch):
    from tests.h2.client import Client
    from tests.sansio.h2frames import read_frames

    server = launch(asgicy_args("apps:ops", "--shutdown-delay", "1.5", "--no-access-log"))
    url = server.wait_serving()
    host, port = url.removeprefix("http://").split(":")
    client = Client(host, int(port))
    try:
        assert client.get("/").status == 200
        slow = client.request("/slow?0.8")
        time.sleep(0.2)
        server.signal(signal.SIGTERM)
        # Raw frames from here: the h2 library (and httpx over it) closes its side at GOAWAY, where RFC 9113
        # 6.8 lets the streams it covers finish.
        data = b""
        client.sock.settimeout(5)
        while chunk := client.sock.recv(65536):
            data += chunk
    finally:
        client.close()
    frames = [frame for frame in read_frames(data) if frame[0] in (0, 7)]  # DATA and GOAWAY
    goaway = next(frame for frame in frames if frame[0] == 7)
    assert goaway[3][:8] == struct.pack(">II", slow, 0)  # at once, NO_ERROR, the stream in progress covered
    assert any(kind == 0 and stream == slow and flags & 1 for kind, flags, stream, _ in frames)  # ...and answered
    # During the delay a new connection is still served.
    with httpx.Client(http1=False, http2=True, timeout=10) as fresh:
        assert fresh.get(url + "/").status_code == 200
    assert server.proc.wait(20) == 0


# -- --limit-max-memory -------------------------------------------------------------------------------------

def test_a_worker_past_the_memory_limit_is_replaced_without_a_failed_request(launch):
    port = free_port()
    server = launch(asgicy_args("apps:ops", "--limit-max-memory", "150", "--metrics-port", str(port),
                                "--no-access-log"))
    url = server.wait_serving()
    first = int(httpx.get(url + "/").text.split()[0])
    with Load(url) as load:
        time.sleep(0.3)
        assert httpx.get(url + "/grow?200", timeout=30).status_code == 200
        server.wait_log(f"Worker process [{first}] uses", timeout=20)
        server.wait_log(f"stopping worker process [{first}]", timeout=30)
        server.wait_log(f"Worker process [{first}] stopped", timeout=30)
        time.sleep(0.5)
    assert load.failures == [] and len(load.answers) > 20
    assert "more than limit-max-memory (150 MiB): replacing it" in server.log
    pids = {answer[3] for answer in load.answers}
    assert str(first) in pids and len(pids) == 2  # answered by the old worker, then by its successor
    wait_metrics(server, port, {("asgicy_worker_restarts_total", (("reason", "max_memory"),)): 1.0})
    assert int(httpx.get(url + "/").text.split()[0]) != first
    assert server.stop() == 0


def test_limit_max_memory_needs_an_import_string():
    # In a process of its own: asgicy.run sets up logging as the command line does, which would take the
    # asgicy loggers away from the other tests' log capture.
    program = "import asgicy; raise SystemExit(asgicy.run(lambda s, r, c: None, limit_max_memory=100, port=0))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "workers, reload and limit_max_memory need the app as an import string" in result.stderr


# -- systemd ------------------------------------------------------------------------------------------------

def listening(host="127.0.0.1", family=socket.AF_INET):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(16)
    return sock


def activated(launch, sockets, *args, env=None):
    """The server started as systemd starts a socket-activated service: the sockets as descriptors 3, 4, ...,
    LISTEN_FDS, and LISTEN_PID naming the server's own process (set by the shell that execs it)."""
    descriptors = [sock.fileno() for sock in sockets]

    def place():  # in the child, before exec
        # Out of the way first (F_DUPFD: at 100 or above), so that placing one cannot overwrite another.
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in descriptors]
        for target, fd in enumerate(moved, start=3):
            os.dup2(fd, target)  # (dup2's copy is inheritable)
    command = ["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", sys.executable, "-m", "asgicy", *args]
    # close_fds=False: the placed descriptors must survive into the server (Python's own are not inheritable).
    return launch(command, env={"LISTEN_FDS": str(len(sockets)), "LISTEN_FDNAMES": "web:web", **(env or {})},
                  preexec_fn=place, close_fds=False)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_socket_activation_serves_on_the_passed_sockets(launch, workers):
    first, second = listening(), listening()
    try:
        server = activated(launch, [first, second], "apps:ops", "--workers", workers, "--port", "1",
                           "--no-access-log")
        server.wait_log("passed by systemd (LISTEN_FDS)")
        for sock in (first, second):
            port = sock.getsockname()[1]
            answer = server.wait_for(lambda: _get(f"http://127.0.0.1:{port}/"), what=f"an answer on {port}")
            assert answer.status_code == 200
        assert "could not listen" not in server.log  # --port 1 was never bound
        assert server.stop() == 0
    finally:
        first.close()
        second.close()


def _get(url):
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None


def test_socket_activation_meant_for_another_process_is_ignored(launch):
    server = launch(asgicy_args("apps:ops", "--no-access-log"), env={"LISTEN_FDS": "1", "LISTEN_PID": "1"})
    server.wait_serving()
    assert "passed by systemd" not in server.log


def test_a_passed_descriptor_that_is_not_listening_stops_the_start(launch):
    unbound = socket.socket()
    try:
        server = activated(launch, [unbound], "apps:ops")
        assert server.proc.wait(20) == 1
        assert "descriptor 3 from systemd is not a listening stream socket" in server.log
    finally:
        unbound.close()


@pytest.fixture
def notify_socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def notifications(sock, until, timeout=20.0) -> list:
    """Datagrams received until one contains ``until``."""
    received = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            received.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if until in received[-1]:
            return received
    raise AssertionError(f"no {until!r} in {received}")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sd_notify_ready_watchdog_and_stopping(launch, notify_socket, workers):
    server = launch(asgicy_args("apps:ops", "--workers", workers, "--no-access-log"),
                    env={"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "600000"})
    ready = notifications(notify_socket, "READY=1")
    assert "STATUS=" in ready[-1]
    server.wait_serving()  # READY=1 came once the server answers
    beats = notifications(notify_socket, "WATCHDOG=1")
    beats += notifications(notify_socket, "WATCHDOG=1")  # again, within the 0.3 s it promised (and then some)
    if workers == "2":
        server.signal(signal.SIGHUP)
        reload = notifications(notify_socket, "RELOADING=1")
        assert "MONOTONIC_USEC=" in reload[-1]
        notifications(notify_socket, "READY=1", timeout=60)
    server.signal(signal.SIGTERM)
    notifications(notify_socket, "STOPPING=1")
    assert server.proc.wait(20) == 0


def test_an_abstract_notify_socket_is_reached(launch):
    name = f"asgicy-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(0.2)
    try:
        launch(asgicy_args("apps:ops", "--no-access-log"), env={"NOTIFY_SOCKET": "@" + name})
        notifications(sock, "READY=1")
    finally:
        sock.close()
