"""The pure-Python reference HTTP/2 core: the server side of one connection (RFC 9113, HPACK from RFC 7541).

Sans-I/O, like the HTTP/1.1 parser and the WebSocket framer: bytes in, events and bytes out, no sockets, no
clock, no asyncio.

``H2Connection(max_concurrent_streams=100, initial_window_size=65535, connection_window_size=1048576,
max_frame_size=16384, max_header_list_size=65536, header_table_size=4096, enable_connect_protocol=True)``

    ``initiate()`` queues the server's connection preface (its SETTINGS, and a WINDOW_UPDATE that opens the
    connection window past the RFC's 65,535 bytes). ``initiate_upgrade(settings)`` does the same for a
    connection upgraded from HTTP/1.1 (RFC 7540 3.2): ``settings`` is the decoded HTTP2-Settings header, and
    stream 1 is the upgraded request, half-closed, awaiting its response.

    ``feed(data) -> list`` takes bytes from the client (the preface first) and returns the events they
    complete (``asgicy.h2.events``); a connection error ends the list with an ``H2ProtocolError``, after which
    the connection takes nothing more. Errors that end one stream reset it (RST_STREAM queued) and report
    ``StreamReset``. The core answers SETTINGS and PING itself.

    ``send_headers(stream_id, status, headers, end_stream)``, ``send_data(stream_id, data, end_stream)``,
    ``send_trailers(stream_id, headers)``, ``reset_stream(stream_id, error_code)``, ``ping(payload)``,
    ``close(error_code)`` (GOAWAY: the streams opened so far still finish) queue frames. Response data never
    goes past a flow-control window: what does not fit waits in the stream (``pending(stream_id)`` says how
    much) and goes out when the client opens its windows (``WindowUpdated``). ``acknowledge(stream_id, size)``
    gives back window for request body the app has read, so a client can never make the server hold more
    than the windows it granted.

    ``data_to_send() -> bytes`` returns and forgets the bytes queued for the client (bytes-like: the Cython
    core hands over its bytearray); ``pieces_to_send() -> list`` the same as pieces to write in order.

Abuse is bounded (the security page lists the numbers): too many concurrent streams are refused
(REFUSED_STREAM); a client that resets or gets refused more streams than it lets finish (rapid reset,
CVE-2023-44487), or that sends long runs of frames that carry no request and no data (PING, SETTINGS,
PRIORITY, empty DATA or CONTINUATION floods), gets GOAWAY ENHANCE_YOUR_CALM; a header block is bounded in
size and in CONTINUATION frames while it is assembled, and in decoded size by ``max_header_list_size``
(the request gets 431).
"""

from __future__ import annotations

import struct

from . import errors as E
from .errors import H2ProtocolError, HeaderListTooLarge
from .events import (
    DataReceived,
    GoAwayReceived,
    PingAcknowledged,
    RequestReceived,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from .grammar import (
    CANCEL,
    CLOSED,
    CONNECTION_SPECIFIC,
    CONTINUATION,
    DATA,
    DEFAULT_INITIAL_WINDOW_SIZE,
    DEFAULT_MAX_FRAME_SIZE,
    ENHANCE_YOUR_CALM,
    FLAG_ACK,
    FLAG_END_HEADERS,
    FLAG_END_STREAM,
    FLAG_PADDED,
    FLAG_PRIORITY,
    FLOW_CONTROL_ERROR,
    FRAME_HEADER_SIZE,
    FRAME_SIZE_ERROR,
    GOAWAY,
    HALF_CLOSED_LOCAL,
    HALF_CLOSED_REMOTE,
    HEADERS,
    IDLE,
    MAX_FRAME_SIZE_LIMIT,
    MAX_WINDOW_SIZE,
    NO_ERROR,
    OPEN,
    PING,
    PREFACE,
    PRIORITY,
    PROTOCOL_ERROR,
    PUSH_PROMISE,
    RECV_DATA,
    RECV_DATA_END,
    RECV_HEADERS,
    RECV_HEADERS_END,
    RECV_RST,
    REFUSED_STREAM,
    RST_STREAM,
    SEND_DATA,
    SEND_DATA_END,
    SEND_HEADERS,
    SEND_HEADERS_END,
    SEND_RST,
    SETTINGS,
    SETTINGS_ENABLE_CONNECT_PROTOCOL,
    SETTINGS_ENABLE_PUSH,
    SETTINGS_HEADER_TABLE_SIZE,
    SETTINGS_INITIAL_WINDOW_SIZE,
    SETTINGS_MAX_CONCURRENT_STREAMS,
    SETTINGS_MAX_FRAME_SIZE,
    SETTINGS_MAX_HEADER_LIST_SIZE,
    STREAM_CLOSED,
    STREAM_ERRORS,
    STREAM_TRANSITIONS,
    WINDOW_UPDATE,
)
from .hpack import Decoder, Encoder

IMPLEMENTATION = "python"

# Where the reader is: waiting for the client's preface, reading frames, or done (an error, or closed).
READING_PREFACE, READING_FRAMES, FAILED = range(3)

# Bounds on what a client can make the server do without making progress (a request or body data). Each is
# generous for a real client: browsers send a handful of SETTINGS and PINGs per connection.
MAX_IDLE_FRAMES = 1000          # PING, SETTINGS, PRIORITY, empty DATA/CONTINUATION in a row
MAX_CONTINUATIONS = 64          # CONTINUATION frames in one header block
RESETS_ALLOWED = 200            # streams reset or refused beyond those that completed (rapid reset)
RECENTLY_CLOSED = 512           # closed streams remembered, to tell a late frame from a bad stream id

_FRAME_HEADER = struct.Struct(">I B I")  # (length << 8 | type), flags, stream id; see _frame()
_UINT32 = struct.Struct(">I")
_SETTING = struct.Struct(">HI")
_GOAWAY = struct.Struct(">II")


class _Stream:
    """One stream's state: where it is in the state machine, its windows, and the response data waiting."""

    __slots__ = ("stream_id", "state", "send_window", "recv_window", "recv_unacked", "outbound", "pending",
                 "end_queued", "trailers", "content_length", "received", "announced")

    def __init__(self, stream_id: int, send_window: int, recv_window: int) -> None:
        self.stream_id = stream_id
        self.state = IDLE
        self.send_window = send_window
        self.recv_window = recv_window
        self.recv_unacked = 0  # body bytes the app read that were not yet given back with WINDOW_UPDATE
        self.outbound: list = []  # response data waiting for window, in order
        self.pending = 0  # how many bytes outbound holds
        self.end_queued = False  # END_STREAM goes out once outbound is empty
        self.trailers = None  # an encoded trailer block to send with END_STREAM instead of empty DATA
        self.content_length = -1
        self.received = 0
        self.announced = False  # RequestReceived was reported: the server must hear how the stream ends


class _StreamError(Exception):
    """Raised inside the core to reset one stream (never past ``feed``)."""

    def __init__(self, stream_id: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.stream_id = stream_id
        self.error_code = error_code


class H2Connection:
    """The server side of one HTTP/2 connection. See the module docstring for the API."""

    def __init__(self, max_concurrent_streams: int = 100, initial_window_size: int = DEFAULT_INITIAL_WINDOW_SIZE,
                 connection_window_size: int = 1024 * 1024, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
                 max_header_list_size: int = 65536, header_table_size: int = 4096,
                 enable_connect_protocol: bool = True) -> None:
        # What we announce (our SETTINGS) and enforce.
        self.max_concurrent_streams = max_concurrent_streams
        self.initial_window_size = initial_window_size
        self.connection_window_size = connection_window_size
        self.max_frame_size = max_frame_size
        self.max_header_list_size = max_header_list_size
        self.header_table_size = header_table_size
        self.enable_connect_protocol = enable_connect_protocol
        # A header block being assembled may take this much before it is refused as a flood: the encoded size
        # of a list is at most a little over its decoded size for any sane encoder.
        self.max_header_block = max(2 * max_header_list_size, 4 * DEFAULT_MAX_FRAME_SIZE)
        # What the client announced (RFC 9113 6.5.2 defaults until its SETTINGS arrive).
        self.peer_initial_window_size = DEFAULT_INITIAL_WINDOW_SIZE
        self.peer_max_frame_size = DEFAULT_MAX_FRAME_SIZE
        self.peer_enable_push = True
        self.settings_acknowledged = False  # the client has acknowledged our SETTINGS
        # Connection flow control (RFC 9113 6.9.1).
        self.send_window = DEFAULT_INITIAL_WINDOW_SIZE
        self.recv_window = DEFAULT_INITIAL_WINDOW_SIZE
        self.recv_unacked = 0
        self.decoder = Decoder(header_table_size, max_header_list_size)
        self.encoder = Encoder()
        self.streams: dict = {}  # the streams not yet closed, by id
        # Streams recently closed, by id: True if the server reset them (ordered: the oldest is forgotten first).
        self.recently_closed: dict = {}
        self.last_stream_id = 0  # the highest stream id the client opened (RFC 9113 5.1.1)
        self.goaway_sent = False
        self.goaway_received = False
        self._state = READING_PREFACE
        self._buf = bytearray()
        self._out = bytearray()
        self._error = None
        # The header block being assembled: the stream it opens or ends, its fragments, and its flags.
        self._block_stream = 0
        self._block = bytearray()
        self._block_end_stream = False
        self._block_continuations = 0
        self._block_dependency = -1
        # Abuse budgets (module constants above).
        self._idle_frames = 0
        self._resets = 0
        self._events = None  # the list feed() returns, while it runs

    # -- connection setup -------------------------------------------------------------------------------------

    def initiate(self) -> None:
        """Queues the server preface: SETTINGS (RFC 9113 3.4), then the connection window we grant."""
        settings = [
            (SETTINGS_MAX_CONCURRENT_STREAMS, self.max_concurrent_streams),
            (SETTINGS_INITIAL_WINDOW_SIZE, self.initial_window_size),
            (SETTINGS_MAX_FRAME_SIZE, self.max_frame_size),
            (SETTINGS_MAX_HEADER_LIST_SIZE, self.max_header_list_size),
            (SETTINGS_ENABLE_PUSH, 0),
        ]
        if self.header_table_size != 4096:
            settings.append((SETTINGS_HEADER_TABLE_SIZE, self.header_table_size))
        if self.enable_connect_protocol:
            settings.append((SETTINGS_ENABLE_CONNECT_PROTOCOL, 1))
        self._frame(SETTINGS, 0, 0, b"".join(_SETTING.pack(*pair) for pair in settings))
        if self.connection_window_size > self.recv_window:
            self._frame(WINDOW_UPDATE, 0, 0, _UINT32.pack(self.connection_window_size - self.recv_window))
            self.recv_window = self.connection_window_size

    def initiate_upgrade(self, settings: bytes) -> None:
        """A connection upgraded from HTTP/1.1 with ``Upgrade: h2c`` (RFC 7540 3.2): ``settings`` is the
        client's HTTP2-Settings payload, applied as if it came in a SETTINGS frame (and not acknowledged, 3.2.1).
        Stream 1 carries the upgraded request, whose body was read as HTTP/1.1: it is half-closed (remote)."""
        self.initiate()
        if len(settings) % 6:
            raise H2ProtocolError(PROTOCOL_ERROR, "HTTP2-Settings is not a whole number of settings")
        self._apply_settings(settings)
        stream = self._new_stream(1)
        stream.state = HALF_CLOSED_REMOTE
        stream.announced = True
        self.last_stream_id = 1

    @property
    def in_head(self) -> bool:
        """True while the client's preface, or a header block, has begun but is not complete: what the server
        bounds with its head timeout (the slowloris of HTTP/2)."""
        return self._state == READING_PREFACE or self._block_stream != 0

    # -- bytes in ---------------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list:
        if self._state == FAILED:
            return [self._error] if self._error is not None else []
        self._buf += data
        events = self._events = []
        try:
            self._run()
        except H2ProtocolError as exc:
            self._fail(exc)
            events.append(exc)
        self._events = None
        return events

    def _fail(self, exc: H2ProtocolError) -> None:
        """A connection error (RFC 9113 5.4.1): GOAWAY with the last stream we processed, then nothing more."""
        self._state = FAILED
        self._error = exc
        self._buf.clear()
        self._frame(GOAWAY, 0, 0, _GOAWAY.pack(self.last_stream_id, exc.error_code) + exc.message.encode()[:256])
        self.goaway_sent = True

    def _run(self) -> None:
        buf = self._buf
        if self._state == READING_PREFACE:
            if buf[:len(PREFACE)] != PREFACE[:len(buf)]:
                raise H2ProtocolError(PROTOCOL_ERROR, E.BAD_PREFACE)  # wrong from its first bytes: say so now
            if len(buf) < len(PREFACE):
                return
            del buf[:len(PREFACE)]
            self._state = READING_FRAMES
        position = 0
        try:
            while len(buf) - position >= FRAME_HEADER_SIZE:
                length_type, flags, stream_id = _FRAME_HEADER.unpack_from(buf, position)
                length = length_type >> 8
                if length > self.max_frame_size:
                    raise H2ProtocolError(FRAME_SIZE_ERROR, f"a frame of {length} bytes, above "
                                          f"SETTINGS_MAX_FRAME_SIZE {self.max_frame_size} (RFC 9113 4.2)")
                end = position + FRAME_HEADER_SIZE + length
                if end > len(buf):
                    break
                payload = bytes(buf[position + FRAME_HEADER_SIZE:end])
                position = end
                try:
                    self._on_frame(length_type & 0xFF, flags, stream_id & 0x7FFFFFFF, payload)
                except _StreamError as exc:
                    self._reset(exc.stream_id, exc.error_code)
                if self._state == FAILED:
                    break
        finally:
            del buf[:position]

    def _on_frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if self._block_stream and kind != CONTINUATION:
            raise H2ProtocolError(PROTOCOL_ERROR, f"a {kind} frame inside a header block: only CONTINUATION may "
                                  "follow a HEADERS frame without END_HEADERS (RFC 9113 6.10)")
        if kind == DATA:
            self._on_data(flags, stream_id, payload)
        elif kind == HEADERS:
            self._on_headers(flags, stream_id, payload)
        elif kind == CONTINUATION:
            self._on_continuation(flags, stream_id, payload)
        elif kind == SETTINGS:
            self._on_settings(flags, stream_id, payload)
        elif kind == WINDOW_UPDATE:
            self._on_window_update(stream_id, payload)
        elif kind == RST_STREAM:
            self._on_rst_stream(stream_id, payload)
        elif kind == PING:
            self._on_ping(flags, stream_id, payload)
        elif kind == PRIORITY:
            self._on_priority(stream_id, payload)
        elif kind == GOAWAY:
            self._on_goaway(stream_id, payload)
        elif kind == PUSH_PROMISE:
            raise H2ProtocolError(PROTOCOL_ERROR, "PUSH_PROMISE from a client (RFC 9113 8.4)")
        # Any other type is an extension we do not know: ignored (RFC 9113 4.1, 5.5).

    def _idle_frame(self) -> None:
        """A frame that asks work of the server but carries no request or body."""
        self._idle_frames += 1
        if self._idle_frames > MAX_IDLE_FRAMES:
            raise H2ProtocolError(ENHANCE_YOUR_CALM, f"more than {MAX_IDLE_FRAMES} frames in a row with no request "
                                  "and no data (a flood: RFC 9113 10.5)")

    @staticmethod
    def _unpad(flags: int, payload: bytes, kind: str) -> bytes:
        """RFC 9113 6.1, 6.2: the Pad Length byte and the padding it announces, removed."""
        if not flags & FLAG_PADDED:
            return payload
        if not payload or payload[0] >= len(payload):
            raise H2ProtocolError(PROTOCOL_ERROR, f"{kind} padding is as long as the payload or longer "
                                  "(RFC 9113 6.1)")
        return payload[1:len(payload) - payload[0]]

    # -- streams ----------------------------------------------------------------------------------------------

    def _new_stream(self, stream_id: int) -> _Stream:
        window = self.initial_window_size
        if not self.settings_acknowledged:
            # Until the client acknowledges our SETTINGS it may use the default window (RFC 9113 6.5.3).
            window = max(window, DEFAULT_INITIAL_WINDOW_SIZE)
        stream = _Stream(stream_id, self.peer_initial_window_size, window)
        self.streams[stream_id] = stream
        return stream

    def _move(self, stream: _Stream, event: int) -> None:
        """Moves ``stream`` along the state table (grammar.STREAM_TRANSITIONS); a pair the table lacks is the
        error STREAM_ERRORS names."""
        after = STREAM_TRANSITIONS.get((stream.state, event))
        if after is None:
            code, whole_connection = STREAM_ERRORS[(stream.state, event)]
            message = f"frame not allowed on stream {stream.stream_id} in its state (RFC 9113 5.1)"
            if whole_connection:
                raise H2ProtocolError(code, message)
            raise _StreamError(stream.stream_id, code, message)
        stream.state = after
        if after == CLOSED:
            self._forget(stream)

    def _forget(self, stream: _Stream) -> None:
        # (Body the server received but the app never read is still owed to the connection window: the server
        # gives it back with acknowledge(), which works after the stream is gone.)
        self.streams.pop(stream.stream_id, None)
        self._remember_closed(stream.stream_id, False)

    def _remember_closed(self, stream_id: int, reset: bool) -> None:
        closed = self.recently_closed
        closed[stream_id] = reset or closed.get(stream_id, False)
        if len(closed) > RECENTLY_CLOSED:
            del closed[next(iter(closed))]

    def _closed_stream_error(self, stream_id: int, kind: str) -> None:
        """A frame for a stream that is not open: ignored if the server reset it (frames may have crossed its
        RST_STREAM, RFC 9113 5.1 'closed'), else a connection error: STREAM_CLOSED for a stream we know was
        closed, PROTOCOL_ERROR for one never opened (5.1.1: the client skipped it) or closed long ago."""
        reset = self.recently_closed.get(stream_id)
        if reset:
            return
        if reset is None:
            raise H2ProtocolError(PROTOCOL_ERROR, f"{kind} on stream {stream_id}, which is not open and was not "
                                  "recently (RFC 9113 5.1.1)")
        raise H2ProtocolError(STREAM_CLOSED, f"{kind} on closed stream {stream_id} (RFC 9113 5.1)")  # STREAM_CLOSED

    def _reset(self, stream_id: int, error_code: int) -> None:
        """A stream error (RFC 9113 5.4.2): RST_STREAM, and the stream is closed for good."""
        self._frame(RST_STREAM, 0, stream_id, _UINT32.pack(error_code))
        self._remember_closed(stream_id, True)
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream.state = CLOSED
            stream.outbound.clear()
            stream.pending = 0
            self._forget(stream)
            if stream.announced:
                self._events.append(StreamReset(stream_id, error_code, False))
        if error_code != NO_ERROR:
            self._count_reset()

    def _count_reset(self) -> None:
        self._resets += 1
        if self._resets > RESETS_ALLOWED:
            raise H2ProtocolError(ENHANCE_YOUR_CALM, f"more than {RESETS_ALLOWED} streams reset or refused beyond "
                                  "those that completed (rapid reset, CVE-2023-44487)")

    # -- frames in --------------------------------------------------------------------------------------------

    def _on_data(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "DATA on stream 0 (RFC 9113 6.1)")
        flow_length = len(payload)
        data = self._unpad(flags, payload, "DATA")
        end_stream = bool(flags & FLAG_END_STREAM)
        # Connection flow control counts every DATA frame, on any stream, padding included (RFC 9113 6.9).
        if flow_length > self.recv_window:
            raise H2ProtocolError(FLOW_CONTROL_ERROR, "DATA beyond the connection window (RFC 9113 6.9.1)")
        self.recv_window -= flow_length
        stream = self.streams.get(stream_id)
        if stream is None:
            self._give_back(None, flow_length)
            self._closed_stream_error(stream_id, "DATA")
            return
        if not data and not end_stream:
            self._idle_frame()
        else:
            self._idle_frames = 0
        try:
            self._move(stream, RECV_DATA_END if end_stream else RECV_DATA)
            if flow_length > stream.recv_window:
                raise _StreamError(stream_id, FLOW_CONTROL_ERROR, "DATA beyond the stream window (RFC 9113 6.9.1)")
            stream.received += len(data)
            if stream.content_length >= 0 and (stream.received > stream.content_length or
                                               (end_stream and stream.received != stream.content_length)):
                raise _StreamError(stream_id, PROTOCOL_ERROR, "request body does not match its content-length "
                                   "(RFC 9113 8.1.1)")
        except _StreamError:
            self._give_back(None, flow_length)  # the frame is dropped, but it was counted on the connection
            raise
        stream.recv_window -= flow_length
        padding = flow_length - len(data)
        if padding:
            self._give_back(stream, padding)
        self._events.append(DataReceived(stream_id, data, flow_length, end_stream))

    def _on_headers(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "HEADERS on stream 0 (RFC 9113 6.2)")
        fragment = self._unpad(flags, payload, "HEADERS")
        dependency = -1
        if flags & FLAG_PRIORITY:
            if len(fragment) < 5:
                raise H2ProtocolError(FRAME_SIZE_ERROR, "HEADERS too short for its priority fields (RFC 9113 6.2)")
            dependency = _UINT32.unpack_from(fragment)[0] & 0x7FFFFFFF
            fragment = fragment[5:]
        self._block_stream = stream_id
        self._block = bytearray(fragment)
        self._block_end_stream = bool(flags & FLAG_END_STREAM)
        self._block_continuations = 0
        self._block_dependency = dependency
        if flags & FLAG_END_HEADERS:
            self._end_block()
        else:
            self._check_block_size()

    def _on_continuation(self, flags: int, stream_id: int, payload: bytes) -> None:
        if not self._block_stream or stream_id != self._block_stream:
            raise H2ProtocolError(PROTOCOL_ERROR, "CONTINUATION that does not continue a header block on its "
                                  "stream (RFC 9113 6.10)")
        self._block += payload
        self._block_continuations += 1
        if not payload and not flags & FLAG_END_HEADERS:
            self._idle_frame()
        if flags & FLAG_END_HEADERS:
            self._end_block()
        else:
            self._check_block_size()

    def _check_block_size(self) -> None:
        """A header block still being assembled is buffered: bound it (the CONTINUATION flood of 2024)."""
        if len(self._block) > self.max_header_block or self._block_continuations > MAX_CONTINUATIONS:
            raise H2ProtocolError(ENHANCE_YOUR_CALM, f"a header block over {self.max_header_block} bytes or "
                                  f"{MAX_CONTINUATIONS} CONTINUATION frames (CONTINUATION flood)")

    def _end_block(self) -> None:
        """A whole header block: decode it (always, to keep HPACK's table in step), then open or end a stream."""
        stream_id = self._block_stream
        block = bytes(self._block)
        end_stream = self._block_end_stream
        self._block_stream = 0
        self._block = bytearray()
        too_large = False
        try:
            fields = self.decoder.decode(block)
        except HeaderListTooLarge:
            fields = []
            too_large = True
        if stream_id % 2 == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, f"HEADERS on even stream {stream_id}: clients open odd streams "
                                  "(RFC 9113 5.1.1)")
        stream = self.streams.get(stream_id)
        if stream is not None:
            if self._block_dependency == stream_id:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "a stream depending on itself (RFC 9113 5.3.1)")
            self._on_trailers(stream, fields, end_stream, too_large)
            return
        if stream_id <= self.last_stream_id:
            self._closed_stream_error(stream_id, "HEADERS")
            return
        self.last_stream_id = stream_id
        if self.goaway_sent:
            return  # RFC 9113 6.8: streams opened after our GOAWAY are ignored
        if self._block_dependency == stream_id:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "a stream depending on itself (RFC 9113 5.3.1)")
        self._idle_frames = 0
        stream = self._new_stream(stream_id)
        self._move(stream, RECV_HEADERS_END if end_stream else RECV_HEADERS)
        if self._active_streams() > self.max_concurrent_streams:
            raise _StreamError(stream_id, REFUSED_STREAM, "more concurrent streams than "
                               "SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 5.1.2)")
        if too_large:
            self._refuse(stream, 431, b"Request Header Fields Too Large")
            return
        request = self._request(stream, fields, end_stream)
        stream.announced = True
        self._events.append(request)

    def _active_streams(self) -> int:
        return sum(1 for stream in self.streams.values() if stream.state != IDLE)

    def _on_trailers(self, stream: _Stream, fields: list, end_stream: bool, too_large: bool) -> None:
        self._move(stream, RECV_HEADERS_END if end_stream else RECV_HEADERS)
        for name, _value in fields:
            if name.startswith(b":"):
                raise _StreamError(stream.stream_id, PROTOCOL_ERROR, "a pseudo-header field in a trailer section "
                                   "(RFC 9113 8.1)")
        if not too_large:
            fields = _regular_fields(stream.stream_id, fields, 0)[0]
        if stream.content_length >= 0 and stream.received != stream.content_length:
            raise _StreamError(stream.stream_id, PROTOCOL_ERROR, "request body does not match its content-length "
                               "(RFC 9113 8.1.1)")
        self._events.append(TrailersReceived(stream.stream_id, fields))

    def _refuse(self, stream: _Stream, status: int, body: bytes) -> None:
        """Answers a request the server will not pass on, and resets the rest of its body (RFC 9113 8.1)."""
        self.send_headers(stream.stream_id, status, [(b"content-type", b"text/plain; charset=utf-8"),
                                                     (b"content-length", b"%d" % len(body))])
        self.send_data(stream.stream_id, body, True)
        if stream.state == HALF_CLOSED_LOCAL:  # answered, and the client has more body to send: it need not
            self._frame(RST_STREAM, 0, stream.stream_id, _UINT32.pack(NO_ERROR))
            self._remember_closed(stream.stream_id, True)
            stream.state = CLOSED
            self._forget(stream)

    def _request(self, stream: _Stream, fields: list, end_stream: bool) -> RequestReceived:
        """Checks a request's header list (RFC 9113 8.2, 8.3.1, RFC 8441 4) and makes its event."""
        stream_id = stream.stream_id
        pseudo: dict = {}
        position = 0
        for name, value in fields:
            if not name.startswith(b":"):
                break
            if name not in (b":method", b":scheme", b":authority", b":path", b":protocol"):
                raise _StreamError(stream_id, PROTOCOL_ERROR, f"unknown or response pseudo-header field {name!r} "
                                   "(RFC 9113 8.3)")
            if name in pseudo:
                raise _StreamError(stream_id, PROTOCOL_ERROR, f"pseudo-header field {name!r} twice (RFC 9113 8.3.1)")
            _check_value(stream_id, name, value)
            pseudo[name] = value
            position += 1
        headers, content_length, host = _regular_fields(stream_id, fields, position)
        method = pseudo.get(b":method", b"")
        scheme = pseudo.get(b":scheme", b"")
        authority = pseudo.get(b":authority", b"")
        path = pseudo.get(b":path", b"")
        protocol = pseudo.get(b":protocol", b"")
        if not method or not _TOKEN.issuperset(method):
            raise _StreamError(stream_id, PROTOCOL_ERROR, "request without a :method token (RFC 9113 8.3.1)")
        if not _VISIBLE.issuperset(path) or not _VISIBLE.issuperset(authority) or not _VISIBLE.issuperset(scheme):
            raise _StreamError(stream_id, PROTOCOL_ERROR, "a control, space or non-ASCII byte in :path, :authority "
                               "or :scheme (RFC 3986 3)")
        if method == b"CONNECT" and b":protocol" not in pseudo:
            # RFC 9113 8.5: a plain CONNECT names only the authority to tunnel to.
            if not authority or scheme or path:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "CONNECT needs :authority and no :scheme or :path "
                                   "(RFC 9113 8.5)")
        else:
            if b":protocol" in pseudo and (method != b"CONNECT" or not self.enable_connect_protocol):
                raise _StreamError(stream_id, PROTOCOL_ERROR, ":protocol outside an extended CONNECT "
                                   "(RFC 8441 4)")
            if not scheme or not path:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "request without :scheme or with an empty :path "
                                   "(RFC 9113 8.3.1)")
            if path[0] != 0x2F and not (path == b"*" and method == b"OPTIONS"):
                raise _StreamError(stream_id, PROTOCOL_ERROR, ":path is not an absolute path or '*' with OPTIONS "
                                   "(RFC 9113 8.3.1)")
        if host is not None and authority and host != authority:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "host differs from :authority (RFC 9113 8.3.1)")
        if end_stream and content_length > 0:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "content-length announces a body the request does not "
                               "have (RFC 9113 8.1.1)")
        stream.content_length = content_length
        return RequestReceived(stream_id, method, scheme, authority, path, protocol, headers, content_length,
                               end_stream)

    def _on_settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id:
            raise H2ProtocolError(PROTOCOL_ERROR, "SETTINGS on a stream (RFC 9113 6.5)")
        if flags & FLAG_ACK:
            if payload:
                raise H2ProtocolError(FRAME_SIZE_ERROR, "SETTINGS acknowledgement with a payload (RFC 9113 6.5)")
            self.settings_acknowledged = True
            return
        if len(payload) % 6:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "SETTINGS payload not a multiple of 6 bytes (RFC 9113 6.5)")
        self._idle_frame()
        self._apply_settings(payload)
        self._frame(SETTINGS, FLAG_ACK, 0, b"")

    def _apply_settings(self, payload: bytes) -> None:
        for offset in range(0, len(payload), 6):
            identifier, value = _SETTING.unpack_from(payload, offset)
            if identifier == SETTINGS_ENABLE_PUSH:
                if value > 1:
                    raise H2ProtocolError(PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH other than 0 or 1 (RFC 9113 6.5.2)")
                self.peer_enable_push = bool(value)
            elif identifier == SETTINGS_INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW_SIZE:
                    raise H2ProtocolError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 "
                                          "(RFC 9113 6.5.2)")
                delta = value - self.peer_initial_window_size
                self.peer_initial_window_size = value
                # RFC 9113 6.9.2: the change applies to every stream's window, and may make it negative.
                for stream in self.streams.values():
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW_SIZE:
                        raise H2ProtocolError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE took a stream "
                                              "window above 2^31-1 (RFC 9113 6.9.2)")
                if delta > 0:
                    self._flush_all()
            elif identifier == SETTINGS_MAX_FRAME_SIZE:
                if not DEFAULT_MAX_FRAME_SIZE <= value <= MAX_FRAME_SIZE_LIMIT:
                    raise H2ProtocolError(PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 "
                                          "(RFC 9113 6.5.2)")
                self.peer_max_frame_size = value
            elif identifier == SETTINGS_ENABLE_CONNECT_PROTOCOL:
                if value > 1:
                    raise H2ProtocolError(PROTOCOL_ERROR, "SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1 "
                                          "(RFC 8441 3)")
            elif identifier == SETTINGS_HEADER_TABLE_SIZE:
                self.encoder.set_max_table_size(value)  # our encoder's table must fit the client's (RFC 7541 4.2)
            # The client's MAX_CONCURRENT_STREAMS and MAX_HEADER_LIST_SIZE bound what we initiate or send, which
            # is nothing and small responses; unknown settings are ignored (RFC 9113 6.5.2).

    def _on_window_update(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "WINDOW_UPDATE not 4 bytes long (RFC 9113 6.9)")
        increment = _UINT32.unpack(payload)[0] & 0x7FFFFFFF
        if stream_id == 0:
            if increment == 0:
                raise H2ProtocolError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0 for the connection (RFC 9113 6.9)")
            self.send_window += increment
            if self.send_window > MAX_WINDOW_SIZE:
                raise H2ProtocolError(FLOW_CONTROL_ERROR, "connection window above 2^31-1 (RFC 9113 6.9.1)")
            self._flush_all()
            return
        stream = self.streams.get(stream_id)
        if stream is None:
            if stream_id > self.last_stream_id:
                raise H2ProtocolError(PROTOCOL_ERROR, f"WINDOW_UPDATE on idle stream {stream_id} (RFC 9113 5.1)")
            return  # RFC 9113 5.1: WINDOW_UPDATE may arrive on a stream just closed; ignored
        if increment == 0:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "WINDOW_UPDATE of 0 (RFC 9113 6.9)")
        stream.send_window += increment
        if stream.send_window > MAX_WINDOW_SIZE:
            raise _StreamError(stream_id, FLOW_CONTROL_ERROR, "stream window above 2^31-1 (RFC 9113 6.9.1)")
        if stream.outbound or stream.end_queued:
            self._flush(stream)

    def _on_rst_stream(self, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "RST_STREAM on stream 0 (RFC 9113 6.4)")
        if len(payload) != 4:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "RST_STREAM not 4 bytes long (RFC 9113 6.4)")
        stream = self.streams.get(stream_id)
        if stream is None:
            if stream_id > self.last_stream_id:
                raise H2ProtocolError(PROTOCOL_ERROR, f"RST_STREAM on idle stream {stream_id} (RFC 9113 5.1)")
            return  # already closed: ignored (RFC 9113 5.1)
        error_code = _UINT32.unpack(payload)[0]
        announced = stream.announced
        self._move(stream, RECV_RST)
        stream.outbound.clear()
        stream.pending = 0
        if announced:
            self._events.append(StreamReset(stream_id, error_code, True))
        self._count_reset()

    def _on_ping(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id:
            raise H2ProtocolError(PROTOCOL_ERROR, "PING on a stream (RFC 9113 6.7)")
        if len(payload) != 8:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "PING not 8 bytes long (RFC 9113 6.7)")
        if flags & FLAG_ACK:
            self._events.append(PingAcknowledged(payload))
            return
        self._idle_frame()
        self._frame(PING, FLAG_ACK, 0, payload)

    def _on_priority(self, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "PRIORITY on stream 0 (RFC 9113 6.3)")
        if len(payload) != 5:
            raise _StreamError(stream_id, FRAME_SIZE_ERROR, "PRIORITY not 5 bytes long (RFC 9113 6.3)")
        self._idle_frame()
        if _UINT32.unpack_from(payload)[0] & 0x7FFFFFFF == stream_id:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "a stream depending on itself (RFC 9113 5.3.1)")
        # RFC 9113 5.3.2: the priority tree is deprecated; asgicy schedules no streams by it.

    def _on_goaway(self, stream_id: int, payload: bytes) -> None:
        if stream_id:
            raise H2ProtocolError(PROTOCOL_ERROR, "GOAWAY on a stream (RFC 9113 6.8)")
        if len(payload) < 8:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes (RFC 9113 6.8)")
        last_stream_id, error_code = _GOAWAY.unpack_from(payload)
        self.goaway_received = True
        self._events.append(GoAwayReceived(error_code, last_stream_id & 0x7FFFFFFF, payload[8:]))

    # -- flow control of what the client sends --------------------------------------------------------------

    def acknowledge(self, stream_id: int, size: int) -> None:
        """The app read ``size`` bytes of ``stream_id``'s body: let the client send that much more."""
        if size <= 0:
            return
        self._give_back(self.streams.get(stream_id), size)

    def _give_back(self, stream, size: int) -> None:
        """Returns window for ``size`` bytes (to ``stream`` too, if it is still open), in WINDOW_UPDATEs batched
        until half a window is owed, so a body of small frames does not cost a frame back for each."""
        if stream is not None and stream.state in (OPEN, HALF_CLOSED_LOCAL):
            stream.recv_unacked += size
            if stream.recv_unacked >= self.initial_window_size // 2 or stream.recv_window < stream.recv_unacked:
                self._frame(WINDOW_UPDATE, 0, stream.stream_id, _UINT32.pack(stream.recv_unacked))
                stream.recv_window += stream.recv_unacked
                stream.recv_unacked = 0
        self.recv_unacked += size
        if self.recv_unacked >= self.connection_window_size // 2 or self.recv_window < self.recv_unacked:
            self._frame(WINDOW_UPDATE, 0, 0, _UINT32.pack(self.recv_unacked))
            self.recv_window += self.recv_unacked
            self.recv_unacked = 0

    # -- frames out -------------------------------------------------------------------------------------------

    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        self._out += _FRAME_HEADER.pack(len(payload) << 8 | kind, flags, stream_id)
        self._out += payload

    def _header_block(self, stream_id: int, block: bytes, end_stream: bool) -> None:
        """A header block as HEADERS and, past the client's frame size, CONTINUATION frames (RFC 9113 4.3)."""
        size = self.peer_max_frame_size
        flags = FLAG_END_STREAM if end_stream else 0
        if len(block) <= size:
            self._frame(HEADERS, flags | FLAG_END_HEADERS, stream_id, block)
            return
        self._frame(HEADERS, flags, stream_id, block[:size])
        for start in range(size, len(block), size):
            last = start + size >= len(block)
            self._frame(CONTINUATION, FLAG_END_HEADERS if last else 0, stream_id, block[start:start + size])

    def send_headers(self, stream_id: int, status: int, headers, end_stream: bool = False) -> None:
        """The response head (or a 1xx, which leaves the response to come) of ``stream_id``. ``headers`` are
        (name, value) pairs with lower-case names and no connection-specific fields (RFC 9113 8.2.2). Like
        every send, False (and nothing sent) if the stream is no longer open: it was reset."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return False
        if status >= 200:
            self._move(stream, SEND_HEADERS_END if end_stream else SEND_HEADERS)
        block = self.encoder.encode_response(status, headers)
        self._header_block(stream_id, block, end_stream and status >= 200)
        if end_stream and status >= 200:
            self._completed(stream)
        return True

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        """Response body for ``stream_id``; sent as the windows allow, the rest held in the stream."""
        stream = self.streams.get(stream_id)
        if stream is None or stream.end_queued:
            return False
        if data:
            stream.outbound.append(data)
            stream.pending += len(data)
        stream.end_queued = end_stream
        self._flush(stream)
        return True

    def send_trailers(self, stream_id: int, headers) -> None:
        """The trailer section that ends the response, after all the data (RFC 9113 8.1)."""
        stream = self.streams.get(stream_id)
        if stream is None or stream.end_queued:
            return False
        stream.trailers = self.encoder.encode(headers)
        stream.end_queued = True
        self._flush(stream)
        return True

    def pending(self, stream_id: int) -> int:
        """Bytes of response data waiting on ``stream_id`` for the client to open a window."""
        stream = self.streams.get(stream_id)
        return 0 if stream is None else stream.pending

    def reset_stream(self, stream_id: int, error_code: int = CANCEL) -> None:
        """Ends a stream at once (RFC 9113 6.4), say because its app failed mid-response."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        self._frame(RST_STREAM, 0, stream_id, _UINT32.pack(error_code))
        self._remember_closed(stream_id, True)
        stream.outbound.clear()
        stream.pending = 0
        self._move(stream, SEND_RST)

    def ping(self, payload: bytes) -> None:
        self._frame(PING, 0, 0, payload)

    def close(self, error_code: int = NO_ERROR, message: bytes = b"") -> None:
        """GOAWAY (RFC 9113 6.8): no new streams; those up to ``last_stream_id`` still finish."""
        if self.goaway_sent:
            return
        self.goaway_sent = True
        self._frame(GOAWAY, 0, 0, _GOAWAY.pack(self.last_stream_id, error_code) + message)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def pieces_to_send(self) -> list:
        """What data_to_send() gives, as a list of pieces to write in order (the Cython core leaves large
        DATA payloads uncopied, as pieces of their own; here it is one piece)."""
        out = self.data_to_send()
        return [out] if out else []

    def _flush_all(self) -> None:
        for stream in list(self.streams.values()):
            if stream.outbound or stream.end_queued:
                self._flush(stream)
                if self.send_window <= 0:
                    break

    def _flush(self, stream: _Stream) -> None:
        """Sends what the windows allow of ``stream``'s waiting data, in frames of at most the client's size."""
        sent = False
        outbound = stream.outbound
        while outbound:
            allowed = min(self.send_window, stream.send_window, self.peer_max_frame_size)
            if allowed <= 0:
                break
            chunk = outbound[0]
            if len(chunk) > allowed:
                outbound[0] = chunk[allowed:]
                chunk = chunk[:allowed]
            else:
                del outbound[0]
            self.send_window -= len(chunk)
            stream.send_window -= len(chunk)
            stream.pending -= len(chunk)
            end = not outbound and stream.end_queued and stream.trailers is None
            self._frame(DATA, FLAG_END_STREAM if end else 0, stream.stream_id, chunk)
            sent = True
            if end:
                self._move(stream, SEND_DATA_END)
                self._completed(stream)
                break
            self._move(stream, SEND_DATA)
        if not outbound and stream.end_queued and stream.state in (OPEN, HALF_CLOSED_REMOTE):
            if stream.trailers is not None:
                self._move(stream, SEND_HEADERS_END)
                self._header_block(stream.stream_id, stream.trailers, True)
            else:
                self._move(stream, SEND_DATA_END)
                self._frame(DATA, FLAG_END_STREAM, stream.stream_id, b"")
            self._completed(stream)
        if sent and self._events is not None and stream.announced:  # (only while feed runs)
            self._events.append(WindowUpdated(stream.stream_id))

    def _completed(self, stream: _Stream) -> None:
        """A response ended: it earns back one reset of the rapid-reset budget."""
        if self._resets:
            self._resets -= 1


def _check_value(stream_id: int, name: bytes, value: bytes) -> None:
    """RFC 9113 8.2.1: no NUL, CR or LF in a value, and no leading or trailing space or tab."""
    if value and (b"\x00" in value or b"\r" in value or b"\n" in value or value[0] in b" \t" or value[-1] in b" \t"):
        raise _StreamError(stream_id, PROTOCOL_ERROR, f"invalid bytes in the value of {name!r} (RFC 9113 8.2.1)")


_NAME_BYTES = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")
_TOKEN = _NAME_BYTES | frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_VISIBLE = frozenset(range(0x21, 0x7F))


def _regular_fields(stream_id: int, fields: list, start: int) -> tuple:
    """The regular fields of a header list from ``start`` on, checked (RFC 9113 8.2): ``(headers,
    content_length, host)``, with cookie fields joined into one (8.2.3)."""
    headers = []
    content_length = -1
    host = None
    cookies = None
    for index in range(start, len(fields)):
        name, value = fields[index]
        if not name or not _NAME_BYTES.issuperset(name):
            if name.startswith(b":"):
                raise _StreamError(stream_id, PROTOCOL_ERROR, f"pseudo-header field {name!r} after a regular field "
                                   "(RFC 9113 8.3)")
            raise _StreamError(stream_id, PROTOCOL_ERROR, f"field name {name!r} is not a lower-case token "
                               "(RFC 9113 8.2.1)")
        _check_value(stream_id, name, value)
        if name in CONNECTION_SPECIFIC:
            raise _StreamError(stream_id, PROTOCOL_ERROR, f"connection-specific field {name!r} (RFC 9113 8.2.2)")
        if name == b"te" and value != b"trailers":
            raise _StreamError(stream_id, PROTOCOL_ERROR, "te other than 'trailers' (RFC 9113 8.2.2)")
        if name == b"content-length":
            if not value.isdigit() or len(value) > 18 or (content_length >= 0 and int(value) != content_length):
                raise _StreamError(stream_id, PROTOCOL_ERROR, "invalid content-length (RFC 9110 8.6)")
            content_length = int(value)
        elif name == b"host":
            if host is not None:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "more than one host field")
            host = value
        elif name == b"cookie":
            if cookies is None:
                cookies = [value]
                headers.append(None)  # the joined cookie field goes where the first one was
                cookie_at = len(headers) - 1
            else:
                cookies.append(value)
            continue
        headers.append((name, value))
    if cookies is not None:
        headers[cookie_at] = (b"cookie", b"; ".join(cookies))
    return headers, content_length, host
