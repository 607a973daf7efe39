"""The asyncio protocol for one WebSocket connection, from the accepted upgrade to the close.

The HTTP protocol hands the transport over (``transport.set_protocol``) once an upgrade request's turn
comes and its handshake checks out. This protocol then holds what only the connection knows: frames in
(through the sans-I/O framer) and out, pongs for pings, keepalive pings of its own, the closing handshake
(the server closes TCP first, RFC 6455 7.1.1), a bounded queue of unread messages (reading pauses while
the app falls behind), and shutdown with 1012. The ASGI rules are in ``asgicy.asgi.websocket``.
"""

from __future__ import annotations

import logging
import os
from time import monotonic

from ..asgi.http1 import field_lines
from ..asgi.sink import WebSocketSink
from ..asgi.websocket import WebSocketCycle, build_websocket_scope
from ..ws import Close, Framer, Ping, Pong
from ..ws.handshake import accept_response
from .connection import Connection

logger = logging.getLogger("asgicy.error")

# Bytes a client may send before its handshake is answered (it should send none): then reading pauses.
MAX_PENDING = 64 * 1024


class WebSocketProtocol(Connection, WebSocketSink):
    """One WebSocket connection after its upgrade: the framer between the transport and the cycle, which
    it carries as its sink (asgicy.asgi.sink.WebSocketSink)."""

    def __init__(self, state, transport, request, handshake, client, server, scheme, tls, pending: bytes = b"",
                 reading_paused: bool = False, writev: bool = False) -> None:
        """``transport``: the TCP connection after an HTTP/1.1 upgrade, or an HTTP/2 stream's (RFC 8441, see
        server/h2.py); ``client`` and ``scheme`` are after proxy headers; ``pending``, bytes the client sent
        after its handshake."""
        super().__init__(state)
        self.transport = transport
        self.writev = writev
        self.client = client
        self.server = server
        self.scheme = scheme
        self.tls = tls
        self.reading_paused = reading_paused
        self.handshake = handshake
        self.framer = None
        self.pending = bytearray(pending)
        config = self.config
        scope = build_websocket_scope(request, self.client, self.server, config.root_path, self.scheme,
                                      self.server_state.lifespan_state, handshake.subprotocols)
        if self.tls is not None:
            scope["extensions"]["tls"] = self.tls
        self.cycle = WebSocketCycle(scope, request, self, config.ws_max_queue)
        self.close_sent = False
        self.pending_pong: bytes | None = None
        self.close_deadline = 0.0
        self.next_ping = 0.0
        self.pong_deadline = 0.0
        self.started = monotonic()  # for the session's access line

    def start(self) -> None:
        state = self.server_state
        state.cycles.add(self.cycle)
        task = self.loop.create_task(self.cycle.run(state.app))
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.framer is None:
            self.pending += data
            if len(self.pending) > MAX_PENDING:
                self._pause_reading()
            return
        self._process(self.framer.feed(data))

    def _process(self, events: list) -> None:
        cycle = self.cycle
        for event in events:
            kind = type(event)
            if kind is str or kind is bytes:
                cycle.push(event)
                if len(cycle.queue) >= cycle.max_queue:
                    self._pause_reading()  # backpressure: the app is behind; let TCP hold the rest
            elif kind is Ping:
                if self.close_sent:
                    pass
                elif self.write_paused:
                    # The client is not reading: answer only the newest ping once it does (RFC 6455
                    # 5.5.3 allows it), so a ping flood cannot grow our buffer.
                    self.pending_pong = event.payload
                else:
                    self.write(self.framer.pong(event.payload))
            elif kind is Pong:
                self.pong_deadline = 0.0
            elif kind is Close:
                # Echo the close (RFC 6455 5.5.1), then close TCP: the server closes first (7.1.1).
                if not self.close_sent:
                    self.close_sent = True
                    self.write(self.framer.close(event.code, event.reason))
                cycle.closed_by(event.code, event.reason)
                self._close()
            else:  # WebSocketProtocolError: fail the connection with its code (RFC 6455 7.1.7)
                logger.info("WebSocket from %s broke the protocol: %s", self._peer(), event)
                if not self.close_sent:
                    self.close_sent = True
                    self.write(self.framer.close(event.close_code, event.reason[:123]))
                cycle.closed_by(event.close_code, event.reason)
                self._close()

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.server_state.connections.discard(self)
        self.cycle.closed_by(1006, "")  # abnormal closure, unless a close frame came first
        self._wake_drain_waiters()

    def resume_writing(self) -> None:
        if self.pending_pong is not None and not self.close_sent:
            self.write(self.framer.pong(self.pending_pong))
        self.pending_pong = None
        super().resume_writing()

    # -- called by the cycle ------------------------------------------------------------------------

    def ws_accept(self, subprotocol, fields: list, has_date: bool, has_server: bool) -> None:
        self.send_accept(subprotocol, fields, has_date, has_server)
        state = self.server_state
        state.open_websockets += 1
        if state.tally is not None:
            state.tally.websockets += 1
        config = self.config
        self.framer = Framer(config.ws_max_size, self.handshake.deflate)
        if config.ws_ping_interval:
            self.next_ping = self.loop.time() + config.ws_ping_interval
        if self.closing:
            self.ws_close(1012, "server shutting down")
        if self.pending:
            early, self.pending = bytes(self.pending), bytearray()
            self._process(self.framer.feed(early))
        self._resume_reading()

    def send_accept(self, subprotocol, fields: list, has_date: bool, has_server: bool) -> None:
        """The handshake's answer: 101 Switching Protocols (RFC 6455 4.2.2)."""
        extra = self.default_headers(has_date, has_server) + field_lines(fields)
        self.write(accept_response(self.handshake, subprotocol, extra))

    def send_text(self, text: str) -> None:
        self.write(self.framer.text(text))

    def send_bytes(self, data) -> None:
        self.write(self.framer.binary(data))

    def ws_close(self, code: int, reason: str) -> None:
        if not self.close_sent and not self.closed:
            self.close_sent = True
            self.write(self.framer.close(code, reason))
            self.close_deadline = self.loop.time() + self._close_timeout()

    def message_consumed(self, queued: int) -> None:
        if self.reading_paused and self.framer is not None and queued < self.cycle.max_queue // 2 + 1:
            self._resume_reading()

    # The HTTP cycle's connection interface, for the denial response, 403 and 500.
    def response_complete(self, cycle) -> None:
        self._close()

    def abort_response(self, cycle) -> None:
        self._close()

    def body_consumed(self, size: int) -> None:
        pass

    def app_finished(self, cycle) -> None:
        state = self.server_state
        state.cycles.discard(self.cycle)
        if cycle is not self.cycle:
            return  # the denial response's cycle; the WebSocket's own comes last
        accepted = self.framer is not None
        if accepted:
            state.open_websockets -= 1
        if state.access_log:
            state.access.log_websocket(self.cycle, self.started, accepted)
        if state.tally is not None:
            state.tally.websocket_done(self.cycle)

    # -- timeouts and shutdown ----------------------------------------------------------------------

    def _close_timeout(self) -> float:
        return self.config.ws_ping_timeout or 10.0

    def check_timeouts(self, now: float) -> None:
        if self.closed:
            return
        if self.close_deadline:
            if now >= self.close_deadline:
                # The client never answered our close: give up on the handshake (RFC 6455 7.1.1).
                self.cycle.closed_by(1006, "")
                self.transport.abort()
                self.closed = True
            return
        if self.pong_deadline and now >= self.pong_deadline:
            logger.info("WebSocket from %s did not answer a keepalive ping", self._peer())
            self.ws_close(1011, "keepalive ping timeout")
        elif self.next_ping and now >= self.next_ping:
            self.write(self.framer.ping(os.urandom(4)))
            if self.config.ws_ping_timeout and not self.pong_deadline:
                self.pong_deadline = now + self.config.ws_ping_timeout
            self.next_ping = now + self.config.ws_ping_interval

    def start_draining(self) -> None:
        """--shutdown-delay: a WebSocket goes on until the shutdown itself (then 1012)."""

    def shutdown(self) -> None:
        """Graceful shutdown: 1012 (service restart); the app still gets its websocket.disconnect."""
        self.closing = True
        if self.framer is not None:
            self.ws_close(1012, "server shutting down")
