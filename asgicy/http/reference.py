"""The pure-Python reference HTTP/1.1 request parser.

This module and ``_parser.pyx`` implement the same sans-I/O API, and every test of the core runs against
both; any difference between them is a bug (the differential test in ``tests/sansio`` looks for one). This
one is written for clarity. The Cython one reaches the same results with C loops over the buffer, in a
shape of its own where speed asks for it: it judges the framing headers as they arrive, where this one
judges them at the end of the head. The differential tests hold them to the same events and errors.

The API (see :mod:`asgicy.http` for the overview):

``HTTPParser(max_request_line_size=8192, max_header_size=65536, max_header_count=100, max_body_size=None)``
    ``feed(data) -> list``: buffers ``data`` and returns every event it completes, in order:
    a :class:`Request` (the head), ``bytes`` (a piece of body, chunked framing removed),
    :class:`EndOfMessage` (with trailers), and, if the bytes break the rules, a final
    :class:`~asgicy.http.errors.HTTPProtocolError` instance. After an error, or after a request that
    asked to close the connection, further input produces nothing new. After a request that asked to
    upgrade the connection the parser pauses: ``trailing_data()`` hands over the unparsed bytes, or
    ``resume()`` goes on parsing HTTP if the upgrade is declined.

Nothing here does I/O, and nothing raises past ``feed()``.
"""

from __future__ import annotations

from ..cores import ReferenceCore
from . import errors as E
from .errors import HTTPProtocolError
# The grammar's facts: the states and their transitions (re-exported: the docs and tests read them here
# too), tchar, the limits, the request's fields.
from .grammar import (BODY, CHUNK_DATA, CHUNK_DATA_END, CHUNK_SIZE, CLOSED, ERROR, HEADERS,  # noqa: F401
                      HEXDIG, MAX_CHUNK_LINE, MAX_CHUNK_SIZE_DIGITS, MAX_CONTENT_LENGTH_DIGITS, PAUSED,
                      REQUEST_FIELDS, REQUEST_LINE, STATE_NAMES, TCHAR, TRAILERS, TRANSITIONS)

__all__ = ["HTTPParser", "Request", "EndOfMessage", "IMPLEMENTATION"]

IMPLEMENTATION = "python"

class Request:
    """A parsed request head.

    ``method``, ``target``, ``path`` and ``query`` are the raw bytes (``path`` without the query; for an
    absolute-form target, the path part of it). ``headers`` is a list of ``(name, value)`` with names
    lowercased and values trimmed of optional whitespace, in the order and multiplicity received.
    ``content_length`` is the body length, or -1 when the body is chunked.
    """

    __slots__ = REQUEST_FIELDS

    def __init__(self, *values) -> None:
        """The fields' values, in the grammar's order (REQUEST_FIELDS)."""
        for name, value in zip(REQUEST_FIELDS, values, strict=True):
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"<Request {self.method!r} {self.target!r} HTTP/{self.http_version}>"


class EndOfMessage:
    """The end of a request body; ``trailers`` is a tuple of ``(name, value)`` pairs like those of
    ``Request.headers`` (a tuple, so the many messages without trailers can share the empty one)."""

    __slots__ = ("trailers",)

    def __init__(self, trailers):
        self.trailers = trailers

    def __repr__(self) -> str:
        return f"<EndOfMessage trailers={self.trailers!r}>"


def _skip_bws(line: bytes, i: int) -> int:
    while i < len(line) and (line[i] == 0x20 or line[i] == 0x09):
        i += 1
    return i


def _is_qdtext(b: int) -> bool:
    # RFC 9110 5.6.4: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    return b == 0x09 or b == 0x20 or b == 0x21 or 0x23 <= b <= 0x5B or 0x5D <= b <= 0x7E or b >= 0x80


def _extension_token_end(line: bytes, i: int) -> int:
    """Where the token (RFC 9110 5.6.2) starting at ``i`` ends; a chunk extension's names and values
    cannot be empty."""
    start = i
    while i < len(line) and line[i] in TCHAR:
        i += 1
    if i == start:
        raise HTTPProtocolError(E.INVALID_CHUNK_EXTENSION)
    return i


def _check_chunk_extensions(line: bytes, i: int) -> None:
    """RFC 9112 7.1.1, from the first ';': chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS
    chunk-ext-val ] ), a name a token, a value a token or a quoted-string. Parsers that skip extensions
    loosely disagree about where they end, which is a smuggling vector, so anything else is refused."""
    n = len(line)
    while i < n:
        if line[i] != 0x3B:
            raise HTTPProtocolError(E.INVALID_CHUNK_EXTENSION)
        i = _skip_bws(line, _extension_token_end(line, _skip_bws(line, i + 1)))
        if i < n and line[i] == 0x3D:
            i = _skip_bws(line, i + 1)
            if i < n and line[i] == 0x22:
                i += 1
                while True:
                    if i >= n:
                        raise HTTPProtocolError(E.INVALID_CHUNK_EXTENSION)
                    b = line[i]
                    if b == 0x22:
                        i += 1
                        break
                    if b == 0x5C:  # quoted-pair: "\" ( HTAB / SP / VCHAR / obs-text )
                        i += 1
                        if i >= n or not (line[i] == 0x09 or 0x20 <= line[i] <= 0x7E or line[i] >= 0x80):
                            raise HTTPProtocolError(E.INVALID_CHUNK_EXTENSION)
                    elif not _is_qdtext(b):
                        raise HTTPProtocolError(E.INVALID_CHUNK_EXTENSION)
                    i += 1
            else:
                i = _extension_token_end(line, i)
            i = _skip_bws(line, i)


def _is_value_byte(b: int) -> bool:
    # field-vchar / SP / HTAB, with obs-text (0x80-0xFF) allowed (RFC 9110 section 5.5).
    return b == 0x09 or 0x20 <= b <= 0x7E or b >= 0x80


def _trim_ows(value: bytes) -> bytes:
    return value.strip(b" \t")


def _split_list(value: bytes) -> list:
    """Split a comma-separated header list into lowercased, trimmed elements (empty ones kept)."""
    return [item.strip(b" \t").lower() for item in value.split(b",")]


class HTTPParser(ReferenceCore):
    """A strict RFC 9112 request parser: ``feed(data)`` returns ``Request``, body ``bytes``, ``EndOfMessage``
    and at most one final ``HTTPProtocolError``; the limits answer 414, 431 and 413. ``feed`` and the error
    latch are ``ReferenceCore``'s."""

    ERROR, CLOSED, PROTOCOL_ERROR = ERROR, CLOSED, HTTPProtocolError

    def __init__(self, max_request_line_size: int = 8192, max_header_size: int = 65536,
                 max_header_count: int = 100, max_body_size: int | None = None) -> None:
        self.max_request_line_size = max_request_line_size
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_body_size = max_body_size
        self._buf = bytearray()
        self._state = REQUEST_LINE
        self._error: HTTPProtocolError | None = None
        self._request: Request | None = None
        self._header_bytes = 0
        self._fields: list = []
        self._remaining = 0  # body or chunk bytes still to come
        self._body_received = 0

    # -- public API ---------------------------------------------------------------------------------

    def resume(self) -> list:
        """Continue parsing HTTP after a paused (declined) upgrade request."""
        if self._state != PAUSED:
            return []
        self._state = REQUEST_LINE
        return self._parse()

    def trailing_data(self) -> bytes:
        """The bytes buffered but not parsed (after an upgrade request); the buffer is emptied."""
        data = bytes(self._buf)
        self._buf.clear()
        return data

    @property
    def state(self) -> int:
        """Where the parser is in the request state machine (an index into STATE_NAMES; see TRANSITIONS)."""
        return self._state

    @property
    def paused(self) -> bool:
        """True after a request that asked to upgrade the connection, until ``resume()``."""
        return self._state == PAUSED

    @property
    def in_head(self) -> bool:
        """True while a request head has started arriving but is not complete (for the head timeout)."""
        return self._state == HEADERS or (self._state == REQUEST_LINE and len(self._buf) > 0)

    # -- the state machine --------------------------------------------------------------------------

    def _run(self, events: list) -> None:
        buf = self._buf
        pos = 0
        try:
            while True:
                state = self._state
                if state == REQUEST_LINE:
                    # A request starts with a method token: refuse anything else at its first byte, so
                    # that non-HTTP (a TLS handshake, say) is answered at once instead of at a timeout.
                    if pos < len(buf) and buf[pos] not in TCHAR and buf[pos] != 0x0D and buf[pos] != 0x0A:
                        raise HTTPProtocolError(E.INVALID_METHOD)
                    lf = buf.find(b"\n", pos)
                    if lf < 0:
                        if len(buf) - pos + 1 > self.max_request_line_size:
                            raise HTTPProtocolError(E.REQUEST_LINE_TOO_LONG, 414)
                        return
                    if lf + 1 - pos > self.max_request_line_size:
                        raise HTTPProtocolError(E.REQUEST_LINE_TOO_LONG, 414)
                    if lf == pos or buf[lf - 1] != 0x0D:
                        raise HTTPProtocolError(E.BARE_LF)
                    line = bytes(buf[pos:lf - 1])
                    pos = lf + 1
                    if not line:
                        # RFC 9112 section 2.2: ignore empty lines received before a request line.
                        continue
                    self._start_request(line)
                    self._state = HEADERS
                elif state == HEADERS or state == TRAILERS:
                    lf = buf.find(b"\n", pos)
                    if lf < 0:
                        if self._header_bytes + len(buf) - pos + 1 > self.max_header_size:
                            raise HTTPProtocolError(E.HEADERS_TOO_LARGE, 431)
                        return
                    self._header_bytes += lf + 1 - pos
                    if self._header_bytes > self.max_header_size:
                        raise HTTPProtocolError(E.HEADERS_TOO_LARGE, 431)
                    if lf == pos or buf[lf - 1] != 0x0D:
                        raise HTTPProtocolError(E.BARE_LF)
                    line = bytes(buf[pos:lf - 1])
                    pos = lf + 1
                    if line:
                        self._add_field(line)
                    elif state == HEADERS:
                        self._finish_head(events)
                    else:
                        self._end_message(events, tuple(self._fields))
                elif state == BODY or state == CHUNK_DATA:
                    take = min(len(buf) - pos, self._remaining)
                    if take:
                        events.append(bytes(buf[pos:pos + take]))
                        pos += take
                        self._remaining -= take
                    if self._remaining:
                        return
                    if state == BODY:
                        self._end_message(events, ())
                    else:
                        self._state = CHUNK_DATA_END
                elif state == CHUNK_SIZE:
                    lf = buf.find(b"\n", pos)
                    if lf < 0:
                        if len(buf) - pos + 1 > MAX_CHUNK_LINE:
                            raise HTTPProtocolError(E.CHUNK_LINE_TOO_LONG)
                        return
                    if lf + 1 - pos > MAX_CHUNK_LINE:
                        raise HTTPProtocolError(E.CHUNK_LINE_TOO_LONG)
                    if lf == pos or buf[lf - 1] != 0x0D:
                        raise HTTPProtocolError(E.BARE_LF)
                    line = bytes(buf[pos:lf - 1])
                    pos = lf + 1
                    self._chunk_size_line(line)
                elif state == CHUNK_DATA_END:
                    pending = len(buf) - pos
                    if pending == 0:
                        return
                    if buf[pos] != 0x0D or (pending >= 2 and buf[pos + 1] != 0x0A):
                        raise HTTPProtocolError(E.MISSING_CHUNK_CRLF)
                    if pending < 2:
                        return
                    pos += 2
                    self._state = CHUNK_SIZE
                else:  # PAUSED or CLOSED: leave the rest in the buffer
                    return
        finally:
            del buf[:pos]

    # -- request head -------------------------------------------------------------------------------

    def _start_request(self, line: bytes) -> None:
        sp1 = line.find(b" ")
        if sp1 <= 0:
            raise HTTPProtocolError(E.MALFORMED_REQUEST_LINE)
        sp2 = line.find(b" ", sp1 + 1)
        if sp2 < 0 or sp2 == sp1 + 1:
            raise HTTPProtocolError(E.MALFORMED_REQUEST_LINE)
        method = line[:sp1]
        target = line[sp1 + 1:sp2]
        version = line[sp2 + 1:]
        for b in method:
            if b not in TCHAR:
                raise HTTPProtocolError(E.INVALID_METHOD)
        for b in target:
            if b <= 0x20 or b >= 0x7F or b == 0x23:  # '#' starts a fragment, never sent (RFC 9112 3.2)
                raise HTTPProtocolError(E.INVALID_TARGET_BYTE)
        if (len(version) != 8 or version[:5] != b"HTTP/" or version[6] != 0x2E
                or not 0x30 <= version[5] <= 0x39 or not 0x30 <= version[7] <= 0x39):
            raise HTTPProtocolError(E.MALFORMED_VERSION)
        if version[5] != 0x31:
            raise HTTPProtocolError(E.UNSUPPORTED_VERSION, 505)
        # RFC 9112 section 2.3: a higher minor version within major 1 is treated as 1.1.
        http_version = "1.0" if version[7] == 0x30 else "1.1"
        if method == b"CONNECT":
            # A tunnel has no place in ASGI; refuse it before its authority-form target is a problem.
            raise HTTPProtocolError(E.CONNECT_UNSUPPORTED, 501)
        if target[0] == 0x2F:  # origin-form
            path, query = self._split_query(target)
        elif target == b"*":
            if method != b"OPTIONS":
                raise HTTPProtocolError(E.ASTERISK_NOT_OPTIONS)
            path, query = target, b""
        else:
            # absolute-form: scheme "://" authority [path] ["?" query]; only http and https.
            lowered = target[:8].lower()
            if lowered.startswith(b"http://"):
                rest = target[7:]
            elif lowered.startswith(b"https://"):
                rest = target[8:]
            else:
                raise HTTPProtocolError(E.INVALID_TARGET)
            end = 0
            while end < len(rest) and rest[end] != 0x2F and rest[end] != 0x3F:
                end += 1
            if end == 0:
                raise HTTPProtocolError(E.INVALID_TARGET)
            path, query = self._split_query(rest[end:])
            if not path:
                path = b"/"
        self._request = Request(method, target, path, query, http_version, None, True, False, None, 0)
        self._header_bytes = 0
        self._fields = []

    @staticmethod
    def _split_query(target: bytes):
        q = target.find(b"?")
        if q < 0:
            return target, b""
        return target[:q], target[q + 1:]

    def _add_field(self, line: bytes) -> None:
        if line[0] == 0x20 or line[0] == 0x09:
            raise HTTPProtocolError(E.OBS_FOLD)
        colon = line.find(b":")
        if colon < 0:
            raise HTTPProtocolError(E.NO_COLON)
        if colon == 0:
            raise HTTPProtocolError(E.EMPTY_HEADER_NAME)
        name = line[:colon]
        if name[-1] == 0x20 or name[-1] == 0x09:
            raise HTTPProtocolError(E.WHITESPACE_BEFORE_COLON)
        for b in name:
            if b not in TCHAR:
                raise HTTPProtocolError(E.INVALID_HEADER_NAME)
        value = _trim_ows(line[colon + 1:])
        for b in value:
            if not _is_value_byte(b):
                raise HTTPProtocolError(E.invalid_value_byte(b))
        self._fields.append((name.lower(), value))
        if len(self._fields) > self.max_header_count:
            raise HTTPProtocolError(E.TOO_MANY_HEADERS, 431)

    def _finish_head(self, events: list) -> None:
        request = self._request
        headers = self._fields
        content_length = -1
        hosts = 0
        transfer_codings: list = []
        connection: list = []
        upgrade = None
        expect = None
        for name, value in headers:
            if name == b"content-length":
                if not value or len(value) > MAX_CONTENT_LENGTH_DIGITS or not value.isdigit():
                    raise HTTPProtocolError(E.INVALID_CONTENT_LENGTH)
                length = int(value)
                if content_length >= 0 and length != content_length:
                    raise HTTPProtocolError(E.CONFLICTING_CONTENT_LENGTH)
                content_length = length
            elif name == b"transfer-encoding":
                transfer_codings.extend(_split_list(value))
            elif name == b"host":
                hosts += 1
            elif name == b"connection":
                connection.extend(_split_list(value))
            elif name == b"upgrade":
                upgrade = value.lower()
            elif name == b"expect":
                expect = value.lower()
        if hosts > 1:
            raise HTTPProtocolError(E.TOO_MANY_HOSTS)
        if hosts == 0 and request.http_version == "1.1":
            raise HTTPProtocolError(E.HOST_REQUIRED)
        if transfer_codings:
            if request.http_version == "1.0":
                raise HTTPProtocolError(E.TE_IN_HTTP10)
            if content_length >= 0:
                raise HTTPProtocolError(E.TE_WITH_CL)
            chunked = 0
            for coding in transfer_codings:
                if not coding or any(b not in TCHAR for b in coding):
                    raise HTTPProtocolError(E.MALFORMED_TE)
                if coding == b"chunked":
                    chunked += 1
            if chunked > 1:
                raise HTTPProtocolError(E.CHUNKED_TWICE)
            if chunked and transfer_codings[-1] != b"chunked":
                raise HTTPProtocolError(E.CHUNKED_NOT_LAST)
            if len(transfer_codings) > 1 or not chunked:
                raise HTTPProtocolError(E.UNSUPPORTED_TE, 501)
        elif content_length < 0:
            content_length = 0  # no framing headers: a request has no body (RFC 9112 section 6.3)
        if content_length > 0 and self.max_body_size is not None and content_length > self.max_body_size:
            raise HTTPProtocolError(E.BODY_TOO_LARGE, 413)
        if expect is not None:
            if expect != b"100-continue":
                raise HTTPProtocolError(E.UNSUPPORTED_EXPECT, 417)
            # An HTTP/1.0 client cannot understand 100 Continue (RFC 9110 section 10.1.1).
            request.expect_continue = request.http_version == "1.1"
        if b"close" in connection:
            request.keep_alive = False
        elif request.http_version == "1.0":
            request.keep_alive = b"keep-alive" in connection
        if upgrade is not None and b"upgrade" in connection and request.http_version == "1.1":
            request.upgrade = upgrade
        request.headers = headers
        request.content_length = content_length
        events.append(request)
        self._fields = []
        self._body_received = 0
        if content_length < 0:
            self._state = CHUNK_SIZE
        elif content_length > 0:
            self._remaining = content_length
            self._state = BODY
        else:
            self._end_message(events, ())

    # -- chunked body -------------------------------------------------------------------------------

    def _chunk_size_line(self, line: bytes) -> None:
        digits = 0
        while digits < len(line) and line[digits] in HEXDIG:
            digits += 1
        if digits == 0:
            raise HTTPProtocolError(E.INVALID_CHUNK_SIZE)
        if len(line[:digits].lstrip(b"0")) > MAX_CHUNK_SIZE_DIGITS:
            raise HTTPProtocolError(E.CHUNK_SIZE_OVERFLOW)
        size = int(line[:digits], 16)
        if digits < len(line):
            # Only a chunk extension may follow, after optional BWS (RFC 9112 section 7.1.1).
            i = digits
            while i < len(line) and (line[i] == 0x20 or line[i] == 0x09):
                i += 1
            if i == len(line) or line[i] != 0x3B:
                raise HTTPProtocolError(E.INVALID_CHUNK_SIZE)
            _check_chunk_extensions(line, i)
        self._body_received += size
        if self.max_body_size is not None and self._body_received > self.max_body_size:
            raise HTTPProtocolError(E.BODY_TOO_LARGE, 413)
        if size == 0:
            self._header_bytes = 0
            self._fields = []
            self._state = TRAILERS
        else:
            self._remaining = size
            self._state = CHUNK_DATA

    def _end_message(self, events: list, trailers: tuple) -> None:
        events.append(EndOfMessage(trailers))
        request = self._request
        self._fields = []
        if request.upgrade is not None:
            self._state = PAUSED
        elif not request.keep_alive:
            # Nothing after a request that closes the connection may be taken for another request.
            self._state = CLOSED
            self._buf.clear()
        else:
            self._state = REQUEST_LINE
