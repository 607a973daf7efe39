# cython: language_level=3, annotation_typing=False
"""The asyncio protocol for one HTTP/1.1 connection: bytes in to the parser, events to ASGI cycles,
bytes out to the transport.

It owns what only a connection knows: pipelining (cycles run one after another, responses in order),
flow control both ways (pause reading while unread body or queued requests pile up; ``send`` waits
while the transport's buffer is full), keep-alive, the head and keep-alive timeouts (checked by the
server's ticker, so no timer is made per request), protocol errors (answered with the parser's status
hint, then the connection is closed) and graceful shutdown.

Where a connection is in its life (idle, reading a head or a body, responding, discarding a body,
answering an error, lingering, upgraded, closed) is kept in a few fields; ``states.py`` names those
states and tables the events that move a connection between them. The ASGI rules live in
``asgicy.asgi.http``.
"""

from __future__ import annotations

import base64
import logging
from collections import deque
from http import HTTPStatus
from time import monotonic

from ..asgi.http import HTTPCycle, build_scope, new_cycle
from ..http.grammar import REQUEST_FIELDS
from ..http import EndOfMessage, HTTPParser, HTTPProtocolError, Request
from ..proxy import ProxyProtocolError, ProxyProtocolParser, forwarded_client
from ..ws.handshake import HandshakeError, is_websocket_upgrade, read_handshake
from .connection import TICK, Connection, writelines_pauses
from .h2 import H2Protocol
from .websocket import WebSocketProtocol

try:  # compiled by Cython (setup.py), the cycle reads a request's fields as C struct members
    import cython
    COMPILED = cython.compiled
except ImportError:  # pragma: no cover - running from source without Cython installed
    COMPILED = False
if COMPILED:
    from ..http._parser import Request as CompiledRequest
else:  # the cycle takes any parser's Request as it is
    CompiledRequest = Request

logger = logging.getLogger("asgicy.error")

# Flow control: stop reading from a client while this much request body waits unread by the app, or
# this many pipelined requests wait for their turn.
BODY_HIGH_WATER = 256 * 1024
# How long a connection closed with a body still arriving stays half-closed, reading and dropping it, so
# that the client can read the response before the close (see HTTPProtocol._linger). nginx waits 5 s too.
LINGER = 5.0
MAX_PIPELINED = 32


def _client_address(transport) -> list | None:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, (tuple, list)) and len(peer) >= 2:
        return [str(peer[0]), int(peer[1])]
    return None  # a unix socket has no client address (ASGI: client is None)


def _server_address(transport) -> list | None:
    sock = transport.get_extra_info("sockname")
    if isinstance(sock, (tuple, list)) and len(sock) >= 2:
        return [str(sock[0]), int(sock[1])]
    if isinstance(sock, str) and sock:
        return [sock, None]  # ASGI: a unix socket's server is [path, None]
    return None


def _names_proxy_headers(headers: list) -> bool:
    """Whether any of the headers is one ``forwarded_client`` reads: most requests, even from a trusted
    proxy, have none, and this scan (compiled) costs less than that function's."""
    for field in headers:
        name = field[0]
        if name == b"x-forwarded-for" or name == b"x-forwarded-proto" or name == b"forwarded":
            return True
    return False


def _as_compiled_request(request):
    """The reference parser's Request (ASGICY_PURE_PYTHON=1) as the compiled parser's, whose fields the
    compiled cycle and scope builder read as struct members: the same fields, copied."""
    compiled = CompiledRequest()
    for name in REQUEST_FIELDS:
        setattr(compiled, name, getattr(request, name))
    return compiled


def _h2c_settings(parsed):
    """The decoded HTTP2-Settings of an ``Upgrade: h2c`` request (RFC 7540 3.2, 3.2.1), or None when the request
    does not ask for h2c properly: exactly one HTTP2-Settings field, named in Connection, base64url without
    padding; and no body (the upgrade would have to wait for all of it)."""
    if b"h2c" not in [part.strip() for part in parsed.upgrade.split(b",")] or parsed.content_length != 0:
        return None
    values = [value for name, value in parsed.headers if name == b"http2-settings"]
    connection = b",".join(value for name, value in parsed.headers if name == b"connection").lower()
    if len(values) != 1 or b"http2-settings" not in [part.strip() for part in connection.split(b",")]:
        return None
    try:
        settings = base64.urlsafe_b64decode(values[0] + b"=" * (-len(values[0]) % 4))
    except ValueError:
        return None
    return settings if len(settings) % 6 == 0 else None


def error_response(status: int, detail: str, extra_fields: bytes = b"") -> bytes:
    phrase = HTTPStatus(status).phrase
    body = f"{phrase}: {detail}\n".encode()
    return (f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n").encode("latin-1") + extra_fields + b"\r\n" + body


class WebSocketUpgrade:
    """A WebSocket upgrade request waiting for its turn in the pipeline. It has no body."""

    __slots__ = ("request", "client", "scheme")
    body_complete = True

    def __init__(self, request, client, scheme) -> None:
        self.request = request
        self.client = client  # after proxy headers
        self.scheme = scheme

    def end_body(self) -> None:
        pass

    def disconnect(self) -> None:
        pass


class HTTPProtocol(Connection):

    def __init__(self, state) -> None:
        super().__init__(state)
        config = self.config
        self.app = state.app
        # What every request reads, fetched once per connection rather than through state and config.
        self.runner = state.runner
        self.cycles = state.cycles
        self.root_path = config.root_path
        self.limit_concurrency = config.limit_concurrency
        self.ws_enabled = config.ws != "none"
        # The keep-alive deadline is set from the clock of the last tick, which may be up to a tick old:
        # one tick more, so a connection is never closed before its keep-alive timeout.
        self.idle_allowance = config.timeout_keep_alive + TICK
        self.observe = state.observe_responses  # report complete responses (access log, metrics)
        self.time_requests = state.time_requests
        self.parser = HTTPParser(config.limit_request_line, config.limit_request_header_size,
                                 config.limit_request_headers, config.limit_request_body)
        self.parse = self.parser.feed  # (the bound method, looked up once: called on every read)
        self.current: HTTPCycle | None = None  # the cycle whose response is being produced
        self.parsing: HTTPCycle | None = None  # the cycle the parser is reading a body for
        self.pipeline: deque = deque()  # cycles parsed, waiting for their turn
        self.ready: HTTPCycle | None = None  # parsed in this read; starts once this read's body is fed to it
        self.pending_error: HTTPProtocolError | None = None
        self.buffered_body = 0
        self.head_deadline = 0.0
        self.idle_deadline = 0.0
        self.discarding = False  # reading the rest of a body whose response is complete
        self.lingering = False  # half-closed after a response, dropping what the client still sends
        self.upgraded = False  # handed to a WebSocketProtocol
        self.start_when_writable = False  # a pipelined request waits for the client to read
        self.proxy_trusted = False  # the peer is a proxy whose headers are believed
        self.h2c = config.http != "1"  # HTTP/2 over cleartext may be asked for (prior knowledge or Upgrade)
        self.h2_only = config.http == "2"  # every connection is HTTP/2 (one that is not fails at its preface)
        # Slow-body detection without a clock read per packet: data_received counts, the ticker compares.
        self.reads = 0
        self.read_time = 0.0  # the clock when the read being handled arrived, once a request needed it
        self.reads_at_tick = 0
        self.body_deadline = 0.0

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.writev = writelines_pauses(transport)
        self.client = _client_address(transport)
        self.server = _server_address(transport)
        state = self.server_state
        state.connections.add(self)
        if state.draining:
            self.closing = True  # --shutdown-delay: every response now ends its connection
        self.head_deadline = self.loop.time() + self.config.timeout_header_read
        if state.tls_info is not None:
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                self.scheme = "https"
                self.tls = state.tls_info.extension(ssl_object)
        self.proxy_trusted = self.config.proxy_headers and (self.client[0] if self.client else None) in state.trusted
        if self.scheme == "https" and transport.get_extra_info("ssl_object").selected_alpn_protocol() == "h2":
            self._switch_to_h2(b"")  # RFC 9113 3.2: TLS chose h2; the client's preface comes next

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # the rest of a body nobody reads, after the response and our half-close (_linger)
        self.reads += 1
        if self.reads == 1 and (data[:3] == b"PRI" and self.h2c or self.h2_only):
            # RFC 9113 3.3: HTTP/2 with prior knowledge. The preface's method, PRI, is reserved for this
            # (RFC 9113 3.4), so no HTTP/1.1 request starts this way: the core checks the rest of it.
            self._switch_to_h2(data)
            return
        if self.idle_deadline and not self.discarding:
            self.idle_deadline = 0.0
        # Apps run eagerly in here (eager.py); what they write goes out in one piece, at the end of the
        # loop's turn with the other connections' (ServerState.flush_held).
        self.collecting = True
        try:
            self._process(self.parse(data))
        finally:
            self.read_time = 0.0
            self.end_collecting()

    def _process(self, events: list) -> None:
        for event in events:
            if type(event) is bytes:
                self.buffered_body += self.parsing.feed_body(event)
            elif type(event) is Request:
                if self.ready is not None:
                    self._launch()
                self._on_request(event if type(event) is CompiledRequest else _as_compiled_request(event))
            elif type(event) is EndOfMessage:
                if type(self.parsing) is HTTPCycle:  # (a WebSocket upgrade has no body to end)
                    self._end_body(self.parsing)
                self.discarding = False
                if self.ready is not None:
                    self._launch()
            else:
                self._on_protocol_error(event)
                if self.ready is not None:
                    # Its body broke before it started: it starts knowing that (receive says disconnect,
                    # send raises), and the error status is answered when its app is done.
                    self._launch()
                return
        if self.ready is not None:
            self._launch()
        if self.buffered_body > BODY_HIGH_WATER or len(self.pipeline) >= MAX_PIPELINED:
            self._pause_reading()
        if not self.head_deadline and self.parser.in_head:
            self.head_deadline = self.loop.time() + self.config.timeout_header_read

    def _end_body(self, cycle: HTTPCycle) -> None:
        """The request's body is all here: its cycle tells the app (the last http.request)."""
        cycle.end_body()

    def eof_received(self):
        # EOF from the client is its disconnect (as in uvicorn): a long poll must learn that the client
        # left, and a half-closed socket cannot be told apart from a closed one until a write fails.
        return False

    def connection_lost(self, exc) -> None:
        current = self.current
        if current is not None and not self.closed and type(current) is HTTPCycle and not current.response_done:
            # The client's doing, not a server fault: one debug line, and the app learns it from
            # http.disconnect (or ClientDisconnected from send).
            logger.debug("%s went away %s (%s)", self._peer(),
                         "mid-response" if current.response_begun else "mid-request",
                         exc or "closed by the client")
        self.closed = True
        self.server_state.connections.discard(self)
        for cycle in (self.current, *self.pipeline):
            if cycle is not None:
                cycle.disconnect()
        if self.parsing is not None:
            self.parsing.disconnect()
        self.pipeline.clear()
        self.ready = None
        self._wake_drain_waiters()

    # -- requests -----------------------------------------------------------------------------------

    def _on_request(self, parsed) -> None:
        self.head_deadline = 0.0
        self.idle_deadline = 0.0
        state = self.server_state
        client, scheme = self.client, self.scheme
        if self.proxy_trusted and _names_proxy_headers(parsed.headers):
            client, scheme = forwarded_client(parsed.headers, client, scheme, state.trusted)
        if parsed.upgrade is not None and self.h2c and self.tls is None and self.current is None and not self.pipeline:
            settings = _h2c_settings(parsed)
            if settings is not None:
                self._upgrade_to_h2(parsed, settings)
                return
        if (parsed.upgrade is not None and self.ws_enabled and parsed.content_length == 0
                and is_websocket_upgrade(parsed)):
            upgrade = WebSocketUpgrade(parsed, client, scheme)
            self.parsing = upgrade
            if self.current is None and not self.pipeline:
                self._upgrade(upgrade)
            else:
                self.pipeline.append(upgrade)
            return
        scope = build_scope(parsed, client, self.server, self.root_path, scheme, self.server_state.lifespan_state)
        if self.tls is not None:
            scope["extensions"]["tls"] = self.tls
        cycle = new_cycle(scope, parsed, self)
        if state.request_ids:
            cycle.echo_field = state.echo_field(state.assign_request_id(scope, parsed.headers, self.proxy_trusted))
        if self.time_requests:
            # A request's duration starts when its head arrived: one clock read for all the heads of a read.
            if not self.read_time:
                self.read_time = monotonic()
            cycle.started = self.read_time
        self.parsing = cycle
        # Started by _launch once the body that came in the same read is fed to it, so an app reading a
        # small body gets it without waiting.
        self.ready = cycle

    def _launch(self) -> None:
        cycle = self.ready
        self.ready = None
        if self.current is None and not self.pipeline and not self.write_paused:
            self._start(cycle)
        else:
            self.pipeline.append(cycle)
            if self.current is None:
                self._next_request()  # (which waits while the client is not reading what was written)

    def _start(self, cycle) -> None:
        if type(cycle) is WebSocketUpgrade:
            self._upgrade(cycle)
        else:
            self._run_app(cycle)

    def _run_app(self, cycle: HTTPCycle) -> None:
        self.current = cycle
        state = self.server_state
        if state.draining and state.answers_readiness(cycle.scope["path"]):
            cycle.respond_plain(503, b"Service Unavailable: the server is shutting down\n")
            return
        limit = self.limit_concurrency
        if limit is not None and len(self.cycles) >= limit:
            # Over capacity: answer 503 without running the app (uvicorn's --limit-concurrency).
            state.refused(503)
            cycle.respond_plain(503, b"Service Unavailable: the server is at its concurrency limit\n")
            return
        self.cycles.add(cycle)
        self.runner.run(self.app, cycle)

    def _upgrade(self, upgrade: WebSocketUpgrade) -> None:
        """The upgrade's turn: check the handshake, then hand the transport to a WebSocketProtocol."""
        try:
            handshake = read_handshake(upgrade.request, self.config.ws_per_message_deflate)
        except HandshakeError as exc:
            logger.info("invalid WebSocket handshake from %s: %s (answered %d)", self._peer(), exc.message,
                        exc.status)
            self.server_state.refused(exc.status)
            self.write(error_response(exc.status, exc.message, exc.headers))
            self._close()
            return
        ws = WebSocketProtocol(self.server_state, self.transport, upgrade.request, handshake, upgrade.client,
                               self.server, upgrade.scheme, self.tls, self.parser.trailing_data(),
                               self.reading_paused, self.writev)
        self.flush_batch()  # responses before the upgrade go out before the WebSocket writes anything
        self.current = None
        self.closed = True  # this protocol is done with the transport; the WebSocket owns it now
        self.upgraded = True
        self.server_state.connections.discard(self)
        self.server_state.connections.add(ws)
        self.transport.set_protocol(ws)
        ws.start()

    def _switch_to_h2(self, data: bytes, upgrade=None) -> None:
        """Hands the transport to an H2Protocol (prior knowledge, ALPN or an accepted h2c upgrade)."""
        h2 = H2Protocol(self)
        self.flush_batch()
        self.closed = True  # this protocol is done with the transport; the HTTP/2 one owns it now
        self.upgraded = True
        self.head_deadline = self.idle_deadline = 0.0
        self.server_state.connections.discard(self)
        self.transport.set_protocol(h2)
        h2.start(data, upgrade)

    def _upgrade_to_h2(self, parsed, settings: bytes) -> None:
        """``Upgrade: h2c`` (RFC 7540 3.2): 101, then the request is answered as HTTP/2 on stream 1."""
        self.write(b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n")
        request = _as_compiled_request(parsed)
        request.http_version = "2"
        request.keep_alive = True
        request.upgrade = None
        self._switch_to_h2(self.parser.trailing_data(), (request, settings))

    def _on_protocol_error(self, error: HTTPProtocolError) -> None:
        logger.info("invalid request from %s: %s (answered %d)", self._peer(), error.message, error.status_hint)
        parsing = self.parsing
        if parsing is not None and not parsing.body_complete:
            # The error broke this request's body: the app must not take what it got for the whole.
            parsing.disconnect()
            if parsing is not self.current:
                try:
                    self.pipeline.remove(parsing)
                except ValueError:
                    pass
        self.pending_error = error
        if self.current is None and not self.pipeline and self.ready is None:
            self._answer_pending_error()

    def _answer_pending_error(self) -> None:
        error = self.pending_error
        self.pending_error = None
        if not self.closed:
            self.server_state.refused(error.status_hint)
            self.write(error_response(error.status_hint, error.message))
            self._close()

    # -- called by the cycle (with the base class's write/drain/create_future/default_headers) ---------

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.start_when_writable:
            self.start_when_writable = False
            self._after_response()

    def body_consumed(self, size: int) -> None:
        self.buffered_body -= size
        self._resume_if_drained()

    def _resume_if_drained(self) -> None:
        if self.reading_paused and self.buffered_body <= BODY_HIGH_WATER // 4 and len(self.pipeline) < MAX_PIPELINED:
            self._resume_reading()

    def response_complete(self, cycle: HTTPCycle) -> None:
        self._after_cycle(cycle)

    def _after_cycle(self, done: HTTPCycle) -> None:
        """What a complete response means for the connection (response_complete, the sink's method)."""
        self.server_state.requests += 1
        if self.observe:
            self.server_state.response_done(self, done)
        # Body the app never read will not be read now: it must stop counting against flow control.
        self.buffered_body -= done.release_body()
        if done is not self.current:
            return
        if done is self.parsing and not done.body_complete:
            if not done.keep_alive or self.closing:
                # The response said `Connection: close` (for a refused 100-continue upload, the cycle's
                # _head decided so) while the client may still be sending the body.
                self._linger(done)
                return
            # RFC 9112 9.3: the rest of the body is read and dropped (the parser knows where it ends),
            # within the keep-alive timeout, so the connection can carry the next request. A response
            # to 100-continue that came before the 100 asked for this body first (HTTPCycle._head).
            self.discarding = True
        if not done.keep_alive or self.closing:
            self._close()
            return
        self.current = None
        if not self.collecting:
            if self.pipeline or self.pending_error is not None or self.parser.paused:
                # Completed by an app running in a task, with more to do: what comes next starts from a
                # callback of its own, so it can run eagerly too (and never inside this app's send).
                self.loop.call_soon(self._after_response, context=self.runner.base_context)
            else:
                self._next_request()  # nothing to start: only the idle bookkeeping, here and now
        elif not self.pipeline:
            # Inside a read: a request queued behind this one is started by whoever is driving
            # (_launch or _next_request), one after another rather than one inside the other.
            self._after_response()

    def _after_response(self) -> None:
        """What follows a response: requests parsed after an upgrade, the next pipelined request, an error
        to answer, or waiting idle. From a callback of its own, its writes are collected like a read's."""
        if self.closed or self.current is not None:
            return
        own_batch = not self.collecting
        if own_batch:
            self.collecting = True
        try:
            if self.parser.paused:
                # An upgrade the app answered as plain HTTP: the connection goes on as HTTP/1.1.
                self._process(self.parser.resume())
                if self.current is not None or self.closed:
                    return
            self._next_request()
        finally:
            if own_batch:
                self.end_collecting()

    def _next_request(self) -> None:
        """After a response: start the pipelined requests in turn, answer a pending error, or wait idle."""
        while self.current is None and not self.closed:
            if self.pipeline:
                if self.write_paused:
                    # The client is not reading what was already written: the next response waits until it
                    # does, or every pipelined request would add a whole response to the write buffer.
                    self.start_when_writable = True
                    return
                self._start(self.pipeline.popleft())
                self._resume_if_drained()
            elif self.pending_error is not None:
                self._answer_pending_error()
                return
            else:
                self._resume_if_drained()
                parsing = self.parsing
                if parsing is not None and parsing.body_complete:
                    # Answered and read to its end: an idle connection need not keep the request, its
                    # scope and its cycle alive until the next one.
                    self.parsing = None
                if not self.parser.in_head:
                    self.idle_deadline = self.server_state.clock + self.idle_allowance
                return

    def _linger(self, cycle: HTTPCycle) -> None:
        """Closes a connection whose client may still be sending a body nobody will read. Closing a socket
        with unread data makes the kernel answer with a reset, and a reset can destroy the response in the
        client's buffers before the client reads it (RFC 9112 9.6: close in stages). So our side is shut
        down (the client reads the whole response and its end), what still arrives is dropped unparsed,
        and the connection closes when the client closes it, or LINGER seconds later. The app, which may
        still run or wait on ``receive`` for a body that will not be read, is told the client is gone."""
        cycle.disconnect()
        transport = self.transport
        if self.closed or self.closing or not transport.can_write_eof():
            # Shutting down (nothing waits for a client's upload then), or TLS, which has no half-close.
            self._close()
            return
        self.flush_batch()
        self.lingering = True
        self.current = None
        self.parsing = None
        self.pipeline.clear()
        self.head_deadline = self.body_deadline = 0.0
        self.idle_deadline = self.loop.time() + LINGER
        try:
            transport.write_eof()
        except OSError:
            self._close()
            return
        self._resume_reading()  # paused reading would leave the client's data queued: read and drop it

    def abort_response(self, cycle: HTTPCycle) -> None:
        """The app failed mid-response: close, so the client sees an incomplete message, not a whole one."""
        self._close()

    def app_finished(self, cycle: HTTPCycle) -> None:
        self.cycles.discard(cycle)
        if cycle is self.current and self.pending_error is not None and not cycle.response_done:
            # The request's body broke while its app ran. If nothing of a response went out, the client
            # gets the error status; after a partial response, only the close can tell it.
            self.current = None
            if cycle.response_size == 0:
                self._answer_pending_error()
            else:
                self._close()

    # -- timeouts and shutdown ----------------------------------------------------------------------

    def check_timeouts(self, now: float) -> None:
        """Called by the server's ticker about twice a second."""
        if self.send_stalled(now):
            logger.info("%s read nothing of its response for %ss: closed", self._peer(), self.config.timeout_send)
            for cycle in (self.current, *self.pipeline):
                if cycle is not None:
                    cycle.disconnect()
            self.transport.abort()  # (a close would wait for the buffer it will never read)
            return
        if self.head_deadline and now >= self.head_deadline and self.current is None:
            if self.parser.in_head:
                # Slowloris: a head still arriving after the timeout gets 408 and the connection ends.
                logger.info("request head from %s took longer than %ss", self._peer(), self.config.timeout_header_read)
                self.server_state.refused(408)
                self.write(error_response(408, "the request head took too long to arrive"))
            self._close()
        elif self.idle_deadline and now >= self.idle_deadline:
            self._close()
        else:
            self._check_body_timeout(now)

    def _check_body_timeout(self, now: float) -> None:
        """A body that stops arriving (a slow-body attack, or a client that hung) ends its request after
        --timeout-body-read seconds without a byte. Not while reading is paused or 100 Continue is still
        owed: then the wait is the server's, not the client's."""
        parsing = self.parsing
        timeout = self.config.timeout_body_read
        if (not timeout or parsing is None or type(parsing) is not HTTPCycle or parsing.body_complete
                or self.reading_paused or parsing.continue_pending or self.closed):
            self.body_deadline = 0.0
            return
        if self.reads != self.reads_at_tick or not self.body_deadline:
            self.reads_at_tick = self.reads
            self.body_deadline = now + timeout
        elif now >= self.body_deadline:
            logger.info("request body from %s stalled: nothing for %ss", self._peer(), timeout)
            parsing.disconnect()
            if parsing is self.current and not parsing.response_begun and parsing.response_size == 0:
                self.server_state.refused(408)
                self.write(error_response(408, "the request body stopped arriving"))
            self._close()

    def start_draining(self) -> None:
        """--shutdown-delay begins: the connection goes on serving, and each response says
        ``Connection: close`` and ends it, so the client's next request opens a new connection (which a
        load balancer that saw the readiness probe fail sends elsewhere)."""
        self.closing = True

    def shutdown(self) -> None:
        """Graceful shutdown: the response in progress goes out with ``Connection: close``, then the
        connection closes. An idle connection is not closed at once: closing it races a request the client
        may already have sent (RFC 9112 9.3.1), which would be lost. It stays until its keep-alive timeout,
        and a request that arrives meanwhile is served, with ``Connection: close``. After a --shutdown-delay,
        a connection idle after a response closes first, at once: every response of the delay closed its
        connection, so this one has been idle since before the delay, for longer than a client that means to
        reuse it would wait. A connection with no request yet still gets its keep-alive timeout."""
        self.closing = True
        if self.current is None and not self.pipeline:
            if self.discarding or self.lingering:  # the rest of an answered body: nothing in it will be served
                self._close()
                return
            if self.server_state.draining and self.idle_deadline and not self.parser.in_head:
                self._close()
                return
            deadline = self.loop.time() + self.config.timeout_keep_alive
            if self.idle_deadline:
                self.idle_deadline = min(self.idle_deadline, deadline)
            if self.head_deadline:
                self.head_deadline = min(self.head_deadline, deadline)



class ProxyProtocolHTTP(HTTPProtocol):
    """``--proxy-protocol``: every connection starts with a PROXY header (v1 or v2) from a trusted peer,
    and the client and server addresses are the ones it names. A connection from an untrusted peer, or one
    whose header is missing or malformed, is closed without an answer: the peer is not a client to talk to.
    """

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.proxy_parser = ProxyProtocolParser()
        if (self.client[0] if self.client else None) not in self.server_state.trusted:
            logger.warning("PROXY protocol connection from %s, which is not in --forwarded-allow-ips: closed",
                           self._peer())
            self._close()

    def data_received(self, data: bytes) -> None:
        parser = self.proxy_parser
        if parser is None:
            HTTPProtocol.data_received(self, data)
            return
        try:
            found = parser.feed(data)
        except ProxyProtocolError as exc:
            logger.warning("invalid PROXY protocol header from %s: %s", self._peer(), exc)
            self.proxy_parser = None
            self._close()
            return
        if found is None:
            return
        header, rest = found
        self.proxy_parser = None
        if header.client is not None:
            self.client, self.server = header.client, header.server
            self.proxy_trusted = self.config.proxy_headers and self.client[0] in self.server_state.trusted
        if rest:
            HTTPProtocol.data_received(self, rest)
