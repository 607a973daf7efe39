"""Prometheus metrics (``--metrics-port``): what is counted, and how it reaches a scrape.

A worker counts in a ``Tally`` (server/connection.py: plain numbers, a few additions per response) and
``Metrics.flush`` adds what was counted to prometheus_client's metrics at every tick of the server. The
endpoint is prometheus_client's own HTTP server, on its own port, in a thread:

- one process (no supervisor): it serves prometheus_client's default registry, so an app's own metrics
  (made with prometheus_client in the same process) are on the same page;
- with a supervisor (``--workers``, ``--limit-max-memory``): prometheus_client's multi-process mode. The
  supervisor points ``PROMETHEUS_MULTIPROC_DIR`` at a directory (a new temporary one, or the one already set
  in its environment) before any worker starts, every worker writes its values to files there, and the
  supervisor's endpoint adds them up (gauges: over the live workers; counters and histograms: over every
  worker that ever ran, so a restart loses no count). The supervisor counts worker restarts itself.

Every metric is declared once, in ``METRICS``; the docs' metrics table is made from it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

from .connection import DURATION_BUCKETS, REFUSAL_REASONS

logger = logging.getLogger("asgicy.error")

# name (prometheus_client adds _total to a counter's), kind, help, labels.
METRICS = (
    ("asgicy_http_requests", "counter", "HTTP responses completed, by status class (1xx...5xx).",
     ("status_class",)),
    ("asgicy_http_request_duration_seconds", "histogram", "Seconds from a request's head to the last byte of its "
     "response handed to the transport.", ()),
    ("asgicy_http_requests_in_flight", "gauge", "HTTP requests whose app is running.", ()),
    ("asgicy_http_request_body_bytes", "counter", "Request body bytes received.", ()),
    ("asgicy_http_response_bytes", "counter", "Response bytes written: for HTTP/1.1 the head, the body and its "
     "chunked framing; for HTTP/2 the body (DATA payloads).", ()),
    ("asgicy_refusals", "counter", "Requests the server answered itself, without the app, by reason: "
     + ", ".join(f"{reason} ({status})" for status, reason in REFUSAL_REASONS.items()) + ", other.", ("reason",)),
    ("asgicy_connections_open", "gauge", "Open client connections (HTTP/1.1, HTTP/2 and WebSocket).", ()),
    ("asgicy_websockets_open", "gauge", "Accepted WebSockets whose app is still running.", ()),
    ("asgicy_websockets", "counter", "WebSocket sessions accepted.", ()),
    ("asgicy_websocket_messages", "counter", "WebSocket messages, by direction (in: from the client).",
     ("direction",)),
    ("asgicy_worker_restarts", "counter", "Workers replaced by the supervisor, by reason: died, unresponsive, "
     "max_requests, max_memory, roll (SIGHUP).", ("reason",)),
)
SUPERVISOR_METRICS = ("asgicy_worker_restarts",)


def _need_prometheus_client():
    from ..errors import ConfigError

    try:
        import prometheus_client
    except ImportError:
        raise ConfigError("metrics_port needs prometheus_client (pip install 'asgicy[standard]')") from None
    return prometheus_client


class Metrics:
    """This process's prometheus_client metrics (made once per process: the default registry refuses a name
    twice, and a test may start several servers in one process)."""

    _made: dict = {}

    def __init__(self, names) -> None:
        prometheus_client = _need_prometheus_client()
        self.metrics = {}
        for name, kind, help, labels in METRICS:
            if name not in names:
                continue
            if name not in Metrics._made:
                if kind == "counter":
                    metric = prometheus_client.Counter(name, help, labels)
                elif kind == "gauge":
                    metric = prometheus_client.Gauge(name, help, labels, multiprocess_mode="livesum")
                else:
                    metric = prometheus_client.Histogram(name, help, labels, buckets=DURATION_BUCKETS)
                Metrics._made[name] = metric
            self.metrics[name] = Metrics._made[name]

    @classmethod
    def for_server(cls) -> Metrics:
        return cls([name for name, *_ in METRICS if name not in SUPERVISOR_METRICS])

    @classmethod
    def for_supervisor(cls) -> Metrics:
        return cls(SUPERVISOR_METRICS)

    def flush(self, state) -> None:
        """Adds what the server's Tally counted since the last flush, and sets the gauges. Called by the
        server's ticker, and once more when it stops."""
        from ..asgi.websocket import WebSocketCycle

        tally = state.tally.take()
        m = self.metrics
        for index, count in enumerate(tally.response_counts()):
            if count:
                m["asgicy_http_requests"].labels(f"{index}xx").inc(count)
        buckets = tally.bucket_counts()
        if any(buckets):
            add_observations(m["asgicy_http_request_duration_seconds"], buckets, tally.duration_sum)
        if tally.body_in:
            m["asgicy_http_request_body_bytes"].inc(tally.body_in)
        if tally.bytes_out:
            m["asgicy_http_response_bytes"].inc(tally.bytes_out)
        for reason, count in tally.refusals.items():
            m["asgicy_refusals"].labels(reason).inc(count)
        if tally.websockets:
            m["asgicy_websockets"].inc(tally.websockets)
        if tally.websocket_messages_in:
            m["asgicy_websocket_messages"].labels("in").inc(tally.websocket_messages_in)
        if tally.websocket_messages_out:
            m["asgicy_websocket_messages"].labels("out").inc(tally.websocket_messages_out)
        websocket_cycles = sum(1 for cycle in state.cycles if type(cycle) is WebSocketCycle)
        m["asgicy_http_requests_in_flight"].set(len(state.cycles) - websocket_cycles)
        m["asgicy_connections_open"].set(len(state.connections))
        m["asgicy_websockets_open"].set(state.open_websockets)

    def worker_restarted(self, reason: str) -> None:
        self.metrics["asgicy_worker_restarts"].labels(reason).inc()


def add_observations(histogram, counts: list, total: float) -> None:
    """Many observations at once: ``counts[i]`` of them in bucket i (the last is +Inf), summing to ``total``.
    prometheus_client's Histogram has no call for that, so its per-bucket values are added to as observe()
    adds to them (one bucket per observation, made cumulative when collected); tests/production/
    test_observability.py holds the result equal to observe()'s, in case its insides change."""
    histogram._sum.inc(total)
    for index, count in enumerate(counts):
        if count:
            histogram._buckets[index].inc(count)


class MetricsPortError(Exception):
    """The metrics port could not be opened (the message says why): the server does not start."""


class Endpoint:
    """The metrics port: prometheus_client's HTTP server in a thread of this process."""

    def __init__(self, host: str, port: int, multiprocess: bool) -> None:
        prometheus_client = _need_prometheus_client()
        if multiprocess:
            from prometheus_client import multiprocess as mp

            registry = prometheus_client.CollectorRegistry()
            mp.MultiProcessCollector(registry)
        else:
            registry = prometheus_client.REGISTRY
        try:
            self.server, self.thread = prometheus_client.start_http_server(port, host, registry)
        except OSError as exc:
            raise MetricsPortError(f"could not listen on {host}:{port} for metrics: {exc.strerror or exc}") from None
        self.port = self.server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        logger.info("Metrics on http://%s:%d/metrics", shown, self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MultiprocessDirectory:
    """The directory of prometheus_client's multi-process mode, set in the environment before any worker
    starts (and before prometheus_client is imported here: it reads the variable once, on import). One the
    user set is used as it is (and left in place); otherwise a new temporary one, removed at exit."""

    VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

    def __init__(self) -> None:
        self.path = os.environ.get(self.VARIABLE) or os.environ.get(self.VARIABLE.lower())
        self.own = not self.path
        if self.own:
            self.path = tempfile.mkdtemp(prefix="asgicy-metrics-")
        os.environ[self.VARIABLE] = self.path

    def worker_gone(self, pid: int) -> None:
        """A worker exited: its live gauges stop counting (its counters stay in the sums)."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, self.path)

    def remove(self) -> None:
        if self.own:
            shutil.rmtree(self.path, ignore_errors=True)
            os.environ.pop(self.VARIABLE, None)
