"""The one ASGI ``websocket`` cycle: the ``receive`` and ``send`` an app gets for one WebSocket.

It owns the ASGI rules (asgiref specs/www.rst, "WebSocket", spec 2.5): connect first; accept (with a
subprotocol the client offered, and headers), close before accept (HTTP 403), or a denial response
(the websocket.http.response extension, served by ``DenialResponse``, the HTTP cycle under other event
names); then send/receive of whole messages; close with a code and reason; disconnect with the code and
reason of whoever closed; send after close raises ``ClientDisconnected``. It does no I/O: the server's
``WebSocketProtocol`` writes the frames, answers pings, and runs the closing handshake.
"""

from __future__ import annotations

import logging
from collections import deque

from .errors import ASGIEventError, ClientDisconnected, follows_disconnect, log_after_disconnect
from .events import WWW, event_type, validate_headers, validate_str
from .http import DenialResponse, build_scope, release

logger = logging.getLogger("asgicy.error")

CONNECTING, ACCEPTED, RESPONDING, CLOSING, CLOSED = range(5)
_CONNECT = {"type": "websocket.connect"}
# Headers the server writes for the handshake itself; an app that set them would break it.
_HANDSHAKE_HEADERS = {b"sec-websocket-protocol", b"sec-websocket-accept", b"sec-websocket-extensions",
                      b"upgrade", b"connection", b"content-length", b"transfer-encoding"}


def build_websocket_scope(request, client, server, root_path: str, scheme: str, lifespan_state,
                          subprotocols: list) -> dict:
    scope = build_scope(request, client, server, root_path, scheme, lifespan_state)
    scope["type"] = "websocket"
    scope["asgi"]["spec_version"] = "2.5"
    scope["scheme"] = "wss" if scheme == "https" else "ws"
    del scope["method"]
    scope["subprotocols"] = subprotocols
    scope["extensions"] = {"websocket.http.response": {}}
    return scope


def sendable_close_code(code: int) -> bool:
    """Codes an app may close with: 1005, 1006 and 1015 only describe closes, never travel (RFC 6455 7.4.1)."""
    return code == 1000 or 1001 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def validate_close(kind: str, message: dict) -> tuple:
    code = message.get("code", 1000)
    if type(code) is not int:
        raise ASGIEventError(kind, f"'code' must be an int, not {type(code).__name__}", WWW)
    if not sendable_close_code(code):
        raise ASGIEventError(kind, f"close code {code} cannot be sent; use 1000-1003, 1007-1014 or 3000-4999 "
                             "(1005, 1006 and 1015 are never sent)", "RFC 6455 7.4")
    reason = validate_str(kind, message, "reason", "") or ""
    if len(reason.encode("utf-8")) > 123:
        raise ASGIEventError(kind, f"close reason is {len(reason.encode('utf-8'))} bytes in UTF-8; a close "
                             "frame holds 123 at most", "RFC 6455 5.5")
    return code, reason


class WebSocketCycle:
    def __init__(self, scope: dict, request, conn, max_queue: int) -> None:
        self.scope = scope
        self.request = request
        self.conn = conn
        self.max_queue = max_queue
        self.state = CONNECTING
        self.connect_delivered = False
        self.queue: deque = deque()
        self.waiter = None
        self.disconnect_event: dict | None = None  # set once the connection is closed, by whoever
        self.disconnect_delivered = False  # receive has returned it
        self.denial: DenialResponse | None = None
        # For the session's access line and the metrics: the first close code either way, and the traffic.
        self.close_code: int | None = None
        self.messages_in = 0
        self.messages_out = 0

    # -- fed by the server --------------------------------------------------------------------------

    def push(self, message) -> None:
        self.messages_in += 1
        if type(message) is str:
            self.queue.append({"type": "websocket.receive", "bytes": None, "text": message})
        else:
            self.queue.append({"type": "websocket.receive", "bytes": message, "text": None})
        self._wake()

    def closed_by(self, code: int, reason: str) -> None:
        """The WebSocket is closed (a close frame either way, an error, or the socket lost)."""
        if self.disconnect_event is None:
            if self.close_code is None:
                self.close_code = code
            self.disconnect_event = {"type": "websocket.disconnect", "code": code, "reason": reason}
            if self.state in (CONNECTING, ACCEPTED, CLOSING):
                self.state = CLOSED
            if self.denial is not None:
                self.denial.disconnect()
            self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        release(waiter)

    # -- receive ------------------------------------------------------------------------------------

    async def receive(self) -> dict:
        if not self.connect_delivered:
            self.connect_delivered = True
            return dict(_CONNECT)
        while True:
            if self.queue:
                message = self.queue.popleft()
                self.conn.message_consumed(len(self.queue))
                return message
            if self.disconnect_event is not None:
                self.disconnect_delivered = True
                return dict(self.disconnect_event)
            self.waiter = waiter = self.conn.create_future()
            try:
                await waiter
            finally:
                self.waiter = None

    # -- send ---------------------------------------------------------------------------------------

    async def send(self, message: dict) -> None:
        kind = event_type(message)
        state = self.state
        if state == RESPONDING:
            return await self.denial.send(message)
        if state == CONNECTING:
            if kind == "websocket.accept":
                return self._accept(kind, message)
            if kind == "websocket.close":
                validate_close(kind, message)
                self._deny()
                return
            if kind == DenialResponse.START:
                self.denial = DenialResponse(self.scope, self.request, self.conn)
                await self.denial.send(message)
                self.state = RESPONDING
                return
            raise ASGIEventError(kind, f"expected websocket.accept, websocket.close or {DenialResponse.START} "
                                 f"before anything else, got {kind!r}", WWW)
        if state == ACCEPTED:
            if kind == "websocket.send":
                if self._send_message(kind, message):
                    await self.conn.drain()
                return
            if kind == "websocket.close":
                code, reason = validate_close(kind, message)
                self.state = CLOSING
                self._close(code, reason)
                return
            raise ASGIEventError(kind, f"expected websocket.send or websocket.close after accept, got {kind!r}",
                                 WWW)
        # CLOSING or CLOSED: ASGI WebSocket spec 2.4, send after close raises.
        raise ClientDisconnected("the WebSocket is closed")

    def _accept(self, kind: str, message: dict) -> None:
        if self.disconnect_event is not None:
            raise ClientDisconnected("the client disconnected before the handshake completed")
        subprotocol = validate_str(kind, message, "subprotocol", None)
        offered = self.scope["subprotocols"]
        if subprotocol is not None and subprotocol not in offered:
            # The client must fail a connection whose subprotocol it did not offer (RFC 6455 4.1).
            raise ASGIEventError(kind, f"subprotocol {subprotocol!r} was not offered by the client "
                                 f"(offered: {offered})", "RFC 6455 4.2.2")
        headers = validate_headers(kind, message.get("headers"))
        fields = []
        has_date = has_server = False
        for name, value in headers:
            lname = name.lower()
            if lname in _HANDSHAKE_HEADERS:
                hint = " (use 'subprotocol')" if lname == b"sec-websocket-protocol" else ""
                raise ASGIEventError(kind, f"header {name!r} belongs to the handshake and is set by the "
                                     f"server{hint}", WWW)
            has_date = has_date or lname == b"date"
            has_server = has_server or lname == b"server"
            fields.append((name, value))
        self.state = ACCEPTED
        self.conn.ws_accept(subprotocol, fields, has_date, has_server)

    def _deny(self) -> None:
        """websocket.close before accept: the handshake is refused with HTTP 403 (ASGI WebSocket spec)."""
        self.state = CLOSED
        self.denial = DenialResponse(self.scope, self.request, self.conn)
        self.denial.respond_plain(403, b"Forbidden")
        self.closed_by(1000, "")

    def _send_message(self, kind: str, message: dict) -> bool:
        """Writes the message; True when the connection's buffer is over its limit and ``send`` must wait
        for it to drain (a plain call, not a coroutine: a broadcast sends once per connection)."""
        data = message.get("bytes")
        text = message.get("text")
        if (data is None) == (text is None):
            raise ASGIEventError(kind, "exactly one of 'bytes' and 'text' must be given (not None)", WWW)
        conn = self.conn
        if text is not None:
            if type(text) is not str:
                raise ASGIEventError(kind, f"'text' must be a str, not {type(text).__name__}", WWW)
            conn.send_text(text)
        else:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise ASGIEventError(kind, f"'bytes' must be bytes, not {type(data).__name__}", WWW)
            conn.send_bytes(data)
        self.messages_out += 1
        return conn.write_paused

    # -- running the app ----------------------------------------------------------------------------

    async def run(self, app) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as exc:
            if self.disconnect_event is not None and follows_disconnect(exc, self.disconnect_delivered):
                log_after_disconnect(logger, exc, self.scope)  # the app's reaction to the close: no error
            else:
                logger.exception("Exception in ASGI application")
                self._fail()
        except BaseException:
            self._fail()
            raise
        else:
            if self.state == CONNECTING and self.disconnect_event is None:
                logger.error("ASGI callable returned without accepting or closing the WebSocket")
                self._fail()
            elif self.state == ACCEPTED:
                self.state = CLOSING
                self._close(1000, "")  # the app is done: close normally, as uvicorn does
            elif self.state == RESPONDING and not self.denial.response_done:
                logger.error("ASGI callable returned without completing the denial response")
                self.denial._fail()
        finally:
            self.conn.app_finished(self)

    def _fail(self) -> None:
        """The app failed: 500 before the handshake, close 1011 after it (ASGI spec, RFC 6455 7.4.1)."""
        if self.state == CONNECTING and self.disconnect_event is None:
            self.state = CLOSED
            self.denial = DenialResponse(self.scope, self.request, self.conn)
            self.denial.respond_plain(500, b"Internal Server Error")
        elif self.state == RESPONDING:
            self.denial._fail()
        elif self.state == ACCEPTED:
            self.state = CLOSING
            self._close(1011, "")

    def _close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code = code
        self.conn.ws_close(code, reason)

    def denial_status(self) -> int:
        """The status of the HTTP response that refused the handshake (0 when there was none)."""
        return self.denial.status if self.denial is not None else 0
