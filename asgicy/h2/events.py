"""The events the sans-I/O HTTP/2 core reports, shared by its implementations: what ``feed`` returns.

Each is a small record; the last event of a ``feed`` may instead be an :class:`~asgicy.h2.errors.H2ProtocolError`
(the connection is over; its GOAWAY is already queued). Equality compares the fields, so the differential tests
can compare two cores' event lists.
"""

from __future__ import annotations


class _Event:
    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # mutable records

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.__slots__)})"


class RequestReceived(_Event):
    """A stream opened with a well-formed request head (RFC 9113 8.3.1). ``method``, ``scheme``, ``authority``,
    ``path`` and ``protocol`` are the pseudo-header fields (``b""`` when absent; ``protocol`` only on an
    extended CONNECT, RFC 8441 4), ``headers`` the other fields in order (cookie fields joined, RFC 9113
    8.2.3), ``content_length`` the announced length or -1, ``end_stream`` True when no body follows."""

    __slots__ = ("stream_id", "method", "scheme", "authority", "path", "protocol", "headers", "content_length",
                 "end_stream")

    def __init__(self, stream_id, method, scheme, authority, path, protocol, headers, content_length, end_stream):
        self.stream_id = stream_id
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.protocol = protocol
        self.headers = headers
        self.content_length = content_length
        self.end_stream = end_stream


class DataReceived(_Event):
    """A piece of a request body. ``flow_length`` is what it cost of the flow-control windows (padding
    included; the padding is acknowledged at once): acknowledge ``len(data)`` once the app has taken it."""

    __slots__ = ("stream_id", "data", "flow_length", "end_stream")

    def __init__(self, stream_id, data, flow_length, end_stream):
        self.stream_id = stream_id
        self.data = data
        self.flow_length = flow_length
        self.end_stream = end_stream


class TrailersReceived(_Event):
    """The trailer section that ends a request (RFC 9113 8.1); the request body is complete."""

    __slots__ = ("stream_id", "headers")

    def __init__(self, stream_id, headers):
        self.stream_id = stream_id
        self.headers = headers


class StreamReset(_Event):
    """A stream the server knew of ended before its exchange did: ``remote`` True when the client sent
    RST_STREAM, False when the core reset it for an error of the client's (``error_code`` says which)."""

    __slots__ = ("stream_id", "error_code", "remote")

    def __init__(self, stream_id, error_code, remote):
        self.stream_id = stream_id
        self.error_code = error_code
        self.remote = remote


class WindowUpdated(_Event):
    """Response data waiting on ``stream_id`` was sent because the client opened a window: what the server
    holds back for that stream may go on."""

    __slots__ = ("stream_id",)

    def __init__(self, stream_id):
        self.stream_id = stream_id


class PingAcknowledged(_Event):
    """The client answered the server's PING with this ``payload`` (a keepalive or a round-trip probe)."""

    __slots__ = ("payload",)

    def __init__(self, payload):
        self.payload = payload


class GoAwayReceived(_Event):
    """The client is closing the connection: it processed streams up to ``last_stream_id`` (RFC 9113 6.8)."""

    __slots__ = ("error_code", "last_stream_id", "debug_data")

    def __init__(self, error_code, last_stream_id, debug_data):
        self.error_code = error_code
        self.last_stream_id = last_stream_id
        self.debug_data = debug_data
