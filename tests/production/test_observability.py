"""Structured logs, --log-config, request ids and the Prometheus metrics, read from real server processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from .conftest import asgicy_args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def json_lines(server) -> list:
    """Every line the server wrote, each parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in server.lines if line.strip()]


def raw_exchange(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def ws_session(url: str, messages: int) -> None:
    with connect(url.replace("http://", "ws://") + "/chat") as ws:
        for number in range(messages):
            ws.send(f"message {number}")
            assert ws.recv(timeout=5) == f"message {number}"


# -- structured logs --------------------------------------------------------------------------------------

def test_json_logs_give_each_access_field_its_own_key(launch):
    server = launch(asgicy_args("apps:ops", "--log-format", "json", "--request-id"))
    url = server.wait_serving()
    response = httpx.post(url + "/status?201", content=b"x" * 10, headers={"x-request-id": "proxy-id-7"})
    assert response.status_code == 201
    httpx.get(url + "/boom")
    ws_session(url, 3)
    server.wait_log('"websocket": true')
    assert server.stop() == 0
    lines = json_lines(server)
    for line in lines:
        assert {"time", "level", "logger", "message", "pid"} <= set(line)
        assert line["time"].endswith("Z") and line["logger"] in ("asgicy.error", "asgicy.access")
    worker = server.proc.pid
    access = [line for line in lines if line["logger"] == "asgicy.access"]
    created = next(line for line in access if line["status"] == 201)
    assert created["method"] == "POST" and created["path"] == "/status" and created["query"] == "201"
    assert created["http_version"] == "1.1" and created["pid"] == worker and created["level"] == "info"
    assert created["request_id"] == "proxy-id-7"  # 127.0.0.1 is a trusted proxy by default
    # HTTP/1.1 counts the head too (as %(B)s does): more than the body, less than body and a generous head.
    assert int(response.headers["content-length"]) < created["bytes"] < int(response.headers["content-length"]) + 300
    assert isinstance(created["duration"], float) and 0 <= created["duration"] < 5
    assert created["client"].startswith("127.0.0.1:")
    failed = next(line for line in access if line["status"] == 500)
    assert failed["path"] == "/boom" and failed["request_id"] and failed["request_id"] != "proxy-id-7"
    error = next(line for line in lines if line["message"] == "Exception in ASGI application")
    assert error["level"] == "error" and "RuntimeError: the app failed on purpose" in error["exception"]
    session = next(line for line in access if line.get("websocket"))
    assert session["path"] == "/chat" and session["status"] == 101 and session["close_code"] == 1000
    assert session["messages_in"] == 3 and session["messages_out"] == 3 and session["bytes"] is None


def test_json_logs_from_workers_name_the_worker(launch):
    server = launch(asgicy_args("apps:ops", "--log-format", "json", "--workers", "2"))
    url = server.wait_serving()
    pids = {int(httpx.get(url + "/", headers={"connection": "close"}).text.split()[0]) for _ in range(30)}
    assert server.stop() == 0
    access_pids = {line["pid"] for line in json_lines(server) if line["logger"] == "asgicy.access"}
    assert access_pids == pids and server.proc.pid not in access_pids


LOG_CONFIGS = {
    "json": lambda path: json.dumps({
        "version": 1,
        "formatters": {"fields": {"format": "%(method)s %(path)s %(status)s %(request_id)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "filename": path, "formatter": "fields"}},
        "loggers": {"asgicy.access": {"handlers": ["file"], "propagate": False}},
    }),
    "yaml": lambda path: f"""
version: 1
formatters:
  fields: {{format: "%(method)s %(path)s %(status)s %(request_id)s"}}
handlers:
  file: {{class: logging.FileHandler, filename: "{path}", formatter: fields}}
loggers:
  asgicy.access: {{handlers: [file], propagate: false}}
""",
    "toml": lambda path: f"""
version = 1
[formatters.fields]
format = "%(method)s %(path)s %(status)s %(request_id)s"
[handlers.file]
class = "logging.FileHandler"
filename = "{path}"
formatter = "fields"
[loggers."asgicy.access"]
handlers = ["file"]
propagate = false
""",
}


@pytest.mark.parametrize("kind", sorted(LOG_CONFIGS))
def test_log_config_plugs_in_handlers_that_read_the_fields(launch, tmp_path, kind):
    log_file = tmp_path / "access.log"
    config = tmp_path / f"logging.{kind}"
    config.write_text(LOG_CONFIGS[kind](str(log_file)))
    server = launch(asgicy_args("apps:ops", "--log-config", str(config), "--request-id"))
    url = server.wait_serving()
    httpx.get(url + "/status?404", headers={"x-request-id": "abc"})
    assert server.stop() == 0
    assert "GET /status 404 abc" in log_file.read_text().splitlines()
    assert "Started server process" in server.log  # the error log keeps its default handler


def test_a_broken_log_config_stops_the_start(launch, tmp_path):
    config = tmp_path / "logging.json"
    config.write_text('{"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}}')
    server = launch(asgicy_args("apps:ops", "--log-config", str(config)))
    assert server.proc.wait(20) == 1
    assert "log_config" in server.log and "no.such" in server.log


# -- request ids ----------------------------------------------------------------------------------------------

def test_request_ids_are_made_taken_from_trusted_proxies_and_echoed(launch):
    server = launch(asgicy_args("apps:ops", "--request-id", "--request-id-response", "--no-access-log"))
    url = server.wait_serving()
    made = {httpx.get(url + "/rid").text for _ in range(5)}
    assert len(made) == 5  # a new id each
    response = httpx.get(url + "/rid", headers={"x-request-id": "from-the-proxy"})
    assert response.text == "from-the-proxy" and response.headers["x-request-id"] == "from-the-proxy"
    # An id unfit for a log line is not taken.
    for bad in ("has space", "x" * 201):
        response = httpx.get(url + "/rid", headers={"x-request-id": bad})
        assert response.text != bad and response.headers["x-request-id"] == response.text
    # The app's own header wins, and is not doubled.
    response = httpx.get(url + "/rid?own")
    assert response.headers.get_list("x-request-id") == ["set-by-the-app"]
    # HTTP/2 (prior knowledge) carries it the same way.
    with httpx.Client(http1=False, http2=True) as client:
        response = client.get(url + "/rid", headers={"x-request-id": "h2-id"})
    assert response.http_version == "HTTP/2" and response.headers["x-request-id"] == "h2-id" == response.text
    # A response the server makes itself (503 at the concurrency limit, 500) says it too.
    assert httpx.get(url + "/boom").headers["x-request-id"]


def test_request_ids_from_an_untrusted_peer_are_replaced(launch):
    server = launch(asgicy_args("apps:ops", "--request-id", "--forwarded-allow-ips", "10.0.0.1",
                                "--request-id-header", "X-Trace", "--no-access-log"))
    url = server.wait_serving()
    response = httpx.get(url + "/rid", headers={"x-trace": "forged"})
    assert response.text and response.text != "forged" and "x-trace" not in response.headers


# -- metrics ----------------------------------------------------------------------------------------------------

def scrape(port: int) -> dict:
    """The samples of the metrics page, as {(name, (label pairs)): value}."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def wait_metrics(server, port: int, expected: dict, timeout: float = 10.0) -> dict:
    """Scrapes until every expected sample has its value (a worker adds its counts at its next tick)."""
    samples = {}

    def matched():
        nonlocal samples
        samples = scrape(port)
        return all(samples.get(key) == value for key, value in expected.items())
    try:
        server.wait_for(matched, timeout, "the metrics")
    except AssertionError:
        raise AssertionError("metrics differ: " + str({key: (samples.get(key), value) for key, value in expected.items()
                                                        if samples.get(key) != value})) from None
    return samples


def traffic(url: str) -> None:
    """Known traffic: 5 x 200, 2 x 404, a 1000-byte POST (200), a 500, a WebSocket of 2 messages, and
    requests the server refuses itself: a malformed one (400), a too long target (414) and too many header
    fields (431)."""
    for _ in range(5):
        assert httpx.get(url + "/", headers={"connection": "close"}).status_code == 200
    for _ in range(2):
        assert httpx.get(url + "/status?404", headers={"connection": "close"}).status_code == 404
    assert httpx.post(url + "/", content=b"b" * 1000, headers={"connection": "close"}).text.endswith(" 1000")
    assert httpx.get(url + "/boom").status_code == 500
    ws_session(url, 2)
    assert raw_exchange(url, b"GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw_exchange(url, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 414")
    fields = b"".join(b"x-%d: 1\r\n" % number for number in range(101))
    assert raw_exchange(url, b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n").startswith(b"HTTP/1.1 431")


KNOWN_TRAFFIC = {
    ("asgicy_http_requests_total", (("status_class", "2xx"),)): 6.0,
    ("asgicy_http_requests_total", (("status_class", "4xx"),)): 2.0,
    ("asgicy_http_requests_total", (("status_class", "5xx"),)): 1.0,
    ("asgicy_http_request_duration_seconds_count", ()): 9.0,
    ("asgicy_http_request_body_bytes_total", ()): 1000.0,
    ("asgicy_refusals_total", (("reason", "bad_request"),)): 1.0,
    ("asgicy_refusals_total", (("reason", "uri_too_long"),)): 1.0,
    ("asgicy_refusals_total", (("reason", "header_fields_too_large"),)): 1.0,
    ("asgicy_websockets_total", ()): 1.0,
    ("asgicy_websocket_messages_total", (("direction", "in"),)): 2.0,
    ("asgicy_websocket_messages_total", (("direction", "out"),)): 2.0,
    ("asgicy_http_requests_in_flight", ()): 0.0,
    ("asgicy_websockets_open", ()): 0.0,
}


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_count_known_traffic(launch, workers):
    port = free_port()
    server = launch(asgicy_args("apps:ops", "--metrics-port", str(port), "--workers", str(workers),
                                "--no-access-log"))
    url = server.wait_serving()
    server.wait_log("Started server process", count=workers)
    first = ("asgicy_http_requests_total", (("status_class", "2xx"),))
    wait_metrics(server, port, {first: 1.0})  # wait_serving's request
    traffic(url)
    expected = dict(KNOWN_TRAFFIC)
    expected[first] += 1
    expected[("asgicy_http_request_duration_seconds_count", ())] += 1
    samples = wait_metrics(server, port, expected)
    # The histogram is cumulative, ends in +Inf at the count, and the response bytes are at least the bodies.
    buckets = sorted((float(dict(labels)["le"]), value) for (name, labels), value in samples.items()
                     if name == "asgicy_http_request_duration_seconds_bucket")
    assert buckets[-1] == (float("inf"), expected[("asgicy_http_request_duration_seconds_count", ())])
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    assert samples[("asgicy_http_response_bytes_total", ())] > 9 * 10
    # Gauges: connections held open show, and go once closed.
    held = [socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) for _ in range(3)]
    try:
        wait_metrics(server, port, {("asgicy_connections_open", ()): 3.0})
    finally:
        for sock in held:
            sock.close()
    wait_metrics(server, port, {("asgicy_connections_open", ()): 0.0})
    if workers == 2:
        victim = int(httpx.get(url + "/", headers={"connection": "close"}).text.split()[0])
        os.kill(victim, signal.SIGKILL)
        server.wait_log(f"Worker process [{victim}] died")
        # The dead worker's counts stay in the sums; the restart is counted.
        samples = wait_metrics(server, port, {("asgicy_worker_restarts_total", (("reason", "died"),)): 1.0,
                                              ("asgicy_websockets_total", ()): 1.0})
    assert server.stop() == 0


def test_metrics_in_flight_requests_and_open_websockets(launch):
    port = free_port()
    server = launch(asgicy_args("apps:ops", "--metrics-port", str(port), "--no-access-log"))
    url = server.wait_serving()
    import threading

    slow = [threading.Thread(target=httpx.get, args=(url + "/slow?3",), kwargs={"timeout": 10}) for _ in range(2)]
    for thread in slow:
        thread.start()
    with connect(url.replace("http://", "ws://") + "/chat"):
        wait_metrics(server, port, {("asgicy_http_requests_in_flight", ()): 2.0,
                                    ("asgicy_websockets_open", ()): 1.0})
    for thread in slow:
        thread.join()
    wait_metrics(server, port, {("asgicy_http_requests_in_flight", ()): 0.0, ("asgicy_websockets_open", ()): 0.0})


def test_metrics_count_concurrency_refusals(launch):
    port = free_port()
    server = launch(asgicy_args("apps:ops", "--metrics-port", str(port), "--limit-concurrency", "1",
                                "--no-access-log"))
    url = server.wait_serving()
    import threading

    thread = threading.Thread(target=httpx.get, args=(url + "/slow?1.5",), kwargs={"timeout": 10})
    thread.start()
    time.sleep(0.5)
    assert httpx.get(url + "/").status_code == 503
    thread.join()
    wait_metrics(server, port, {("asgicy_refusals_total", (("reason", "limit_concurrency"),)): 1.0})


def test_a_metrics_port_in_use_stops_the_start(launch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            server = launch(asgicy_args("apps:ops", "--metrics-port", str(port), "--workers", workers))
            assert server.proc.wait(20) != 0
            assert f"could not listen on 127.0.0.1:{port} for metrics" in server.log


def test_bulk_observations_equal_observe():
    """A Tally's durations, added by metrics.add_observations, read as observe() one at a time would."""
    from prometheus_client import CollectorRegistry, Histogram

    from asgicy.server.connection import DURATION_BUCKETS, Tally
    from asgicy.server.metrics import add_observations

    durations = [0.0001, 0.0005, 0.0007, 0.003, 0.003, 0.2, 0.9, 4.0, 10.0, 11.0, 60.0]
    one, many = CollectorRegistry(), CollectorRegistry()
    observed = Histogram("d", "", buckets=DURATION_BUCKETS, registry=one)
    tally = Tally()
    for value in durations:
        observed.observe(value)
        tally.duration(value)
    taken = tally.take()
    assert len(taken.bucket_counts()) == len(DURATION_BUCKETS) + 1  # (the C array's size in connection.pxd)
    assert tally.bucket_counts() == [0] * (len(DURATION_BUCKETS) + 1)  # take() starts the tally again
    add_observations(Histogram("d", "", buckets=DURATION_BUCKETS, registry=many), taken.bucket_counts(),
                     taken.duration_sum)

    def samples(registry):
        return {(s.name, tuple(s.labels.items())): s.value for metric in registry.collect() for s in metric.samples
                if not s.name.endswith("_created")}
    assert samples(one) == samples(many)
    assert samples(many)[("d_bucket", (("le", "0.0005"),))] == 2  # le: the bound itself is in the bucket


def test_a_multiprocess_directory_of_the_users_is_used_and_kept(launch, tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    port = free_port()
    server = launch(asgicy_args("apps:ops", "--metrics-port", str(port), "--workers", "2", "--no-access-log"),
                    env={"PROMETHEUS_MULTIPROC_DIR": str(directory)})
    url = server.wait_serving()
    for _ in range(4):
        httpx.get(url + "/", headers={"connection": "close"})
    wait_metrics(server, port, {("asgicy_http_requests_total", (("status_class", "2xx"),)): 5.0})
    assert server.stop() == 0
    assert any(path.name.startswith("counter_") for path in directory.iterdir())  # the workers' files, kept
