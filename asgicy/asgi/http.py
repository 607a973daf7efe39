"""The one ASGI ``http`` cycle: the ``receive`` and ``send`` an app gets for one request.

It owns the ASGI rules for a request (event order, validation, at least one ``http.request``,
``http.disconnect``, spec 2.4 send-after-disconnect) and the HTTP/1.1 response framing (status line,
Content-Length or chunked, HEAD and 204/304, Connection, Date and Server). It does no I/O itself and
does not import asyncio: the server's protocol object (``conn``) writes bytes, makes futures, and is told
when a response or an app is done. So the same cycle can be driven by a fake connection in tests.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import unquote

from .errors import ASGIEventError, ClientDisconnected
from .events import WWW, event_type, validate_bool, validate_bytes, validate_headers, validate_status

logger = logging.getLogger("asgicy.error")

# ASGI HTTP spec 2.4: send after disconnect raises (ClientDisconnected), so we may claim 2.4.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}

# Response states.
NOT_STARTED, STARTED, STREAMING, COMPLETE = range(4)

_STATUS_LINES = {
    (version, s.value): f"HTTP/{version} {s.value} {s.phrase}\r\n".encode("latin-1")
    for s in HTTPStatus for version in ("1.0", "1.1")
}
_DISCONNECT = {"type": "http.disconnect"}
_EMPTY_FINAL_REQUEST = {"type": "http.request", "body": b"", "more_body": False}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_METHODS = {m: m.decode() for m in (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS")}


def status_line(http_version: str, status: int) -> bytes:
    line = _STATUS_LINES.get((http_version, status))
    if line is None:  # a code with no registered phrase: the reason phrase may be empty (RFC 9112 4)
        line = f"HTTP/{http_version} {status} \r\n".encode("latin-1")
    return line


def build_scope(request, client, server, root_path: str, scheme: str, state) -> dict:
    """The ``http`` scope for a parsed request (ASGI HTTP spec, 'HTTP Connection Scope')."""
    raw_path = request.path
    path = raw_path.decode("ascii")  # the parser only lets visible ASCII through
    if "%" in path:
        path = unquote(path, errors="replace")
    method = _METHODS.get(request.method) or request.method.decode("ascii")
    scope = {
        "type": "http",
        "asgi": dict(ASGI_VERSION),
        "http_version": request.http_version,
        "method": method,
        "scheme": scheme,
        "path": root_path + path,
        "raw_path": raw_path,
        "query_string": request.query,
        "root_path": root_path,
        "headers": request.headers,
        "client": client,
        "server": server,
    }
    if state is not None:
        scope["state"] = state.copy()
    return scope


class HTTPCycle:
    """One request and its response. ``receive``/``send`` are the ASGI callables for the app.

    The WebSocket denial response (the ``websocket.http.response`` extension) is the same response under
    other event names: ``DenialResponse`` below changes only ``START`` and ``BODY``."""

    START = "http.response.start"
    BODY = "http.response.body"

    __slots__ = (
        "scope", "conn", "request", "http_version", "is_head", "keep_alive",
        "body", "body_size", "body_complete", "final_delivered", "disconnected", "waiter",
        "continue_pending", "state", "status", "head_fields", "content_length", "chunked",
        "bytes_sent", "no_body", "response_size",
    )

    def __init__(self, scope: dict, request, conn) -> None:
        self.scope = scope
        self.conn = conn
        self.request = request
        self.http_version = request.http_version
        self.is_head = request.method == b"HEAD"
        self.keep_alive = request.keep_alive
        self.body: list = []
        self.body_size = 0
        self.body_complete = False
        self.final_delivered = False
        self.disconnected = False
        self.waiter = None
        self.continue_pending = request.expect_continue
        self.state = NOT_STARTED
        self.status = 0
        self.head_fields = b""
        self.content_length = -1
        self.chunked = False
        self.bytes_sent = 0
        self.no_body = False
        self.response_size = 0

    # -- fed by the server --------------------------------------------------------------------------

    def feed_body(self, data: bytes) -> int:
        """Buffers a piece of body for receive(); returns how many bytes were kept (0: dropped)."""
        if self.state == COMPLETE or self.disconnected:
            return 0  # nobody will read it: drop it rather than buffer it
        self.body.append(data)
        self.body_size += len(data)
        self._wake()
        return len(data)

    def release_body(self) -> int:
        """Drops the body nobody read (the response is done); returns how many bytes that freed."""
        freed, self.body_size = self.body_size, 0
        self.body.clear()
        return freed

    def end_body(self) -> None:
        self.body_complete = True
        self._wake()

    def disconnect(self) -> None:
        """The client went away (or its request broke): receive returns http.disconnect, send raises."""
        self.disconnected = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self) -> None:
        self.waiter = waiter = self.conn.create_future()
        try:
            await waiter
        finally:
            self.waiter = None

    # -- receive ------------------------------------------------------------------------------------

    async def receive(self) -> dict:
        if not self.final_delivered:
            if self.body_complete and not self.body:
                self.final_delivered = True
                return dict(_EMPTY_FINAL_REQUEST)
            while not self.body and not self.body_complete and not self.disconnected:
                if self.continue_pending:
                    # RFC 9110 10.1.1: answer 100-continue only once the app asks for the body, so an
                    # app that refuses the request never invites the upload.
                    self.continue_pending = False
                    if self.state <= STARTED:  # nothing of the final response is on the wire yet
                        self.conn.write(_CONTINUE)
                await self._wait()
            if self.body or self.body_complete:
                body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
                self.body.clear()
                consumed, self.body_size = self.body_size, 0
                if consumed:
                    self.conn.body_consumed(consumed)
                more = not self.body_complete
                self.final_delivered = not more
                return {"type": "http.request", "body": body, "more_body": more}
        # The whole request was delivered: what comes next is the end of the exchange.
        while self.state != COMPLETE and not self.disconnected:
            await self._wait()
        return dict(_DISCONNECT)

    # -- send ---------------------------------------------------------------------------------------

    async def send(self, message: dict) -> None:
        kind = event_type(message)
        state = self.state
        if state == NOT_STARTED:
            if kind != self.START:
                raise ASGIEventError(kind, f"expected {self.START!r} first, got {kind!r}", WWW)
            self._start(kind, message)
            if self.disconnected:
                raise ClientDisconnected("the client disconnected")
            return
        if kind != self.BODY:
            if state == COMPLETE and kind == self.START:
                return self._after_complete()
            raise ASGIEventError(kind, f"unexpected {kind!r} after {self.START!r}; expected {self.BODY!r}", WWW)
        body = validate_bytes(kind, message, "body")
        more_body = validate_bool(kind, message, "more_body")
        if state == COMPLETE:
            return self._after_complete()
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")
        sends_body = not (self.no_body or self.is_head)
        if sends_body and 0 <= self.content_length < self.bytes_sent + len(body):
            raise ASGIEventError(kind, f"body exceeds the Content-Length the response announced "
                                 f"({self.content_length} bytes)", "RFC 9110 8.6")
        conn = self.conn
        if state == STARTED:
            data = self._head(body, more_body)
            self.state = STREAMING
        else:
            data = b""
        if not sends_body:
            pass
        elif self.content_length >= 0:
            data += body
        elif self.chunked:
            if body:
                data += b"%x\r\n%b\r\n" % (len(body), body)
            if not more_body:
                data += b"0\r\n\r\n"
        else:
            data += body
        self.bytes_sent += len(body)
        if not more_body:
            self.state = COMPLETE
            if sends_body and self.bytes_sent < self.content_length:
                logger.error("ASGI app finished a response with %d of the %d bytes its Content-Length announced;"
                             " closing the connection", self.bytes_sent, self.content_length)
                self.keep_alive = False
        if data:
            self.response_size += len(data)
            conn.write(data)
        if not more_body:
            self._wake()
            conn.response_complete(self)
        elif conn.write_paused:
            await conn.drain()
            if self.disconnected:
                raise ClientDisconnected("the client disconnected")

    def _after_complete(self) -> None:
        # ASGI: messages after the response is complete are ignored, unless the client is gone (2.4).
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")

    def _start(self, kind: str, message: dict) -> None:
        status = validate_status(kind, message)
        headers = validate_headers(kind, message.get("headers"))
        validate_bool(kind, message, "trailers")
        fields = []
        content_length = -1
        has_date = has_server = False
        keep_alive = self.keep_alive
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-length":
                if not value.isdigit() or len(value) > 18:
                    raise ASGIEventError(kind, f"content-length {value!r} is not a decimal number", "RFC 9110 8.6")
                length = int(value)
                if content_length >= 0 and length != content_length:
                    raise ASGIEventError(kind, "two content-length headers that disagree", "RFC 9110 8.6")
                content_length = length
                continue  # written once, with the framing, by _head()
            elif lname == b"transfer-encoding":
                continue  # framing is the server's (ASGI HTTP spec: ignore the app's Transfer-Encoding)
            elif lname == b"connection":
                if b"close" in value.lower():
                    keep_alive = False
                continue  # the server writes its own Connection header below
            elif lname == b"date":
                has_date = True
            elif lname == b"server":
                has_server = True
            fields.append(b"%b: %b\r\n" % (name, value))
        self.status = status
        self.keep_alive = keep_alive
        self.content_length = content_length
        self.head_fields = self.conn.default_headers(has_date, has_server) + b"".join(fields)
        self.no_body = status in (204, 304)
        self.state = STARTED

    def _head(self, body: bytes, more_body: bool) -> bytes:
        """The response head, written with the first body event (so an error can still replace it)."""
        framing = b""
        if self.no_body:
            if self.status == 204:
                self.content_length = -1  # RFC 9110 8.6: no Content-Length in a 204
        elif self.content_length >= 0:
            framing = b"content-length: %d\r\n" % self.content_length
        elif not more_body:
            self.content_length = len(body)
            framing = b"content-length: %d\r\n" % self.content_length
        elif self.http_version == "1.1":
            self.chunked = not self.is_head
            framing = b"transfer-encoding: chunked\r\n"
        else:
            self.keep_alive = False  # HTTP/1.0 without a length: the end of the body is the close
        if self.conn.closing or not self.request.keep_alive:
            self.keep_alive = False
        if not self.keep_alive:
            connection = b"connection: close\r\n"
        elif self.http_version == "1.0":
            connection = b"connection: keep-alive\r\n"
        else:
            connection = b""
        return status_line(self.http_version, self.status) + self.head_fields + framing + connection + b"\r\n"

    # -- running the app ----------------------------------------------------------------------------

    async def run(self, app) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            if not self.disconnected:
                logger.exception("Exception in ASGI application")
                self._fail()
        except Exception as exc:
            if not (self.disconnected and isinstance(exc, OSError)):
                logger.exception("Exception in ASGI application")
                self._fail()
        except BaseException:
            self._fail()  # cancelled (shutdown timed out) or the interpreter is exiting: not the app's bug
            raise
        else:
            if self.state != COMPLETE and not self.disconnected:
                if self.state == NOT_STARTED:
                    logger.error("ASGI callable returned without starting a response")
                else:
                    logger.error("ASGI callable returned without completing the response")
                self._fail()
        finally:
            self.conn.app_finished(self)

    def _fail(self) -> None:
        """The app failed: a 500 if nothing was written yet, otherwise cut the connection (ASGI spec)."""
        if self.disconnected or self.state == COMPLETE:
            return
        if self.state in (NOT_STARTED, STARTED):
            self.respond_plain(500, b"Internal Server Error")
        else:
            self.keep_alive = False
            self.state = COMPLETE
            self.conn.abort_response(self)

    def respond_plain(self, status: int, body: bytes) -> None:
        """A short text/plain response from the server itself, replacing any head not yet written."""
        self.keep_alive = False
        self.status = status
        self.head_fields = self.conn.default_headers(False, False) + b"content-type: text/plain; charset=utf-8\r\n"
        self.content_length = len(body)
        self.no_body = False
        self.chunked = False
        data = self._head(body, False)
        if not self.is_head:
            data += body
        self.state = COMPLETE
        self.response_size += len(data)
        self.conn.write(data)
        self.conn.response_complete(self)


class DenialResponse(HTTPCycle):
    """The HTTP response a WebSocket app sends instead of accepting (the websocket.http.response extension)."""

    START = "websocket.http.response.start"
    BODY = "websocket.http.response.body"
