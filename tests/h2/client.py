"""A blocking HTTP/2 client for the tests, on the python-hyper ``h2`` library: one connection, raw control of
frames (windows, resets, settings) where a test needs it."""

from __future__ import annotations

import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.settings


class Response:
    def __init__(self) -> None:
        self.informational: list = []  # header lists of 1xx responses
        self.headers: list | None = None
        self.body = bytearray()
        self.trailers: list | None = None
        self.ended = False
        self.reset: int | None = None  # RST_STREAM error code

    @property
    def status(self) -> int:
        return int(dict(self.headers)[b":status"])

    def header(self, name: bytes):
        return dict(self.headers).get(name)


class Client:
    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None, settings: dict | None = None,
                 preface: bool = True, auto_window: bool = True) -> None:
        sock = socket.create_connection((host, port), timeout=10)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        if settings:
            self.conn.local_settings = h2.settings.Settings(client=True, initial_values=settings)
        self.auto_window = auto_window
        self.responses: dict = {}
        self.events: list = []
        self.closed = False
        if preface:
            self.conn.initiate_connection()
            self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path: str = "/", method: str = "GET", headers=(), body: bytes | None = None,
                end: bool = True, authority: str = "example.com") -> int:
        stream_id = self.conn.get_next_available_stream_id()
        fields = [(b":method", method.encode()), (b":scheme", b"http"), (b":authority", authority.encode()),
                  (b":path", path.encode()), *headers]
        self.conn.send_headers(stream_id, fields, end_stream=end and body is None)
        self.responses[stream_id] = Response()
        if body is not None:
            self.send_body(stream_id, body, end)
        self.flush()
        return stream_id

    def send_body(self, stream_id: int, body: bytes, end: bool = True) -> None:
        """Sends ``body`` as the windows allow, reading the server's WINDOW_UPDATEs as it goes."""
        while body:
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.read_once()
                continue
            self.conn.send_data(stream_id, body[:window])
            body = body[window:]
            self.flush()
        if end:
            self.conn.end_stream(stream_id)
            self.flush()

    def read_once(self, timeout: float = 10.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self.events.append(event)
            response = self.responses.get(getattr(event, "stream_id", None))
            if isinstance(event, h2.events.InformationalResponseReceived):
                response.informational.append(event.headers)
            elif isinstance(event, h2.events.ResponseReceived):
                response.headers = event.headers
            elif isinstance(event, h2.events.DataReceived):
                response.body += event.data
                if self.auto_window:
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                response.trailers = event.headers
            elif isinstance(event, h2.events.StreamEnded):
                response.ended = True
            elif isinstance(event, h2.events.StreamReset):
                if response is not None:
                    response.reset = event.error_code
        self.flush()
        return True

    def wait(self, *stream_ids: int, timeout: float = 10.0) -> list:
        """Reads until every stream ended or was reset; returns their responses."""
        deadline = time.monotonic() + timeout
        while not all(self.responses[s].ended or self.responses[s].reset is not None for s in stream_ids):
            if time.monotonic() > deadline or self.closed:
                raise AssertionError(f"streams {stream_ids} did not end; events: {self.events[-10:]}")
            self.read_once(max(0.05, deadline - time.monotonic()))
        return [self.responses[s] for s in stream_ids]

    def get(self, path: str = "/", **options) -> Response:
        return self.wait(self.request(path, **options))[0]

    def goaway(self, timeout: float = 10.0):
        """Reads until the server's GOAWAY (or the close); returns the GOAWAY event or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            for event in self.events:
                if isinstance(event, h2.events.ConnectionTerminated):
                    return event
            self.read_once(max(0.05, deadline - time.monotonic()))
        return next((e for e in self.events if isinstance(e, h2.events.ConnectionTerminated)), None)

    def close(self) -> None:
        self.sock.close()
