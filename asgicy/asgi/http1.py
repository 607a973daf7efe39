# cython: language_level=3, annotation_typing=False
"""HTTP/1.1 response framing: how a response the ASGI cycle decided on becomes bytes on a byte stream.

The cycle (``http.py``) owns the ASGI rules and what a response means: its status, its fields, whether it
has a body, the announced length, trailers. It hands each part to its carrier through the sink contract
(``sink.py``: ``send_head``, ``send_body``, ``send_file_piece``, ``send_trailers``, ``send_informational``).
``HTTP1Sink`` implements those parts for carriers that write HTTP/1.1 bytes (the connection in
``asgicy.server.connection``, and ``asgicy.testing.RecordingSink``): the status line, Content-Length or
chunked framing (RFC 9112 6, 7), Connection and keep-alive, HEAD and 204/304, 100 Continue and 103 Early
Hints, chunked trailers. A carrier derived from it provides only the bytes side: ``write``, ``write_two``,
``send_file``, ``default_headers``. An HTTP/2 stream frames the same parts as HEADERS and DATA frames
(``asgicy.server.h2``) and does not derive from it.
"""

from __future__ import annotations

from http import HTTPStatus

from .events import KNOWN_GOOD_LIMIT, SEND_TRAILERS
from .sink import ResponseSink


# Status lines by code: looked up on every response, so keyed by the plain int. Every response says
# HTTP/1.1, an HTTP/1.0 client's too: a server sends the highest minor version it conforms to (RFC 9110
# 2.5, RFC 9112 2.3) and frames the message for the client's version (no chunked, no 1xx, the close ends a
# body of unknown length), which _head does.
_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode("latin-1") for s in HTTPStatus}
# Content-Length lines by length, made once per length met (bounded like the validation cache).
_length_lines: dict = {}
# A body at least this large goes to the connection as it is, beside the head rather than copied into one
# bytes object with it; the transport writes both with one writev(2).
SEPARATE_BODY = 16 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# A response that comes before 100 Continue was sent asks for a body up to this size (announced by
# Content-Length) and drops it, keeping the connection; reading that costs less than the client's next
# connection. A larger or chunked body is refused by closing (see _head).
CONTINUE_TO_DISCARD = 64 * 1024


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:  # a code with no registered phrase: the reason phrase may be empty (RFC 9112 4)
        line = f"HTTP/1.1 {status} \r\n".encode("latin-1")
    return line


def content_length_line(length: int) -> bytes:
    line = _length_lines.get(length)
    if line is None:
        line = b"content-length: %d\r\n" % length
        if len(_length_lines) >= KNOWN_GOOD_LIMIT:
            _length_lines.clear()
        _length_lines[length] = line
    return line


def field_lines(fields) -> bytes:
    """Header fields as HTTP/1.1 lines (RFC 9112 5)."""
    return b"".join([b"%b: %b\r\n" % pair for pair in fields])


def _says_trailers(value: bytes) -> bool:
    """Whether a TE field value lists ``trailers`` (RFC 9110 10.1.4)."""
    for part in value.lower().split(b","):
        if part.split(b";")[0].strip() == b"trailers":
            return True
    return False


class HTTP1Sink(ResponseSink):
    """The response parts of the sink contract, as HTTP/1.1 bytes written with ``write``/``write_two``."""

    # -- what a byte-stream carrier provides -------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queues ``data`` after what was written before. Never blocks, never raises for a gone peer."""
        raise NotImplementedError

    def write_two(self, first: bytes, second: bytes) -> None:
        """Writes ``first`` then ``second`` (a head and a large body) without joining them."""
        raise NotImplementedError

    async def send_file(self, fd: int, offset: int, count: int) -> int:
        """Writes ``count`` bytes of ``fd`` from ``offset`` after what was written before; returns how many
        went out (fewer only if the file ended early). Raises ClientDisconnected if the peer left."""
        raise NotImplementedError

    def default_headers(self, has_date: bool, has_server: bool) -> bytes:
        """The ``date`` and ``server`` header lines a response lacks, ready to write."""
        raise NotImplementedError

    # -- the response parts, framed ------------------------------------------------------------------------

    def accepts_trailers(self, cycle) -> bool:
        """RFC 9110 6.5.1: trailer fields ride on chunked framing (RFC 9112 7.1.2), so only an HTTP/1.1
        response can carry them, and only to a client that said ``TE: trailers``."""
        if cycle.http_version != "1.1":
            return False
        for name, value in cycle.request.headers:
            if name == b"te" and _says_trailers(value):
                return True
        return False

    def send_informational(self, cycle, status: int, fields) -> None:
        """100 Continue, 103 Early Hints (RFC 9110 15.2: never to an HTTP/1.0 client)."""
        if cycle.http_version != "1.1":
            return
        if status == 100:
            data = CONTINUE
        else:
            data = status_line(status) + field_lines(fields) + b"\r\n"
        cycle.response_size += len(data)
        self.write(data)

    # (Each public method hands the cycle to a typed helper: compiled, the helpers read its fields as C
    # fields, where the contract's methods, declared for any cycle, would look each one up by name.)

    def send_head(self, cycle, body: bytes, more_body: bool) -> None:
        """The response head, and the first body piece."""
        self._send_head(cycle, body, more_body)

    def send_body(self, cycle, body: bytes, more_body: bool) -> None:
        self._send_body(cycle, body, more_body)

    def _send_head(self, cycle, body: bytes, more_body: bool) -> None:
        head = self._head(cycle, len(body), more_body)
        if not cycle.sends_body:
            body = b""  # HEAD, 204, 304: the head is all there is
        elif body and cycle.chunked:
            head += b"%x\r\n%b\r\n" % (len(body), body)
            body = b""
        if not more_body:
            head += self._last_chunk(cycle)
        if len(body) >= SEPARATE_BODY:
            cycle.response_size += len(head) + len(body)
            self.write_two(head, body)  # written beside the head, not copied behind it
        else:
            if body:
                head += body
            cycle.response_size += len(head)
            self.write(head)

    def _send_body(self, cycle, body: bytes, more_body: bool) -> None:
        if not cycle.sends_body:
            return
        if cycle.chunked:
            data = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
            if not more_body:
                data += self._last_chunk(cycle)
        else:
            data = body
        if data:
            cycle.response_size += len(data)
            self.write(data)

    async def send_file_piece(self, cycle, fd: int, offset: int, count: int, more_body: bool, first: bool) -> int:
        """``count`` bytes of ``fd`` from ``offset`` as a body piece (after the head if ``first``), through the
        carrier's ``send_file``. Returns how many bytes of the file went out: fewer only if it ended early."""
        data = self._head(cycle, count, more_body) if first else b""
        sent = count
        if count and cycle.sends_body:
            if cycle.chunked:
                data += b"%x\r\n" % count
            cycle.response_size += len(data)
            self.write(data)
            sent = await self.send_file(fd, offset, count)
            cycle.response_size += sent
            if sent < count:
                return sent
            data = b"\r\n" if cycle.chunked else b""
        if not more_body:
            data += self._last_chunk(cycle)
        if data:
            cycle.response_size += len(data)
            self.write(data)
        return sent

    def send_trailers(self, cycle, fields) -> None:
        data = b"0\r\n" + field_lines(fields) + b"\r\n"
        cycle.response_size += len(data)
        self.write(data)

    def _last_chunk(self, cycle) -> bytes:
        # The last chunk ends a chunked body, unless trailer fields follow it (send_trailers writes both).
        return b"0\r\n\r\n" if cycle.chunked and cycle.trailers != SEND_TRAILERS else b""

    def _head(self, cycle, length: int, more_body: bool) -> bytes:
        """The response head, made with the first body piece (so an error until then can still replace it).
        ``length`` is that piece's size: the whole body's when no more follows."""
        framing = b""
        if cycle.no_body:
            if cycle.status == 204:
                cycle.content_length = -1  # RFC 9110 8.6: no Content-Length in a 204
        elif cycle.trailers == SEND_TRAILERS:
            # RFC 9112 6.2: no Content-Length beside Transfer-Encoding; the app's length is not sent.
            cycle.content_length = -1
            cycle.chunked = True
            framing = b"transfer-encoding: chunked\r\n"
        elif cycle.content_length >= 0:
            framing = content_length_line(cycle.content_length)
        elif not more_body:
            cycle.content_length = length
            framing = content_length_line(length)
        elif cycle.http_version == "1.1":
            cycle.chunked = not cycle.is_head
            framing = b"transfer-encoding: chunked\r\n"
        else:
            cycle.keep_alive = False  # HTTP/1.0 without a length: the end of the body is the close
        request = cycle.request
        if self.closing or not request.keep_alive:
            cycle.keep_alive = False
        continue_first = False
        if cycle.continue_pending and not cycle.body_complete:
            # RFC 9110 10.1.1: a final response to `Expect: 100-continue` before the 100 leaves the client
            # free to send the body or not, and what follows on the wire could then be either the body or
            # the next request. So the head must settle it. A small announced body is asked for (a 100
            # first, as nginx does when it discards a body) and read and dropped after the response, so
            # the connection carries on; any other body is refused by closing, and the head says so.
            cycle.continue_pending = False
            announced = request.content_length
            if cycle.keep_alive and 0 < announced <= CONTINUE_TO_DISCARD:
                continue_first = True
            else:
                cycle.keep_alive = False
        if not cycle.keep_alive:
            connection = b"connection: close\r\n"
        elif cycle.http_version == "1.0":
            connection = b"connection: keep-alive\r\n"
        else:
            connection = b""
        parts = [status_line(cycle.status), self.default_headers(cycle.has_date, cycle.has_server)]
        for name, value in cycle.response_fields:
            parts.append(name)
            parts.append(b": ")
            parts.append(value)
            parts.append(b"\r\n")
        parts.append(framing)
        parts.append(connection)
        parts.append(b"\r\n")
        head = b"".join(parts)
        return CONTINUE + head if continue_first else head
