# cython: language_level=3, annotation_typing=False
"""The one ASGI ``http`` cycle: the ``receive`` and ``send`` an app gets for one request.

It owns the ASGI rules for a request (event order, validation, at least one ``http.request``,
``http.disconnect``, spec 2.4 send-after-disconnect) and what the response is (its status and fields, the
announced length, HEAD and 204/304 without a body, trailers, early hints, files). It does no I/O itself,
frames nothing and does not import asyncio: everything outside goes through its ``conn``, a
``ResponseSink`` (``sink.py`` lists the whole contract), which puts the response's parts on the wire
(``send_head``, ``send_body``, ``send_file_piece``, ``send_trailers``, ``send_informational``), makes
futures, and is told when a response or an app is done. So the same cycle runs over an HTTP/1.1
connection (``http1.py`` frames for it), an HTTP/2 stream (``asgicy.server.h2``), or in memory over
``asgicy.testing.RecordingSink`` in the tests.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import unquote

from .errors import ASGIEventError, ClientDisconnected, follows_disconnect, log_after_disconnect
from .events import (
    DROP_TRAILERS,
    NO_TRAILERS,
    SEND_TRAILERS,
    KNOWN_GOOD_LIMIT,
    WWW,
    event_type,
    validate_bool,
    validate_bytes,
    validate_headers,
    validate_int,
    validate_status,
)

logger = logging.getLogger("asgicy.error")

# ASGI HTTP spec 2.4: send after disconnect raises (ClientDisconnected), so we may claim 2.4.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}

# The stages of a response (HTTPCycle.stage). TRAILERS: the last body was sent and trailer fields are
# awaited (the trailers extension).
NOT_STARTED, STARTED, STREAMING, TRAILERS, COMPLETE = range(5)

# The response extensions asgicy implements (asgiref specs/extensions.rst). Every http scope advertises them;
# an app that sends one its carrier cannot honour (trailers to an HTTP/1.1 client without `TE: trailers`, an
# early hint to an HTTP/1.0 client) has it dropped without error, as the spec allows.
TRAILERS_EVENT = "http.response.trailers"
EARLY_HINT_EVENT = "http.response.early_hint"
PATHSEND_EVENT = "http.response.pathsend"
ZEROCOPYSEND_EVENT = "http.response.zerocopysend"
EXTENSIONS = "ASGI extensions spec"

# What _send_now did with an event.
SENT, DRAIN, UNHANDLED = range(3)


# RFC 9110 6.5.1: fields that frame, route or control the message cannot be trailers; a recipient would
# have needed them before the content.
_NOT_TRAILERS = frozenset((b"content-length", b"transfer-encoding", b"trailer", b"te", b"connection", b"keep-alive",
                           b"upgrade", b"host", b"content-type", b"content-encoding", b"content-range", b"set-cookie"))

_DISCONNECT = {"type": "http.disconnect"}
_EMPTY_FINAL_REQUEST = {"type": "http.request", "body": b"", "more_body": False}
_METHODS = {m: m.decode() for m in (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS")}


# What a response header field means to the server, by the name as the app wrote it (any case); 0 for a
# field the server only passes on. Filled as names are met, bounded like the validation cache.
ORDINARY, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, DATE, SERVER = range(6)
_ROLES = {b"content-length": CONTENT_LENGTH, b"transfer-encoding": TRANSFER_ENCODING, b"connection": CONNECTION,
          b"date": DATE, b"server": SERVER}
_role_by_name: dict = {}
# Content-Length values an app sent before, parsed (an app sends the same few lengths again and again).
_lengths_by_value: dict = {}

def _learn_role(name: bytes) -> int:
    """The role of a name not met before (the hot path looks in ``_role_by_name`` first)."""
    role = _ROLES.get(name.lower(), ORDINARY)
    if len(_role_by_name) >= KNOWN_GOOD_LIMIT:
        _role_by_name.clear()
    _role_by_name[name] = role
    return role


def _learn_length(kind: str, value: bytes) -> int:
    """A Content-Length value from an app not met before (the hot path looks in ``_lengths_by_value``)."""
    if not value.isdigit() or len(value) > 18:
        raise ASGIEventError(kind, f"content-length {value!r} is not a decimal number", "RFC 9110 8.6")
    length = int(value)
    if len(_lengths_by_value) >= KNOWN_GOOD_LIMIT:
        _lengths_by_value.clear()
    _lengths_by_value[value] = length
    return length


def release(waiter) -> None:
    """Wakes whoever awaits ``waiter`` (a future the sink made for a cycle's receive or send), if anyone
    still does. Both cycles wake their app this way."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


# Every http scope's keys, in the order an app sees them, with the values most scopes have: build_scope
# copies one of these (a copy takes the keys table whole, where a dict built key by key grows and rehashes)
# and sets what differs.
_SCOPE_KEYS = ("type", "asgi", "http_version", "method", "scheme", "path", "raw_path", "query_string",
               "root_path", "headers", "client", "server")
_SCOPE_TEMPLATE = dict.fromkeys(_SCOPE_KEYS + ("extensions",))
_SCOPE_TEMPLATE.update({"type": "http", "http_version": "1.1", "scheme": "http", "root_path": ""})
_SCOPE_TEMPLATE_WITH_STATE = dict.fromkeys(_SCOPE_KEYS + ("state", "extensions"))
_SCOPE_TEMPLATE_WITH_STATE.update(_SCOPE_TEMPLATE)


def build_scope(request, client, server, root_path: str, scheme: str, lifespan_state) -> dict:
    """The ``http`` scope for a parsed request (ASGI HTTP spec, 'HTTP Connection Scope')."""
    raw_path = request.path
    path = raw_path.decode("ascii")  # the parser only lets visible ASCII through
    if "%" in path:
        path = unquote(path, errors="replace")
    method = _METHODS.get(request.method)
    if method is None:
        method = request.method.decode("ascii")
    if lifespan_state is None:
        scope = _SCOPE_TEMPLATE.copy()
    else:
        scope = _SCOPE_TEMPLATE_WITH_STATE.copy()
        scope["state"] = lifespan_state.copy()
    scope["asgi"] = ASGI_VERSION.copy()
    if request.http_version != "1.1":
        scope["http_version"] = request.http_version
    scope["method"] = method
    if scheme != "http":
        scope["scheme"] = scheme
    if root_path:
        scope["path"] = root_path + path
        scope["root_path"] = root_path
    else:
        scope["path"] = path
    scope["raw_path"] = raw_path
    scope["query_string"] = request.query
    scope["headers"] = request.headers
    scope["client"] = client
    scope["server"] = server
    scope["extensions"] = {TRAILERS_EVENT: {}, EARLY_HINT_EVENT: {}, PATHSEND_EVENT: {}, ZEROCOPYSEND_EVENT: {}}
    return scope


def _regular_file_size(conn, kind: str, fd: int, name: str) -> int:
    size = conn.file_size(fd)
    if size < 0:
        # A pipe or device has no size to frame the response with, and reading one may never end.
        raise ASGIEventError(kind, f"{name} is not a regular file", EXTENSIONS)
    return size


class HTTPCycle:
    """One request and its response. ``receive``/``send`` are the ASGI callables for the app.

    The WebSocket denial response (the ``websocket.http.response`` extension) is the same response under
    other event names: ``DenialResponse`` below changes only ``START`` and ``BODY``."""

    START = "http.response.start"
    BODY = "http.response.body"
    EXTENDED = True  # the response extensions apply (not to a WebSocket denial response)

    def __init__(self, scope: dict, request, conn) -> None:
        self._setup(scope, request, conn)

    def _setup(self, scope: dict, request, conn) -> None:
        # START, BODY and EXTENDED as instance fields: read on every send, where a class attribute would be
        # a lookup by name in the compiled cycle (DenialResponse sets its own).
        self.start_event = "http.response.start"
        self.body_event = "http.response.body"
        self.extended = True
        self.scope = scope
        self.conn = conn
        self.request = request
        # Read through the field: compiled, it is typed (http.pxd), and these are struct members.
        self.http_version = self.request.http_version
        self.is_head = self.request.method == b"HEAD"
        self.keep_alive = self.request.keep_alive
        self.body: list = []
        self.body_size = 0
        self.body_received = 0  # request body bytes that arrived, all told (for the metrics)
        self.body_complete = False
        self.final_delivered = False
        self.disconnected = False
        self.disconnect_delivered = False  # receive has returned http.disconnect
        self.waiter = None
        self.continue_pending = self.request.expect_continue
        self.stage = NOT_STARTED
        self.status = 0
        self.response_fields = ()  # the app's fields less those the carrier frames (length, connection)
        self.has_date = False
        self.has_server = False
        self.content_length = -1
        self.chunked = False
        self.bytes_sent = 0
        self.no_body = False
        self.response_size = 0
        self.started = 0.0  # set by the connection when the access log shows durations
        self.response_headers = ()
        self.trailers = NO_TRAILERS
        self.trailers_done = False
        self.trailer_fields = None  # a list once trailer fields are sent (the trailers extension)
        self.path_sent = False
        self.sends_body = True
        self.echo_field = None  # a (name, value) field the carrier adds to the response (--request-id-response)

    # Where the response is, for the carrier (the stage constants are C ints when compiled).
    @property
    def response_begun(self) -> bool:
        return self.stage != NOT_STARTED

    @property
    def response_done(self) -> bool:
        return self.stage == COMPLETE

    # -- fed by the server --------------------------------------------------------------------------

    def feed_body(self, data: bytes) -> int:
        """Buffers a piece of body for receive(); returns how many bytes were kept (0: dropped)."""
        self.body_received += len(data)
        if self.stage == COMPLETE or self.disconnected:
            return 0  # nobody will read it: drop it rather than buffer it
        # RFC 9110 10.1.1: a client that sends its body without waiting needs no 100 Continue.
        self.continue_pending = False
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
        waiter, self.waiter = self.waiter, None
        release(waiter)

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
                    if self.stage <= STARTED:  # nothing of the final response is on the wire yet
                        self.conn.send_informational(self, 100, ())
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
        while self.stage != COMPLETE and not self.disconnected:
            await self._wait()
        self.disconnect_delivered = True
        return dict(_DISCONNECT)

    # -- send ---------------------------------------------------------------------------------------

    async def send(self, message: dict) -> None:
        outcome = self._send_now(message)
        if outcome == SENT:
            return
        if outcome == DRAIN:
            await self._drain()
            return
        # Everything _send_now leaves: events that are not plain dicts, values that need validating (the
        # validators name the problem), events out of order, and the extensions.
        kind = event_type(message)
        stage = self.stage
        if kind == self.body_event and stage != NOT_STARTED:
            body = validate_bytes(kind, message, "body")
            more_body = validate_bool(kind, message, "more_body")
            if stage >= TRAILERS:
                return self._after_body(kind)
            if self._write_body(kind, body, more_body):
                await self._drain()
        elif kind == self.start_event:
            if stage == COMPLETE:
                return self._after_complete(kind)
            if stage != NOT_STARTED:
                raise ASGIEventError(kind, f"unexpected {kind!r}: the response was already started; "
                                     f"expected {self.body_event!r}", WWW)
            self._start(kind, message if type(message) is dict else dict(message))
        elif self.extended and kind in _EXTENSION_SENDERS:
            if stage == NOT_STARTED and kind != EARLY_HINT_EVENT:
                raise ASGIEventError(kind, f"expected {self.start_event!r} first, got {kind!r}", EXTENSIONS)
            await _EXTENSION_SENDERS[kind](self, kind, message)
        elif stage == NOT_STARTED:
            raise ASGIEventError(kind, f"expected {self.start_event!r} first, got {kind!r}", WWW)
        else:
            raise ASGIEventError(kind, f"unexpected {kind!r} after {self.start_event!r}; "
                                 f"expected {self.body_event!r}", WWW)

    def _send_now(self, message) -> int:
        """The common case of ``send``, with nothing to await: a start event, or a body event while the
        response is open, as a plain dict whose values have the right types. Compiled, ``message`` is read
        as a dict in C. Returns SENT, DRAIN (written; the client must read before the app goes on) or
        UNHANDLED, when nothing was done and ``send`` takes the event through its general path."""
        if type(message) is not dict:
            return UNHANDLED
        event = message
        kind = event.get("type")
        stage = self.stage
        if kind == self.body_event:
            if stage == NOT_STARTED or stage >= TRAILERS:
                return UNHANDLED
            body = event.get("body", b"")
            more_body = event.get("more_body", False)
            if type(body) is not bytes or (more_body is not False and more_body is not True):
                return UNHANDLED
            return DRAIN if self._write_body(kind, body, more_body) else SENT
        if kind == self.start_event and stage == NOT_STARTED and type(kind) is str:
            self._start(kind, event)
            return SENT
        return UNHANDLED

    def _write_body(self, kind: str, body: bytes, more_body: bool) -> bool:
        """Hands one body piece to the carrier; True if the app should now wait for the client to read."""
        first = self._open_piece(kind, len(body))
        self.bytes_sent += len(body)
        # (For HEAD, 204 and 304 the carrier sends no body, but the head still announces HEAD's length.)
        if first:
            self.conn.send_head(self, body, more_body)
        else:
            self.conn.send_body(self, body, more_body)
        self._end_piece(more_body)
        return more_body and self.conn.write_paused

    async def _send_file_piece(self, kind: str, fd: int, offset: int, length: int, more_body: bool) -> None:
        """A body piece from a file: ``length`` bytes of ``fd`` from ``offset``, which the carrier sends as
        it is (sendfile(2) on a plain connection), checked and counted exactly like a body event."""
        first = self._open_piece(kind, length)
        sent = await self.conn.send_file_piece(self, fd, offset, length, more_body, first)
        if sent < length:  # the file shrank under us: the promised bytes cannot all come
            self.keep_alive = False
            self.stage = COMPLETE
            self.conn.abort_response(self)
            raise ASGIEventError(kind, f"the file ended after {sent} of the {length} bytes to send "
                                 "(was it truncated while being sent?)", EXTENSIONS)
        self.bytes_sent += length
        self._end_piece(more_body)
        if more_body and self.conn.write_paused:
            await self._drain()

    def _open_piece(self, kind: str, length: int) -> bool:
        """Checks a body piece of ``length`` bytes; True if it is the first (the head goes with it)."""
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")
        if 0 <= self.content_length < self.bytes_sent + length and self.sends_body:
            raise ASGIEventError(kind, f"body exceeds the Content-Length the response announced "
                                 f"({self.content_length} bytes)", "RFC 9110 8.6")
        if self.stage == STARTED:
            self.stage = STREAMING
            return True
        return False

    def _end_piece(self, more_body: bool) -> None:
        """After a piece was handed over: the last one ends the response (or awaits the trailers)."""
        if more_body:
            return
        if self.trailers == SEND_TRAILERS:
            self.stage = TRAILERS  # the carrier ends the body with the trailer fields
            return
        self.stage = COMPLETE
        if self.sends_body and self.bytes_sent < self.content_length:
            logger.error("ASGI app finished a response with %d of the %d bytes its Content-Length "
                         "announced; closing the connection", self.bytes_sent, self.content_length)
            self.keep_alive = False
        self._wake()
        self.conn.response_complete(self)

    async def _drain(self) -> None:
        await self.conn.drain()
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")

    def _after_body(self, kind: str) -> None:
        if self.stage == TRAILERS:
            raise ASGIEventError(kind, f"the last body event was sent and the response announced trailers: "
                                 f"only {TRAILERS_EVENT!r} may follow", EXTENSIONS)
        return self._after_complete(kind)

    def _after_complete(self, kind: str) -> None:
        if self.path_sent:
            raise ASGIEventError(kind, f"the response was sent whole by {PATHSEND_EVENT!r}; nothing may follow it",
                                 EXTENSIONS)
        # ASGI: messages after the response is complete are ignored, unless the client is gone (2.4).
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")

    def _start(self, kind: str, message: dict) -> None:
        status = message.get("status")
        if type(status) is not int or not 200 <= status <= 599:
            status = validate_status(kind, message)
        headers = validate_headers(kind, message.get("headers"))
        wants_trailers = message.get("trailers", False)
        if wants_trailers is not False and wants_trailers is not True:
            wants_trailers = validate_bool(kind, message, "trailers")
        fields = []
        content_length = -1
        has_date = has_server = False
        keep_alive = self.keep_alive
        for pair in headers:  # (validated: tuples of bytes, kept as they are)
            name = pair[0]
            value = pair[1]
            known_role = _role_by_name.get(name)
            role = _learn_role(name) if known_role is None else known_role
            if role:
                if role == CONTENT_LENGTH:
                    length = _lengths_by_value.get(value, -1)
                    if length < 0:
                        length = _learn_length(kind, value)
                    if content_length >= 0 and length != content_length:
                        raise ASGIEventError(kind, "two content-length headers that disagree", "RFC 9110 8.6")
                    content_length = length
                    continue  # sent once, with the framing, by the carrier
                elif role == TRANSFER_ENCODING:
                    continue  # framing is the server's (ASGI HTTP spec: ignore the app's Transfer-Encoding)
                elif role == CONNECTION:
                    if b"close" in value.lower():
                        keep_alive = False
                    continue  # connection management is the carrier's
                elif role == DATE:
                    has_date = True
                else:
                    has_server = True
            fields.append(pair)
        if self.echo_field is not None:
            self._add_echo_field(fields)
        self.status = status
        self.response_headers = headers
        self.response_fields = fields
        self.has_date = has_date
        self.has_server = has_server
        self.keep_alive = keep_alive
        self.content_length = content_length
        self.no_body = status in (204, 304)
        self.sends_body = not (self.no_body or self.is_head)
        if wants_trailers:
            # Only a response with a body can end in trailer fields, and only a carrier that can deliver them
            # (HTTP/1.1: chunked framing to a client that said `TE: trailers`, RFC 9110 6.5.1; HTTP/2: always).
            sendable = not self.is_head and not self.no_body and self.conn.accepts_trailers(self)
            self.trailers = SEND_TRAILERS if sendable else DROP_TRAILERS
        self.stage = STARTED
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")

    # -- response extensions (asgiref specs/extensions.rst) -------------------------------------------

    async def _send_trailers(self, kind: str, message: dict) -> None:
        headers = validate_headers(kind, message.get("headers"))
        more_trailers = validate_bool(kind, message, "more_trailers")
        for name, _ in headers:
            if name.lower() in _NOT_TRAILERS:
                raise ASGIEventError(kind, f"{name!r} cannot be sent as a trailer field: the client needs it "
                                     "before the content", "RFC 9110 6.5.1")
        if self.trailers == NO_TRAILERS:
            raise ASGIEventError(kind, f"trailers need 'trailers': True in {self.start_event!r}", EXTENSIONS)
        if self.stage < TRAILERS:
            raise ASGIEventError(kind, "trailers come after the last body event (more_body False)", EXTENSIONS)
        if self.trailers_done:
            return self._after_complete(kind)
        self.trailers_done = not more_trailers
        if self.trailers == DROP_TRAILERS:
            return  # the client cannot take trailers here: dropped without error (ASGI extensions spec)
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")
        if self.trailer_fields is None:
            self.trailer_fields = []
        self.trailer_fields.extend(headers)
        if more_trailers:
            return
        self.stage = COMPLETE
        self.conn.send_trailers(self, self.trailer_fields)
        self._wake()
        self.conn.response_complete(self)

    async def _send_early_hint(self, kind: str, message: dict) -> None:
        links = message.get("links")
        if isinstance(links, (bytes, str, dict)) or not hasattr(links, "__iter__"):
            raise ASGIEventError(kind, f"'links' must be an iterable of bytes, not {type(links).__name__}",
                                 EXTENSIONS)
        fields = validate_headers(kind, [(b"link", link) for link in links], "links")
        if self.stage == COMPLETE:
            return self._after_complete(kind)
        if self.stage >= STREAMING:
            raise ASGIEventError(kind, "an early hint must come before the response head, which was sent with "
                                 "the first body event", "RFC 8297 2")
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")
        if fields:
            self.conn.send_informational(self, 103, fields)

    async def _send_path(self, kind: str, message: dict) -> None:
        path = message.get("path")
        if not isinstance(path, (str, os.PathLike)):
            raise ASGIEventError(kind, f"'path' must be a str, not {type(path).__name__}", EXTENSIONS)
        path = os.fspath(path)
        if self.stage == COMPLETE:
            return self._after_complete(kind)
        if self.stage != STARTED:
            raise ASGIEventError(kind, f"{PATHSEND_EVENT!r} sends the whole body: it cannot follow body events",
                                 EXTENSIONS)
        if not os.path.isabs(path):
            raise ASGIEventError(kind, f"'path' must be absolute, got {path!r}", EXTENSIONS)
        try:
            fd = self.conn.open_file(path)
        except OSError as exc:
            # Raised before a byte of the response is written: the app may still answer otherwise.
            raise type(exc)(exc.errno, f"{PATHSEND_EVENT} cannot open the file: {exc.strerror}", path) from None
        try:
            size = _regular_file_size(self.conn, kind, fd, path)
            if self.content_length >= 0 and self.content_length != size:
                raise ASGIEventError(kind, f"the response announced content-length {self.content_length} but "
                                     f"{path!r} has {size} bytes", "RFC 9110 8.6")
            self.path_sent = True
            await self._send_file_piece(kind, fd, 0, size, False)
        finally:
            self.conn.close_file(fd)

    async def _send_zerocopy(self, kind: str, message: dict) -> None:
        file = message.get("file")
        if type(file) is int:
            fd = file
        elif hasattr(file, "fileno"):
            fd = file.fileno()
        else:
            raise ASGIEventError(kind, f"'file' must be an open file or a file descriptor, not {type(file).__name__}",
                                 EXTENSIONS)
        offset = validate_int(kind, message, "offset")
        count = validate_int(kind, message, "count")
        more_body = validate_bool(kind, message, "more_body")
        if self.stage >= TRAILERS:
            return self._after_body(kind)
        size = _regular_file_size(self.conn, kind, fd, f"file descriptor {fd}")
        position = self.conn.file_position(fd) if offset is None else offset
        available = max(0, size - position)
        if count is None:
            count = available
        elif count > available:
            raise ASGIEventError(kind, f"'count' {count} goes past the end of the file ({available} bytes from "
                                 f"offset {position})", EXTENSIONS)
        await self._send_file_piece(kind, fd, position, count, more_body)
        if offset is None:  # like a read, a send from the current position moves it on
            self.conn.move_file_position(fd, position + count)

    # -- running the app ----------------------------------------------------------------------------

    def app_done(self, exc, context) -> None:
        """How the app ended, told by the runner (asgicy.server.eager): ``exc`` is what it raised, None if
        it returned. What there is to log about it is logged inside ``context``, the app's own (a logging
        filter may read the request's context variables); None when that is the current one."""
        try:
            if exc is not None or (self.stage != COMPLETE and not self.disconnected):
                if context is None:
                    self._app_ended_badly(exc)
                else:
                    context.run(self._app_ended_badly, exc)
        finally:
            self.conn.app_finished(self)

    def _app_ended_badly(self, exc) -> None:
        """The ASGI spec's rules for an app that raised, or returned before its response was complete."""
        if exc is None:
            if self.stage == NOT_STARTED:
                logger.error("ASGI callable returned without starting a response")
            else:
                logger.error("ASGI callable returned without completing the response")
            self._fail()
        elif isinstance(exc, Exception):
            if self.disconnected and follows_disconnect(exc, self.disconnect_delivered):
                # The client left and the app's exception is its reaction to that (ASGI HTTP spec 2.4:
                # not an error): frameworks turn ClientDisconnected or http.disconnect into their own.
                log_after_disconnect(logger, exc, self.scope)
            else:
                logger.error("Exception in ASGI application", exc_info=exc)
                self._fail()
        else:
            self._fail()  # cancelled (shutdown timed out) or the interpreter is exiting: not the app's bug

    def _fail(self) -> None:
        """The app failed: a 500 if nothing was written yet, otherwise cut the connection (ASGI spec)."""
        if self.disconnected or self.stage == COMPLETE:
            return
        if self.stage <= STARTED:
            self.respond_plain(500, b"Internal Server Error")
        else:
            self.keep_alive = False
            self.stage = COMPLETE
            self.conn.abort_response(self)

    def _add_echo_field(self, fields: list) -> None:
        """The carrier's field (the request id) joins the app's, unless the app set that field itself."""
        name = self.echo_field[0]
        for pair in fields:
            if pair[0].lower() == name:
                return
        fields.append(self.echo_field)

    def respond_plain(self, status: int, body: bytes) -> None:
        """A short text/plain response from the server itself, replacing any head not yet written."""
        self.keep_alive = False
        self.status = status
        self.response_fields = [(b"content-type", b"text/plain; charset=utf-8")]
        if self.echo_field is not None:
            self.response_fields.append(self.echo_field)
        self.has_date = self.has_server = False
        self.content_length = len(body)
        self.no_body = False
        self.sends_body = not self.is_head
        self.chunked = False
        self.trailers = NO_TRAILERS
        self.stage = COMPLETE
        self.conn.send_head(self, body, False)
        self.conn.response_complete(self)


def new_cycle(scope: dict, request, conn) -> HTTPCycle:
    """``HTTPCycle(scope, request, conn)`` as the protocol makes one per request: compiled, C calls with no
    argument parsing."""
    cycle = HTTPCycle.__new__(HTTPCycle)
    cycle._setup(scope, request, conn)
    return cycle


class DenialResponse(HTTPCycle):
    """The HTTP response a WebSocket app sends instead of accepting (the websocket.http.response extension)."""

    START = "websocket.http.response.start"
    BODY = "websocket.http.response.body"
    EXTENDED = False

    def __init__(self, scope: dict, request, conn) -> None:
        super().__init__(scope, request, conn)
        self.start_event = self.START
        self.body_event = self.BODY
        self.extended = False


_EXTENSION_SENDERS = {
    TRAILERS_EVENT: HTTPCycle._send_trailers,
    EARLY_HINT_EVENT: HTTPCycle._send_early_hint,
    PATHSEND_EVENT: HTTPCycle._send_path,
    ZEROCOPYSEND_EVENT: HTTPCycle._send_zerocopy,
}
