# cython: language_level=3, annotation_typing=False
"""The asyncio side of HTTP/2: one connection's sans-I/O core (``asgicy.h2``) fed by a transport, and one ASGI
``http`` cycle per stream, each carried by an ``H2Stream``.

A connection becomes HTTP/2 in one of three ways (``HTTPProtocol`` hands the transport over): the client's
first bytes are the HTTP/2 preface (h2c with prior knowledge), TLS negotiated ``h2`` by ALPN, or an HTTP/1.1
request asked for ``Upgrade: h2c`` (RFC 7540 3.2; its response goes out on stream 1).

What this layer owns: streams to cycles (a scope per stream, RFC 9113 8.3 pseudo-headers to ASGI), request
bodies fed to the cycle with flow control tied to the app's ``receive`` (window given back only as the app
reads), response data held back per stream while the client's windows are shut (the app's ``send`` waits
past ``STREAM_HIGH_WATER``), resets to ``http.disconnect``, the head and idle timeouts, and graceful
shutdown with GOAWAY. The ASGI rules stay in ``asgicy.asgi.http``; the frames and streams in the core.
"""

from __future__ import annotations

import logging
import os
from time import monotonic

from ..asgi.errors import ClientDisconnected
from ..asgi.events import SEND_TRAILERS
from ..asgi.http import build_scope, new_cycle
from ..asgi.sink import ResponseSink
from ..h2 import H2Connection, H2ProtocolError
from ..h2.events import DataReceived, GoAwayReceived, RequestReceived, StreamReset, TrailersReceived, WindowUpdated
from ..h2.grammar import CANCEL, CONNECTION_SPECIFIC, INTERNAL_ERROR, NO_ERROR, error_name
from ..http.grammar import REQUEST_FIELDS
from ..proxy import forwarded_client
from ..ws.handshake import HandshakeError, read_handshake
from .connection import Connection
from .websocket import WebSocketProtocol

try:  # the compiled cycle reads a request's fields as the compiled parser's C struct members
    from ..http._parser import Request as _Request
except ImportError:  # pragma: no cover - not built: the reference's
    from ..http.reference import Request as _Request

logger = logging.getLogger("asgicy.error")

# Response data a stream may hold while the client's windows are shut before its app's send waits: what one
# stalled stream can make the server buffer (times the streams a connection may have open).
STREAM_HIGH_WATER = 64 * 1024
# A file is read and framed in pieces this large (HTTP/2 cannot use sendfile: DATA frames carry the bytes).
FILE_PIECE = 64 * 1024


def request_head(event: RequestReceived, headers: list, expect_continue: bool):
    """A stream's request as the request head the cycle reads (the HTTP/1.1 parser's Request fields)."""
    path = event.path
    query_at = path.find(b"?")
    values = {
        "method": event.method, "target": path, "path": path if query_at < 0 else path[:query_at],
        "query": b"" if query_at < 0 else path[query_at + 1:], "http_version": "2", "headers": headers,
        "keep_alive": True, "expect_continue": expect_continue, "upgrade": None,
        "content_length": event.content_length,
    }
    request = _Request.__new__(_Request)
    for name in REQUEST_FIELDS:
        setattr(request, name, values[name])
    return request


class H2Stream(ResponseSink):
    """The carrier of one stream's cycle (the sink contract, asgicy.asgi.sink): the response's parts become
    HEADERS and DATA frames through the connection's core."""

    def __init__(self, protocol: H2Protocol, stream_id: int) -> None:
        super().__init__()
        self.protocol = protocol
        self.core = protocol.core
        self.stream_id = stream_id
        self.cycle = None
        self.closing = protocol.closing
        self.drain_waiters: list = []
        self.reset = False  # the stream ended early (either side reset it)
        self.stalled_since = 0.0  # the clock when its data began to wait for the client's window
        self.response_done = False
        self.app_done = False
        self.received = 0  # request body bytes, against --limit-request-body

    # -- the response, in parts -------------------------------------------------------------------------------

    def accepts_trailers(self, cycle) -> bool:
        return True  # HEADERS after DATA end any HTTP/2 response (RFC 9113 8.1), asked for or not

    def send_informational(self, cycle, status: int, fields) -> None:
        if self.reset:
            return
        self.core.send_headers(self.stream_id, status, [(name.lower(), value) for name, value in fields])
        self.protocol.send_frames()

    def send_head(self, cycle, body: bytes, more_body: bool) -> None:
        if self._head(cycle, len(body), more_body, not body):
            self._data(cycle, body, more_body)
        self.protocol.send_frames()

    def send_body(self, cycle, body: bytes, more_body: bool) -> None:
        self._data(cycle, body, more_body)
        self.protocol.send_frames()

    def send_trailers(self, cycle, fields) -> None:
        if not self.reset:
            self.core.send_trailers(self.stream_id, [(name.lower(), value) for name, value in fields])
            self.protocol.send_frames()

    async def send_file_piece(self, cycle, fd: int, offset: int, count: int, more_body: bool, first: bool) -> int:
        """A file's bytes as DATA frames, read a piece at a time with the stream's flow control between."""
        if first and not self._head(cycle, count, more_body, not count):
            self.protocol.send_frames()
            return count
        if not cycle.sends_body:
            self._data(cycle, b"", more_body)
            self.protocol.send_frames()
            return count
        sent = 0
        while sent < count:
            if self.reset or self.protocol.closed:
                raise ClientDisconnected("the client disconnected")
            piece = os.pread(fd, min(count - sent, FILE_PIECE), offset + sent)
            if not piece:
                return sent  # the file ended early: the cycle resets the stream
            sent += len(piece)
            self._data(cycle, piece, more_body or sent < count)
            self.protocol.send_frames()
            if sent < count or more_body:
                await self.drain()
        if not count:
            self._data(cycle, b"", more_body)
            self.protocol.send_frames()
        return sent

    def _head(self, cycle, length: int, more_body: bool, empty: bool) -> bool:
        """Sends the response's HEADERS; True if DATA (or the end of the stream) is still to come."""
        if self.reset:
            return False
        fields = self.protocol.default_fields(cycle.has_date, cycle.has_server)
        for name, value in cycle.response_fields:
            name = name.lower()
            if name not in CONNECTION_SPECIFIC:  # meaningless in HTTP/2, and malformed (RFC 9113 8.2.2)
                fields.append((name, value))
        if not cycle.no_body:
            if cycle.content_length >= 0:
                fields.append((b"content-length", b"%d" % cycle.content_length))
            elif not more_body:
                cycle.content_length = length
                fields.append((b"content-length", b"%d" % length))
        ends = not more_body and cycle.trailers != SEND_TRAILERS and (empty or not cycle.sends_body)
        self.core.send_headers(self.stream_id, cycle.status, fields, ends)
        return not ends

    def _data(self, cycle, body: bytes, more_body: bool) -> None:
        if self.reset:
            return
        end = not more_body and cycle.trailers != SEND_TRAILERS
        if not cycle.sends_body:
            body = b""
        if body or end:
            cycle.response_size += len(body)
            self.core.send_data(self.stream_id, body, end)
        self.write_paused = self.protocol.write_paused or self.core.pending(self.stream_id) > STREAM_HIGH_WATER

    # -- flow control -------------------------------------------------------------------------------------------

    async def drain(self) -> None:
        protocol = self.protocol
        protocol.flush_batch()
        while self.write_paused and not self.reset and not protocol.closed:
            waiter = protocol.loop.create_future()
            self.drain_waiters.append(waiter)
            await waiter

    def window_changed(self) -> None:
        """The client opened a window, or the transport can take more: the app may go on if it waits."""
        self.stalled_since = 0.0
        self.write_paused = self.protocol.write_paused or self.core.pending(self.stream_id) > STREAM_HIGH_WATER
        if not self.write_paused:
            self.wake()

    def wake(self) -> None:
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- files (as on an HTTP/1.1 connection) ------------------------------------------------------------------

    def open_file(self, path: str) -> int:
        return self.protocol.open_file(path)

    def close_file(self, fd: int) -> None:
        self.protocol.close_file(fd)

    def file_size(self, fd: int) -> int:
        return self.protocol.file_size(fd)

    def file_position(self, fd: int) -> int:
        return self.protocol.file_position(fd)

    def move_file_position(self, fd: int, position: int) -> None:
        self.protocol.move_file_position(fd, position)

    # -- what the cycle tells its carrier ----------------------------------------------------------------------

    def create_future(self):
        return self.protocol.loop.create_future()

    def body_consumed(self, size: int) -> None:
        self.core.acknowledge(self.stream_id, size)
        self.protocol.send_frames()

    def response_complete(self, cycle) -> None:
        protocol = self.protocol
        state = protocol.server_state
        state.requests += 1
        if protocol.observe:
            state.response_done(protocol, cycle)
        self.response_done = True
        if not cycle.body_complete and not self.reset:
            # RFC 9113 8.1: answered before the request ended; the client may stop sending it.
            self.core.reset_stream(self.stream_id, NO_ERROR)
            self.reset = True
        freed = cycle.release_body()  # body the app never read gives its window back
        if freed:
            self.core.acknowledge(self.stream_id, freed)
        protocol.send_frames()
        protocol.stream_may_end(self)

    def abort_response(self, cycle) -> None:
        """The app failed mid-response: the stream is reset, so the client sees it incomplete."""
        if not self.reset:
            self.core.reset_stream(self.stream_id, INTERNAL_ERROR)
            self.reset = True
            self.protocol.send_frames()

    def app_finished(self, cycle) -> None:
        self.app_done = True
        self.protocol.server_state.cycles.discard(cycle)
        self.protocol.stream_may_end(self)


class StreamTransport:
    """One HTTP/2 stream as the transport of a WebSocket (RFC 8441): what the WebSocket protocol writes goes
    out as DATA on the stream, its close ends the stream, and its reading pauses hold the stream's window."""

    def __init__(self, h2: H2Protocol, stream_id: int) -> None:
        self.h2 = h2
        self.core = h2.core
        self.stream_id = stream_id
        self.protocol = None  # the H2WebSocket
        self.closed = False
        self.lost = False
        self.reading_paused = False
        self.held = 0  # bytes received while reading was paused: their window is given back on resume

    def set_protocol(self, protocol) -> None:
        self.protocol = protocol

    def get_extra_info(self, name: str, default=None):
        return self.h2.transport.get_extra_info(name, default)

    def write(self, data: bytes) -> None:
        if self.closed or self.lost:
            return
        self.core.send_data(self.stream_id, bytes(data))
        self.h2.send_frames()
        if self.core.pending(self.stream_id) > STREAM_HIGH_WATER and not self.protocol.write_paused:
            self.protocol.pause_writing()

    def writelines(self, pieces) -> None:
        self.write(b"".join(pieces))

    def window_changed(self) -> None:
        if self.protocol.write_paused and self.core.pending(self.stream_id) <= STREAM_HIGH_WATER // 4:
            self.protocol.resume_writing()

    def pause_reading(self) -> None:
        self.reading_paused = True

    def resume_reading(self) -> None:
        self.reading_paused = False
        held, self.held = self.held, 0
        if held:
            self.core.acknowledge(self.stream_id, held)
            self.h2.send_frames()

    def received(self, size: int) -> None:
        """``size`` bytes of the stream were handed to the WebSocket: window back now, or on resume."""
        if self.reading_paused:
            self.held += size
        else:
            self.core.acknowledge(self.stream_id, size)

    def close(self) -> None:
        """The WebSocket is done: END_STREAM (after its close frame), then connection_lost, as asyncio does."""
        if not self.closed:
            self.closed = True
            self.core.send_data(self.stream_id, b"", True)
            self.h2.send_frames()
            self.h2.loop.call_soon(self.connection_lost)

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            self.core.reset_stream(self.stream_id, CANCEL)
            self.h2.send_frames()
        self.h2.loop.call_soon(self.connection_lost)

    def is_closing(self) -> bool:
        return self.closed or self.lost

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return self.core.pending(self.stream_id)

    def get_write_buffer_limits(self) -> tuple:
        return (0, STREAM_HIGH_WATER)

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass

    def ended(self) -> None:
        """The client reset the stream, or the connection is gone: nothing more can be sent on it."""
        self.closed = True
        self.connection_lost()

    def connection_lost(self) -> None:
        """The stream ended (closed by us, reset or ended by the client, or the connection is gone)."""
        if not self.lost:
            self.lost = True
            self.protocol.connection_lost(None)
            self.h2.websocket_ended(self.stream_id)


class H2WebSocket(WebSocketProtocol):
    """A WebSocket on one HTTP/2 stream (RFC 8441): the same protocol as after an HTTP/1.1 upgrade, over a
    StreamTransport. The handshake's answer is a 200 HEADERS frame, and an HTTP response in its place (a
    denial, 403, 500) is framed by the stream's H2Stream, as any response on the connection."""

    def __init__(self, h2: H2Protocol, stream: H2Stream, request, handshake, client, scheme) -> None:
        transport = StreamTransport(h2, stream.stream_id)
        super().__init__(h2.server_state, transport, request, handshake, client, h2.server, scheme, h2.tls)
        transport.set_protocol(self)
        self.stream = stream
        stream.cycle = self.cycle

    def send_accept(self, subprotocol, fields: list, has_date: bool, has_server: bool) -> None:
        headers = self.stream.protocol.default_fields(has_date, has_server)
        if subprotocol is not None:
            headers.append((b"sec-websocket-protocol", subprotocol.encode("ascii")))
        if self.handshake.deflate is not None:
            headers.append((b"sec-websocket-extensions", self.handshake.deflate.response_header()))
        headers += [(name.lower(), value) for name, value in fields if name.lower() not in CONNECTION_SPECIFIC]
        self.stream.core.send_headers(self.stream.stream_id, 200, headers)  # RFC 8441 5: 2xx accepts
        self.stream.protocol.send_frames()

    # An HTTP response in place of the WebSocket: the stream frames it.
    def accepts_trailers(self, cycle) -> bool:
        return False

    def send_informational(self, cycle, status: int, fields) -> None:
        self.stream.send_informational(cycle, status, fields)

    def send_head(self, cycle, body: bytes, more_body: bool) -> None:
        self.stream.send_head(cycle, body, more_body)

    def send_body(self, cycle, body: bytes, more_body: bool) -> None:
        self.stream.send_body(cycle, body, more_body)

    def send_trailers(self, cycle, fields) -> None:
        self.stream.send_trailers(cycle, fields)

    async def send_file_piece(self, cycle, fd: int, offset: int, count: int, more_body: bool, first: bool) -> int:
        return await self.stream.send_file_piece(cycle, fd, offset, count, more_body, first)


class H2Protocol(Connection):
    """One HTTP/2 connection: the core between the transport and the streams' cycles."""

    def __init__(self, http) -> None:
        super().__init__(http.server_state)
        config = self.config
        window = config.h2_initial_window_size
        self.core = H2Connection(
            max_concurrent_streams=config.h2_max_concurrent_streams, initial_window_size=window,
            connection_window_size=min(2**31 - 1, max(1 << 20, 8 * window)), max_frame_size=config.h2_max_frame_size,
            max_header_list_size=config.limit_request_header_size, enable_connect_protocol=config.ws != "none")
        self.transport = http.transport
        self.writev = http.writev
        self.client = http.client
        self.server = http.server
        self.scheme = http.scheme
        self.tls = http.tls
        self.proxy_trusted = http.proxy_trusted
        self.reading_paused = http.reading_paused
        self.app = self.server_state.app
        self.runner = self.server_state.runner
        self.observe = self.server_state.observe_responses  # report complete responses (access log, metrics)
        self.time_requests = self.server_state.time_requests
        self.streams: dict = {}  # stream id -> H2Stream, while its response or its app runs
        self.websockets: dict = {}  # stream id -> H2WebSocket (RFC 8441), until its stream ends
        self.head_deadline = 0.0
        self.idle_deadline = 0.0
        self.goaway_received = False
        self._date_line = None
        self._date_field: list = []
        self._server_field = [(b"server", b"asgicy")] if self.server_state.server_header else []

    def start(self, data: bytes = b"", upgrade=None) -> None:
        """Takes over the transport: the server's preface, then ``data`` (what the client sent already).
        ``upgrade`` is (the HTTP/1.1 request, its cycle's scope pieces, HTTP2-Settings) for ``Upgrade: h2c``."""
        self.server_state.connections.add(self)
        self.head_deadline = self.loop.time() + self.config.timeout_header_read
        self.collecting = True
        try:
            if upgrade is None:
                self.core.initiate()
            else:
                request, settings = upgrade
                try:
                    self.core.initiate_upgrade(settings)
                except H2ProtocolError as exc:
                    logger.info("invalid HTTP2-Settings from %s: %s", self._peer(), exc)
                    self._fail()
                    return
                self._run_stream(1, request, request.headers)
            self.send_frames()
            if data:
                self._process(self.core.feed(data))
                self.send_frames()
        finally:
            self.end_collecting()
        self._after_read()

    # -- asyncio.Protocol ------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self.collecting = True
        try:
            self._process(self.core.feed(data))
            self.send_frames()
        except Exception:  # a bug of ours, not the client's: this connection ends, the server goes on
            logger.exception("HTTP/2 connection from %s failed", self._peer())
            self.core.close(INTERNAL_ERROR)
            self._fail()
        finally:
            self.end_collecting()
        self._after_read()

    def eof_received(self):
        return False

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.server_state.connections.discard(self)
        self._end_every_stream()
        self._wake_drain_waiters()

    def pause_writing(self) -> None:
        self.write_paused = True
        for stream in self.streams.values():
            stream.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain_waiters()
        for stream in list(self.streams.values()):
            stream.window_changed()

    # -- frames in ---------------------------------------------------------------------------------------------

    def _process(self, events: list) -> None:
        streams = self.streams
        for event in events:
            kind = type(event)
            if kind is DataReceived:
                self._on_data(event)
            elif kind is RequestReceived:
                self._on_request(event)
            elif kind is WindowUpdated:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.window_changed()
                elif event.stream_id in self.websockets:
                    self.websockets[event.stream_id].transport.window_changed()
            elif kind is TrailersReceived:
                stream = streams.get(event.stream_id)
                if stream is not None and stream.cycle is not None:
                    stream.cycle.end_body()  # (ASGI has no request trailers: the body is complete)
            elif kind is StreamReset and event.stream_id in self.websockets:
                self.websockets[event.stream_id].transport.ended()
            elif kind is StreamReset:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.reset = True
                    if stream.cycle is not None:
                        stream.cycle.disconnect()
                        freed = stream.cycle.release_body()
                        if freed:
                            self.core.acknowledge(event.stream_id, freed)
                    stream.wake()
                    self.stream_may_end(stream)
            elif kind is GoAwayReceived:
                self.goaway_received = True
                if event.error_code != NO_ERROR:
                    logger.info("%s closed its HTTP/2 connection: %s %r", self._peer(), error_name(event.error_code),
                                event.debug_data[:100])
            elif isinstance(event, H2ProtocolError):
                logger.info("HTTP/2 protocol error from %s: %s", self._peer(), event)
                self._fail()
                return

    def _on_request(self, event: RequestReceived) -> None:
        config = self.config
        stream_id = event.stream_id
        headers = event.headers
        if event.authority:
            # ASGI (www.rst): :authority becomes the host header, first, replacing any host.
            headers = [(b"host", event.authority)] + [pair for pair in headers if pair[0] != b"host"]
        if len(headers) > config.limit_request_headers:
            return self._refuse(stream_id, 431, "more header fields than the limit")
        if event.method == b"CONNECT":
            if event.protocol == b"websocket":
                return self._start_websocket(event, headers)
            return self._refuse(stream_id, 501, "CONNECT is not supported" if not event.protocol
                                else f"no protocol {event.protocol.decode('ascii')!r} here (RFC 8441 4)")
        expect_continue = False
        for name, value in headers:
            if name == b"expect":
                if value.lower() != b"100-continue":
                    return self._refuse(stream_id, 417, "unsupported expectation (RFC 9110 section 10.1.1)")
                expect_continue = not event.end_stream
        limit = config.limit_request_body
        if limit is not None and event.content_length > limit:
            return self._refuse(stream_id, 413, "request body is larger than the limit")
        self._run_stream(stream_id, request_head(event, headers, expect_continue), headers, event.scheme,
                         event.end_stream)

    def _run_stream(self, stream_id: int, request, headers: list, pseudo_scheme: bytes = b"", end_stream: bool = True):
        state = self.server_state
        client = self.client
        scheme = pseudo_scheme.decode("ascii") if pseudo_scheme else self.scheme
        if self.proxy_trusted:
            client, scheme = forwarded_client(headers, client, scheme, state.trusted)
        scope = build_scope(request, client, self.server, self.config.root_path, scheme, state.lifespan_state)
        if self.tls is not None:
            scope["extensions"]["tls"] = self.tls
        stream = H2Stream(self, stream_id)
        cycle = new_cycle(scope, request, stream)
        stream.cycle = cycle
        if state.request_ids:
            cycle.echo_field = state.echo_field(state.assign_request_id(scope, headers, self.proxy_trusted))
        if self.time_requests:
            cycle.started = monotonic()
        self.streams[stream_id] = stream
        if end_stream:
            cycle.end_body()
        if state.draining and state.answers_readiness(scope["path"]):
            stream.app_done = True
            cycle.respond_plain(503, b"Service Unavailable: the server is shutting down\n")
            return
        limit = self.config.limit_concurrency
        if limit is not None and len(state.cycles) >= limit:
            stream.app_done = True
            state.refused(503)
            cycle.respond_plain(503, b"Service Unavailable: the server is at its concurrency limit\n")
            return
        state.cycles.add(cycle)
        self.runner.run(self.app, cycle)

    def _start_websocket(self, event: RequestReceived, headers: list) -> None:
        """An extended CONNECT for a WebSocket (RFC 8441 4, 5): its handshake checked, then the WebSocket
        protocol runs on the stream, with the same cycle as after an HTTP/1.1 upgrade."""
        request = request_head(event, headers, False)
        try:
            handshake = read_handshake(request, self.config.ws_per_message_deflate, extended_connect=True)
        except HandshakeError as exc:
            return self._refuse(event.stream_id, exc.status, exc.message)
        client, scheme = self.client, event.scheme.decode("ascii")
        if self.proxy_trusted:
            client, scheme = forwarded_client(headers, client, scheme, self.server_state.trusted)
        ws = H2WebSocket(self, H2Stream(self, event.stream_id), request, handshake, client, scheme)
        self.websockets[event.stream_id] = ws
        ws.start()

    def websocket_ended(self, stream_id: int) -> None:
        self.websockets.pop(stream_id, None)
        if not self.streams and not self.websockets and (self.closing or self.goaway_received):
            self._finish()

    def _on_data(self, event: DataReceived) -> None:
        ws = self.websockets.get(event.stream_id)
        if ws is not None:
            ws.transport.received(len(event.data))
            if event.data:
                ws.data_received(event.data)
            if event.end_stream:
                ws.transport.close()  # the client is done: so are we (RFC 8441 5: the stream is the TCP)
            return
        stream = self.streams.get(event.stream_id)
        data = event.data
        kept = 0
        if stream is not None and stream.cycle is not None and not stream.reset:
            stream.received += len(data)
            limit = self.config.limit_request_body
            if limit is not None and stream.received > limit:
                cycle = stream.cycle
                logger.info("request body from %s is larger than the limit", self._peer())
                self.server_state.refused(413)
                if not cycle.response_begun:
                    cycle.respond_plain(413, b"Request Entity Too Large: request body is larger than the limit\n")
                cycle.disconnect()
                if not stream.reset:
                    self.core.reset_stream(event.stream_id, NO_ERROR if stream.response_done else INTERNAL_ERROR)
                    stream.reset = True
            elif data:
                kept = stream.cycle.feed_body(data)
            if event.end_stream and not stream.reset:
                stream.cycle.end_body()
        if len(data) > kept:
            self.core.acknowledge(event.stream_id, len(data) - kept)  # dropped, not buffered: window back now

    def _refuse(self, stream_id: int, status: int, message: str) -> None:
        """Answers a request the app never sees (as the HTTP/1.1 parser's errors are answered)."""
        body = f"{message}\n".encode()
        logger.info("invalid request from %s: %s (answered %d)", self._peer(), message, status)
        self.server_state.refused(status)
        self.core.send_headers(stream_id, status, [(b"content-type", b"text/plain; charset=utf-8"),
                                                   (b"content-length", b"%d" % len(body))])
        self.core.send_data(stream_id, body, True)
        self.core.reset_stream(stream_id, NO_ERROR)  # whatever body follows is not wanted

    # -- frames out ---------------------------------------------------------------------------------------------

    def send_frames(self) -> None:
        """Hands what the core queued to the connection's batch, written at the end of the loop's turn: the
        frames of every stream whose app sent in that turn (apps resumed in tasks too, and the WINDOW_UPDATEs
        their reads give back) go out in one write, not one each. Large DATA payloads are pieces of their
        own, the app's bytes as they are, which the batch writes with writev(2) instead of copying."""
        pieces = self.core.pieces_to_send()
        if pieces and not self.closed:
            collecting = self.collecting
            self.collecting = True
            for piece in pieces:
                self.write(piece)
            if not collecting:
                self.end_collecting()

    def default_fields(self, has_date: bool, has_server: bool) -> list:
        """The date and server fields the app's response lacks, as a new list of (name, value)."""
        fields = []
        if not has_date:
            line = self.server_state.date_header
            if line is not self._date_line:
                self._date_line = line
                self._date_field = [(b"date", line[6:-2])] if line else []
            fields += self._date_field
        if not has_server:
            fields += self._server_field
        return fields

    # -- the connection's life ---------------------------------------------------------------------------------

    def stream_may_end(self, stream: H2Stream) -> None:
        """A stream is forgotten once its response is over (sent or reset) and its app has returned."""
        if (stream.response_done or stream.reset) and stream.app_done:
            if self.streams.get(stream.stream_id) is stream:
                del self.streams[stream.stream_id]
            if not self.streams and not self.websockets:
                if self.closing or self.goaway_received:
                    self._finish()
                else:
                    self.idle_deadline = self.server_state.clock + self.config.timeout_keep_alive + 0.5

    def _after_read(self) -> None:
        if self.closed:
            return
        if self.core.in_head:
            if not self.head_deadline:
                self.head_deadline = self.loop.time() + self.config.timeout_header_read
        else:
            self.head_deadline = 0.0
        if self.streams or self.websockets:
            self.idle_deadline = 0.0
        elif not self.idle_deadline:
            self.idle_deadline = self.server_state.clock + self.config.timeout_keep_alive + 0.5
        if self.goaway_received and not self.streams and not self.websockets:
            self._finish()

    def _fail(self) -> None:
        """A connection error: the core queued its GOAWAY; every stream ends with the connection."""
        self.send_frames()
        self._end_every_stream()
        self._close()

    def _end_every_stream(self) -> None:
        """The connection is gone: every app still running hears http.disconnect (or websocket.disconnect)."""
        for ws in list(self.websockets.values()):
            ws.transport.ended()
        for stream in list(self.streams.values()):
            stream.reset = True
            if stream.cycle is not None:
                stream.cycle.disconnect()
            stream.wake()

    def _finish(self) -> None:
        """Every stream is done and no new one will come: GOAWAY (if not sent yet), then close."""
        self.core.close(NO_ERROR)
        self.send_frames()
        self._close()

    def check_timeouts(self, now: float) -> None:
        if self.closed:
            return
        if self.send_stalled(now):
            logger.info("%s read nothing of its HTTP/2 responses for %ss: closed", self._peer(),
                        self.config.timeout_send)
            self._fail()
            return
        timeout = self.config.timeout_send
        if timeout:
            for stream in list(self.streams.values()):
                if stream.reset or not self.core.pending(stream.stream_id):
                    stream.stalled_since = 0.0
                elif not stream.stalled_since:
                    stream.stalled_since = now
                elif now - stream.stalled_since >= timeout:
                    # A zero-window stall: the client keeps the stream open and never lets its data through.
                    logger.info("%s opened no window on stream %d for %ss: reset", self._peer(), stream.stream_id,
                                timeout)
                    self.core.reset_stream(stream.stream_id, CANCEL)
                    stream.reset = True
                    if stream.cycle is not None:
                        stream.cycle.disconnect()
                    stream.wake()
                    self.send_frames()
                    self.stream_may_end(stream)
        if self.head_deadline and now >= self.head_deadline:
            # A preface or header block still incomplete after --timeout-header-read: the slowloris of HTTP/2.
            logger.info("HTTP/2 preface or header block from %s took longer than %ss", self._peer(),
                        self.config.timeout_header_read)
            self._fail()
        elif self.idle_deadline and now >= self.idle_deadline and not self.streams and not self.websockets:
            self._finish()
        else:
            for ws in list(self.websockets.values()):
                ws.check_timeouts(now)

    def start_draining(self) -> None:
        """--shutdown-delay begins: GOAWAY now (RFC 9113 6.8), so the client opens its next streams on a new
        connection, which a load balancer may already send elsewhere. Streams and WebSockets in progress go
        on; the connection closes once they are done."""
        if self.closed or self.closing:
            return
        self.closing = True
        for stream in self.streams.values():
            stream.closing = True
        self.core.close(NO_ERROR)
        self.send_frames()
        if not self.streams and not self.websockets:
            self._close()

    def shutdown(self) -> None:
        """Graceful shutdown: GOAWAY with the last stream processed; the streams in progress finish."""
        self.closing = True
        for stream in self.streams.values():
            stream.closing = True
        if self.closed:
            return
        self.core.close(NO_ERROR)
        self.send_frames()
        for ws in list(self.websockets.values()):
            ws.shutdown()  # close 1012; the stream ends with the closing handshake
        if not self.streams and not self.websockets:
            self._close()
