# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The HTTP/2 core in Cython: the server side of one connection, with the same API and the same behaviour as
the pure-Python reference ``reference.py`` (read that for the contract). Every core test runs against both,
and tests/sansio/test_h2_differential.py holds the two to the same events and the same bytes out for the same
input, however it is split.

What differs is only how, for speed (issue 22; the architecture page has the profiles):
- frames are read straight from the bytes of a read (a partial frame alone is kept for the next) with their
  headers as C integers, and each handler is a C method;
- frames out are written into one bytearray, their headers as bytes in place;
- a stream moves by a C array filled at import from ``grammar.STREAM_TRANSITIONS`` (the same table);
- the request's checks (RFC 9113 8.2, 8.3) loop over the bytes in C against tables of allowed bytes;
- HPACK is the Cython codec (``_hpack.pyx``), called as C.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy

from ._hpack cimport Decoder, Encoder

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

IMPLEMENTATION = "cython"

# Where the reader is: waiting for the client's preface, reading frames, or done (an error, or closed).
READING_PREFACE, READING_FRAMES, FAILED = range(3)

# Bounds on what a client can make the server do without making progress (a request or body data). Each is
# generous for a real client: browsers send a handful of SETTINGS and PINGs per connection.
MAX_IDLE_FRAMES = 1000          # PING, SETTINGS, PRIORITY, empty DATA/CONTINUATION in a row
MAX_CONTINUATIONS = 64          # CONTINUATION frames in one header block
RESETS_ALLOWED = 200            # streams reset or refused beyond those that completed (rapid reset)
RECENTLY_CLOSED = 512           # closed streams remembered, to tell a late frame from a bad stream id

_SETTING = struct.Struct(">HI")
_GOAWAY = struct.Struct(">II")

# The grammar's numbers as C ints, for the comparisons made once per frame or per stream move.
cdef int _READING_PREFACE = READING_PREFACE, _READING_FRAMES = READING_FRAMES, _FAILED = FAILED
cdef int _DATA = DATA, _HEADERS = HEADERS, _PRIORITY = PRIORITY, _RST_STREAM = RST_STREAM, _SETTINGS = SETTINGS
cdef int _PUSH_PROMISE = PUSH_PROMISE, _PING = PING, _GOAWAY_FRAME = GOAWAY, _WINDOW_UPDATE = WINDOW_UPDATE
cdef int _CONTINUATION = CONTINUATION
cdef int _FLAG_ACK = FLAG_ACK, _FLAG_END_STREAM = FLAG_END_STREAM, _FLAG_END_HEADERS = FLAG_END_HEADERS
cdef int _FLAG_PADDED = FLAG_PADDED, _FLAG_PRIORITY = FLAG_PRIORITY
cdef int _IDLE = IDLE, _OPEN = OPEN, _HALF_CLOSED_REMOTE = HALF_CLOSED_REMOTE
cdef int _HALF_CLOSED_LOCAL = HALF_CLOSED_LOCAL, _CLOSED = CLOSED
cdef int _RECV_HEADERS = RECV_HEADERS, _RECV_HEADERS_END = RECV_HEADERS_END, _RECV_DATA = RECV_DATA
cdef int _RECV_DATA_END = RECV_DATA_END, _RECV_RST = RECV_RST, _SEND_HEADERS = SEND_HEADERS
cdef int _SEND_HEADERS_END = SEND_HEADERS_END, _SEND_DATA = SEND_DATA, _SEND_DATA_END = SEND_DATA_END
cdef int _SEND_RST = SEND_RST
cdef int _NO_ERROR = NO_ERROR
cdef Py_ssize_t _HEADER_SIZE = FRAME_HEADER_SIZE
cdef long long _MAX_WINDOW = MAX_WINDOW_SIZE, _DEFAULT_WINDOW = DEFAULT_INITIAL_WINDOW_SIZE
cdef long long _MAX_IDLE_FRAMES = MAX_IDLE_FRAMES, _MAX_CONTINUATIONS = MAX_CONTINUATIONS
cdef long long _RESETS_ALLOWED = RESETS_ALLOWED
cdef Py_ssize_t _RECENTLY_CLOSED = RECENTLY_CLOSED
# DATA payloads this large go out as they are (a piece of pieces_to_send), not copied into the output buffer.
cdef Py_ssize_t _LARGE_PAYLOAD = 8192

# The stream state table (grammar.STREAM_TRANSITIONS) as a C array: the state after (state, event), or -1
# where the table has no entry (then grammar.STREAM_ERRORS says which error).
cdef enum:
    STATES = 5
    STREAM_EVENTS = 10
cdef int _next_state[STATES][STREAM_EVENTS]
for _state in range(STATES):
    for _event in range(STREAM_EVENTS):
        _next_state[_state][_event] = -1
for (_state, _event), _after in STREAM_TRANSITIONS.items():
    _next_state[_state][_event] = _after

# Allowed bytes, as 256-entry tables: field names (RFC 9113 8.2.1: lower-case tokens), tokens (:method),
# visible ASCII (:path, :authority, :scheme; RFC 3986 3).
cdef unsigned char _name_byte[256]
cdef unsigned char _token_byte[256]
cdef unsigned char _visible_byte[256]
for _byte in range(256):
    _name_byte[_byte] = _byte in b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
    _token_byte[_byte] = _name_byte[_byte] or 0x41 <= _byte <= 0x5A
    _visible_byte[_byte] = 0x21 <= _byte < 0x7F


# A request's pseudo-header fields (RFC 9113 8.3.1, RFC 8441 4), each to its slot in _request's list.
cdef dict _PSEUDO_SLOT = {b":method": 0, b":scheme": 1, b":authority": 2, b":path": 3, b":protocol": 4}


cdef bint _all_of(bytes value, const unsigned char *table):
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(value)
    cdef Py_ssize_t i
    for i in range(PyBytes_GET_SIZE(value)):
        if not table[p[i]]:
            return False
    return True


cdef class _Stream:
    """One stream's state: where it is in the state machine, its windows, and the response data waiting."""

    cdef public long long stream_id, send_window, recv_window, recv_unacked, pending, content_length, received
    cdef public int state
    cdef public list outbound
    cdef public bint end_queued, announced
    cdef public object trailers

    def __init__(self, long long stream_id, long long send_window, long long recv_window):
        self.stream_id = stream_id
        self.state = _IDLE
        self.send_window = send_window
        self.recv_window = recv_window
        self.recv_unacked = 0  # body bytes the app read that were not yet given back with WINDOW_UPDATE
        self.outbound = []  # response data waiting for window, in order
        self.pending = 0  # how many bytes outbound holds
        self.end_queued = False  # END_STREAM goes out once outbound is empty
        self.trailers = None  # an encoded trailer block to send with END_STREAM instead of empty DATA
        self.content_length = -1
        self.received = 0
        self.announced = False  # RequestReceived was reported: the server must hear how the stream ends


class _StreamError(Exception):
    """Raised inside the core to reset one stream (never past ``feed``)."""

    def __init__(self, stream_id: int, error_code: int, message: str):
        super().__init__(message)
        self.stream_id = stream_id
        self.error_code = error_code


cdef class H2Connection:
    """The server side of one HTTP/2 connection. See reference.py for the API."""

    cdef public long long max_concurrent_streams, initial_window_size, connection_window_size, max_frame_size
    cdef public long long max_header_list_size, header_table_size, max_header_block
    cdef public long long peer_initial_window_size, peer_max_frame_size
    cdef public long long send_window, recv_window, recv_unacked, last_stream_id
    cdef public bint enable_connect_protocol, peer_enable_push, settings_acknowledged, goaway_sent, goaway_received
    cdef public Decoder decoder
    cdef public Encoder encoder
    cdef public dict streams, recently_closed
    cdef int _state
    cdef bytearray _buf, _out, _block
    cdef list _pieces
    cdef object _error
    cdef list _events
    cdef long long _block_stream, _block_continuations, _block_dependency, _idle_frames, _resets
    cdef bint _block_end_stream

    def __init__(self, max_concurrent_streams=100, initial_window_size=DEFAULT_INITIAL_WINDOW_SIZE,
                 connection_window_size=1024 * 1024, max_frame_size=DEFAULT_MAX_FRAME_SIZE,
                 max_header_list_size=65536, header_table_size=4096, enable_connect_protocol=True):
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
        self.streams = {}  # the streams not yet closed, by id
        # Streams recently closed, by id: True if the server reset them (ordered: the oldest is forgotten first).
        self.recently_closed = {}
        self.last_stream_id = 0  # the highest stream id the client opened (RFC 9113 5.1.1)
        self.goaway_sent = False
        self.goaway_received = False
        self._state = _READING_PREFACE
        self._buf = bytearray()  # the start of a frame (or the preface) that a read cut off
        self._out = bytearray()
        self._pieces = []  # what went out before _out: earlier _outs, and large DATA payloads as they are
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

    def initiate(self):
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
        payload = b"".join([_SETTING.pack(*pair) for pair in settings])
        self._frame(_SETTINGS, 0, 0, payload)
        if self.connection_window_size > self.recv_window:
            self._frame_u32(_WINDOW_UPDATE, 0, self.connection_window_size - self.recv_window)
            self.recv_window = self.connection_window_size

    def initiate_upgrade(self, settings: bytes):
        """A connection upgraded from HTTP/1.1 with ``Upgrade: h2c`` (RFC 7540 3.2): ``settings`` is the
        client's HTTP2-Settings payload, applied as if it came in a SETTINGS frame (and not acknowledged, 3.2.1).
        Stream 1 carries the upgraded request, whose body was read as HTTP/1.1: it is half-closed (remote)."""
        self.initiate()
        if len(settings) % 6:
            raise H2ProtocolError(PROTOCOL_ERROR, "HTTP2-Settings is not a whole number of settings")
        self._apply_settings(settings)
        stream = self._new_stream(1)
        stream.state = _HALF_CLOSED_REMOTE
        stream.announced = True
        self.last_stream_id = 1

    @property
    def in_head(self):
        """True while the client's preface, or a header block, has begun but is not complete: what the server
        bounds with its head timeout (the slowloris of HTTP/2)."""
        return self._state == _READING_PREFACE or self._block_stream != 0

    # -- bytes in ---------------------------------------------------------------------------------------------

    def feed(self, data):
        cdef Py_ssize_t used
        if self._state == _FAILED:
            return [self._error] if self._error is not None else []
        events = self._events = []
        try:
            if self._state == _READING_PREFACE:
                self._buf += data
                if self._preface():
                    data = bytes(self._buf)
                    self._buf = bytearray()
                    self._read(data)
            else:
                self._read(bytes(data))
        except H2ProtocolError as exc:
            self._fail(exc)
            events.append(exc)
        if self._state == _FAILED:
            self._buf = bytearray()
        self._events = None
        return events

    cdef int _read(self, bytes data) except -1:
        """Frames from ``data``, read where they are: only a frame cut off by the end of a read is copied (into
        ``_buf``), and completed from the next read's first bytes."""
        cdef Py_ssize_t offset = 0, size = PyBytes_GET_SIZE(data), length, take, used
        cdef const unsigned char *head
        buf = self._buf
        while PyByteArray_GET_SIZE(buf) and offset < size:
            if PyByteArray_GET_SIZE(buf) < _HEADER_SIZE:
                take = min(_HEADER_SIZE - PyByteArray_GET_SIZE(buf), size - offset)
                buf += data[offset:offset + take]
                offset += take
                if PyByteArray_GET_SIZE(buf) < _HEADER_SIZE:
                    return 0
            head = <const unsigned char *>PyByteArray_AS_STRING(buf)
            length = (<Py_ssize_t>head[0] << 16) | (<Py_ssize_t>head[1] << 8) | head[2]
            if length <= self.max_frame_size:
                take = min(_HEADER_SIZE + length - PyByteArray_GET_SIZE(buf), size - offset)
                buf += memoryview(data)[offset:offset + take]
                offset += take
            used = self._run(buf, 0)  # the frame, if it is whole now (or the error of its size)
            del buf[:used]
            if self._state == _FAILED:
                return 0
        if offset < size:
            used = self._run(data, offset)
            if used < size and self._state != _FAILED:
                buf += memoryview(data)[used:]
        return 0

    cdef bint _preface(self) except -1:
        """True once the client's preface (RFC 9113 3.4) has come whole, and is taken off the buffer."""
        buf = self._buf
        if buf[:len(PREFACE)] != PREFACE[:len(buf)]:
            raise H2ProtocolError(PROTOCOL_ERROR, E.BAD_PREFACE)  # wrong from its first bytes: say so now
        if len(buf) < len(PREFACE):
            return False
        del buf[:len(PREFACE)]
        self._state = _READING_FRAMES
        return True

    def _fail(self, exc):
        """A connection error (RFC 9113 5.4.1): GOAWAY with the last stream we processed, then nothing more."""
        self._state = _FAILED
        self._error = exc
        self._buf = bytearray()
        self._frame(_GOAWAY_FRAME, 0, 0, _GOAWAY.pack(self.last_stream_id, exc.error_code) + exc.message.encode()[:256])
        self.goaway_sent = True

    cdef Py_ssize_t _run(self, object data, Py_ssize_t position) except -1:
        """Handles every whole frame in ``data`` (bytes or the buffer) from ``position`` on; returns where the
        first frame not whole starts."""
        cdef const unsigned char *p
        cdef Py_ssize_t size = len(data), length, end
        cdef int kind, flags
        cdef long long stream_id
        cdef bint is_bytes = type(data) is bytes
        while size - position >= _HEADER_SIZE:
            # (The data is not changed while its frames are handled; the pointer is taken again anyway.)
            p = <const unsigned char *>(PyBytes_AS_STRING(data) if is_bytes else PyByteArray_AS_STRING(data))
            p += position
            length = (<Py_ssize_t>p[0] << 16) | (<Py_ssize_t>p[1] << 8) | p[2]
            if length > self.max_frame_size:
                raise H2ProtocolError(FRAME_SIZE_ERROR, f"a frame of {length} bytes, above "
                                      f"SETTINGS_MAX_FRAME_SIZE {self.max_frame_size} (RFC 9113 4.2)")
            end = position + _HEADER_SIZE + length
            if end > size:
                break
            kind = p[3]
            flags = p[4]
            stream_id = ((<long long>(p[5] & 0x7F) << 24) | (<long long>p[6] << 16) | (<long long>p[7] << 8)
                         | p[8])
            payload = PyBytes_FromStringAndSize(<const char *>p + _HEADER_SIZE, length)
            position = end
            try:
                self._on_frame(kind, flags, stream_id, payload)
            except _StreamError as exc:
                self._reset(exc.stream_id, exc.error_code)
            if self._state == _FAILED:
                break
        return position

    cdef int _on_frame(self, int kind, int flags, long long stream_id, bytes payload) except -1:
        if self._block_stream and kind != _CONTINUATION:
            raise H2ProtocolError(PROTOCOL_ERROR, f"a {kind} frame inside a header block: only CONTINUATION may "
                                  "follow a HEADERS frame without END_HEADERS (RFC 9113 6.10)")
        if kind == _HEADERS:
            self._on_headers(flags, stream_id, payload)
        elif kind == _DATA:
            self._on_data(flags, stream_id, payload)
        elif kind == _WINDOW_UPDATE:
            self._on_window_update(stream_id, payload)
        elif kind == _CONTINUATION:
            self._on_continuation(flags, stream_id, payload)
        elif kind == _SETTINGS:
            self._on_settings(flags, stream_id, payload)
        elif kind == _RST_STREAM:
            self._on_rst_stream(stream_id, payload)
        elif kind == _PING:
            self._on_ping(flags, stream_id, payload)
        elif kind == _PRIORITY:
            self._on_priority(stream_id, payload)
        elif kind == _GOAWAY_FRAME:
            self._on_goaway(stream_id, payload)
        elif kind == _PUSH_PROMISE:
            raise H2ProtocolError(PROTOCOL_ERROR, "PUSH_PROMISE from a client (RFC 9113 8.4)")
        # Any other type is an extension we do not know: ignored (RFC 9113 4.1, 5.5).
        return 0

    cdef int _idle_frame(self) except -1:
        """A frame that asks work of the server but carries no request or body."""
        self._idle_frames += 1
        if self._idle_frames > _MAX_IDLE_FRAMES:
            raise H2ProtocolError(ENHANCE_YOUR_CALM, f"more than {MAX_IDLE_FRAMES} frames in a row with no request "
                                  "and no data (a flood: RFC 9113 10.5)")
        return 0

    # -- streams ----------------------------------------------------------------------------------------------

    cdef _Stream _new_stream(self, long long stream_id):
        cdef long long window = self.initial_window_size
        if not self.settings_acknowledged:
            # Until the client acknowledges our SETTINGS it may use the default window (RFC 9113 6.5.3).
            window = max(window, _DEFAULT_WINDOW)
        stream = _Stream(stream_id, self.peer_initial_window_size, window)
        self.streams[stream_id] = stream
        return stream

    cdef int _move(self, _Stream stream, int event) except -1:
        """Moves ``stream`` along the state table (grammar.STREAM_TRANSITIONS); a pair the table lacks is the
        error STREAM_ERRORS names."""
        cdef int after = _next_state[stream.state][event]
        if after < 0:
            code, whole_connection = STREAM_ERRORS[(stream.state, event)]
            message = f"frame not allowed on stream {stream.stream_id} in its state (RFC 9113 5.1)"
            if whole_connection:
                raise H2ProtocolError(code, message)
            raise _StreamError(stream.stream_id, code, message)
        stream.state = after
        if after == _CLOSED:
            self._forget(stream)
        return 0

    cdef int _forget(self, _Stream stream) except -1:
        # (Body the server received but the app never read is still owed to the connection window: the server
        # gives it back with acknowledge(), which works after the stream is gone.)
        self.streams.pop(stream.stream_id, None)
        self._remember_closed(stream.stream_id, False)
        return 0

    cdef int _remember_closed(self, long long stream_id, bint reset) except -1:
        closed = self.recently_closed
        closed[stream_id] = reset or closed.get(stream_id, False)
        if len(closed) > _RECENTLY_CLOSED:
            del closed[next(iter(closed))]
        return 0

    cdef int _closed_stream_error(self, long long stream_id, str kind) except -1:
        """A frame for a stream that is not open: ignored if the server reset it (frames may have crossed its
        RST_STREAM, RFC 9113 5.1 'closed'), else a connection error: STREAM_CLOSED for a stream we know was
        closed, PROTOCOL_ERROR for one never opened (5.1.1: the client skipped it) or closed long ago."""
        reset = self.recently_closed.get(stream_id)
        if reset:
            return 0
        if reset is None:
            raise H2ProtocolError(PROTOCOL_ERROR, f"{kind} on stream {stream_id}, which is not open and was not "
                                  "recently (RFC 9113 5.1.1)")
        raise H2ProtocolError(STREAM_CLOSED, f"{kind} on closed stream {stream_id} (RFC 9113 5.1)")  # STREAM_CLOSED

    cdef int _reset(self, long long stream_id, long long error_code) except -1:
        """A stream error (RFC 9113 5.4.2): RST_STREAM, and the stream is closed for good."""
        cdef _Stream stream
        self._frame_u32(_RST_STREAM, stream_id, error_code)
        self._remember_closed(stream_id, True)
        found = self.streams.get(stream_id)
        if found is not None:
            stream = found
            stream.state = _CLOSED
            stream.outbound.clear()
            stream.pending = 0
            self._forget(stream)
            if stream.announced:
                self._events.append(StreamReset(stream_id, error_code, False))
        if error_code != _NO_ERROR:
            self._count_reset()
        return 0

    cdef int _count_reset(self) except -1:
        self._resets += 1
        if self._resets > _RESETS_ALLOWED:
            raise H2ProtocolError(ENHANCE_YOUR_CALM, f"more than {RESETS_ALLOWED} streams reset or refused beyond "
                                  "those that completed (rapid reset, CVE-2023-44487)")
        return 0

    # -- frames in --------------------------------------------------------------------------------------------

    cdef bytes _unpad(self, int flags, bytes payload, str kind):
        """RFC 9113 6.1, 6.2: the Pad Length byte and the padding it announces, removed."""
        cdef Py_ssize_t size = PyBytes_GET_SIZE(payload)
        cdef Py_ssize_t padding
        if not flags & _FLAG_PADDED:
            return payload
        padding = (<const unsigned char *>PyBytes_AS_STRING(payload))[0] if size else 0
        if not size or padding >= size:
            raise H2ProtocolError(PROTOCOL_ERROR, f"{kind} padding is as long as the payload or longer "
                                  "(RFC 9113 6.1)")
        return payload[1:size - padding]

    cdef int _on_data(self, int flags, long long stream_id, bytes payload) except -1:
        cdef _Stream stream
        cdef long long flow_length, padding
        cdef bint end_stream
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "DATA on stream 0 (RFC 9113 6.1)")
        flow_length = PyBytes_GET_SIZE(payload)
        data = self._unpad(flags, payload, "DATA")
        end_stream = flags & _FLAG_END_STREAM
        # Connection flow control counts every DATA frame, on any stream, padding included (RFC 9113 6.9).
        if flow_length > self.recv_window:
            raise H2ProtocolError(FLOW_CONTROL_ERROR, "DATA beyond the connection window (RFC 9113 6.9.1)")
        self.recv_window -= flow_length
        found = self.streams.get(stream_id)
        if found is None:
            self._give_back(None, flow_length)
            self._closed_stream_error(stream_id, "DATA")
            return 0
        stream = found
        if not data and not end_stream:
            self._idle_frame()
        else:
            self._idle_frames = 0
        try:
            self._move(stream, _RECV_DATA_END if end_stream else _RECV_DATA)
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
        return 0

    cdef int _on_headers(self, int flags, long long stream_id, bytes payload) except -1:
        cdef long long dependency = -1
        cdef const unsigned char *p
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "HEADERS on stream 0 (RFC 9113 6.2)")
        fragment = self._unpad(flags, payload, "HEADERS")
        if flags & _FLAG_PRIORITY:
            if len(fragment) < 5:
                raise H2ProtocolError(FRAME_SIZE_ERROR, "HEADERS too short for its priority fields (RFC 9113 6.2)")
            p = <const unsigned char *>PyBytes_AS_STRING(fragment)
            dependency = ((<long long>(p[0] & 0x7F) << 24) | (<long long>p[1] << 16) | (<long long>p[2] << 8)
                          | p[3])
            fragment = fragment[5:]
        self._block_stream = stream_id
        self._block_end_stream = flags & _FLAG_END_STREAM
        self._block_continuations = 0
        self._block_dependency = dependency
        if flags & _FLAG_END_HEADERS:
            self._end_block(fragment)  # the whole block in one frame, as it nearly always is
        else:
            self._block = bytearray(fragment)
            self._check_block_size()
        return 0

    cdef int _on_continuation(self, int flags, long long stream_id, bytes payload) except -1:
        if not self._block_stream or stream_id != self._block_stream:
            raise H2ProtocolError(PROTOCOL_ERROR, "CONTINUATION that does not continue a header block on its "
                                  "stream (RFC 9113 6.10)")
        self._block += payload
        self._block_continuations += 1
        if not payload and not flags & _FLAG_END_HEADERS:
            self._idle_frame()
        if flags & _FLAG_END_HEADERS:
            block = bytes(self._block)
            self._block = bytearray()
            self._end_block(block)
        else:
            self._check_block_size()
        return 0

    cdef int _check_block_size(self) except -1:
        """A header block still being assembled is buffered: bound it (the CONTINUATION flood of 2024)."""
        if len(self._block) > self.max_header_block or self._block_continuations > _MAX_CONTINUATIONS:
            raise H2ProtocolError(ENHANCE_YOUR_CALM, f"a header block over {self.max_header_block} bytes or "
                                  f"{MAX_CONTINUATIONS} CONTINUATION frames (CONTINUATION flood)")
        return 0

    cdef int _end_block(self, bytes block) except -1:
        """A whole header block: decode it (always, to keep HPACK's table in step), then open or end a stream."""
        cdef _Stream stream
        cdef long long stream_id = self._block_stream
        cdef bint end_stream = self._block_end_stream
        cdef bint too_large = False
        cdef list fields
        self._block_stream = 0
        try:
            fields = self.decoder.decode(block)
        except HeaderListTooLarge:
            fields = []
            too_large = True
        if stream_id % 2 == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, f"HEADERS on even stream {stream_id}: clients open odd streams "
                                  "(RFC 9113 5.1.1)")
        found = self.streams.get(stream_id)
        if found is not None:
            stream = found
            if self._block_dependency == stream_id:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "a stream depending on itself (RFC 9113 5.3.1)")
            self._on_trailers(stream, fields, end_stream, too_large)
            return 0
        if stream_id <= self.last_stream_id:
            self._closed_stream_error(stream_id, "HEADERS")
            return 0
        self.last_stream_id = stream_id
        if self.goaway_sent:
            return 0  # RFC 9113 6.8: streams opened after our GOAWAY are ignored
        if self._block_dependency == stream_id:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "a stream depending on itself (RFC 9113 5.3.1)")
        self._idle_frames = 0
        stream = self._new_stream(stream_id)
        self._move(stream, _RECV_HEADERS_END if end_stream else _RECV_HEADERS)
        # (Every stream the dict holds is past idle: the count of active streams is its length.)
        if len(self.streams) > self.max_concurrent_streams:
            raise _StreamError(stream_id, REFUSED_STREAM, "more concurrent streams than "
                               "SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 5.1.2)")
        if too_large:
            self._refuse(stream, 431, b"Request Header Fields Too Large")
            return 0
        request = self._request(stream, fields, end_stream)
        stream.announced = True
        self._events.append(request)
        return 0

    cdef int _on_trailers(self, _Stream stream, list fields, bint end_stream, bint too_large) except -1:
        cdef bytes name
        self._move(stream, _RECV_HEADERS_END if end_stream else _RECV_HEADERS)
        for field in fields:
            name = <bytes>(<tuple>field)[0]
            if name.startswith(b":"):
                raise _StreamError(stream.stream_id, PROTOCOL_ERROR, "a pseudo-header field in a trailer section "
                                   "(RFC 9113 8.1)")
        if not too_large:
            fields = _regular_fields(stream.stream_id, fields, 0)[0]
        if stream.content_length >= 0 and stream.received != stream.content_length:
            raise _StreamError(stream.stream_id, PROTOCOL_ERROR, "request body does not match its content-length "
                               "(RFC 9113 8.1.1)")
        self._events.append(TrailersReceived(stream.stream_id, fields))
        return 0

    cdef int _refuse(self, _Stream stream, int status, bytes body) except -1:
        """Answers a request the server will not pass on, and resets the rest of its body (RFC 9113 8.1)."""
        self.send_headers(stream.stream_id, status, [(b"content-type", b"text/plain; charset=utf-8"),
                                                     (b"content-length", b"%d" % len(body))])
        self.send_data(stream.stream_id, body, True)
        if stream.state == _HALF_CLOSED_LOCAL:  # answered, and the client has more body to send: it need not
            self._frame_u32(_RST_STREAM, stream.stream_id, _NO_ERROR)
            self._remember_closed(stream.stream_id, True)
            stream.state = _CLOSED
            self._forget(stream)
        return 0

    cdef object _request(self, _Stream stream, list fields, bint end_stream):
        """Checks a request's header list (RFC 9113 8.2, 8.3.1, RFC 8441 4) and makes its event."""
        cdef long long stream_id = stream.stream_id
        cdef bytes name, value
        cdef list pseudo = [None, None, None, None, None]  # by _PSEUDO_SLOT
        cdef Py_ssize_t position = 0
        cdef long long content_length
        for field in fields:
            name = <bytes>(<tuple>field)[0]
            value = <bytes>(<tuple>field)[1]
            if not PyBytes_GET_SIZE(name) or PyBytes_AS_STRING(name)[0] != b":":
                break
            slot = _PSEUDO_SLOT.get(name)
            if slot is None:
                raise _StreamError(stream_id, PROTOCOL_ERROR, f"unknown or response pseudo-header field {name!r} "
                                   "(RFC 9113 8.3)")
            if pseudo[slot] is not None:
                raise _StreamError(stream_id, PROTOCOL_ERROR, f"pseudo-header field {name!r} twice (RFC 9113 8.3.1)")
            pseudo[slot] = value
            _check_value(stream_id, name, value)
            position += 1
        headers, content_length, host = _regular_fields(stream_id, fields, position)
        has_protocol = pseudo[4] is not None
        cdef bytes method = pseudo[0] or b"", scheme = pseudo[1] or b"", authority = pseudo[2] or b""
        cdef bytes path = pseudo[3] or b"", protocol = pseudo[4] or b""
        if not method or not _all_of(method, _token_byte):
            raise _StreamError(stream_id, PROTOCOL_ERROR, "request without a :method token (RFC 9113 8.3.1)")
        if not _all_of(path, _visible_byte) or not _all_of(authority, _visible_byte) or not _all_of(scheme,
                                                                                                      _visible_byte):
            raise _StreamError(stream_id, PROTOCOL_ERROR, "a control, space or non-ASCII byte in :path, :authority "
                               "or :scheme (RFC 3986 3)")
        if method == b"CONNECT" and not has_protocol:
            # RFC 9113 8.5: a plain CONNECT names only the authority to tunnel to.
            if not authority or scheme or path:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "CONNECT needs :authority and no :scheme or :path "
                                   "(RFC 9113 8.5)")
        else:
            if has_protocol and (method != b"CONNECT" or not self.enable_connect_protocol):
                raise _StreamError(stream_id, PROTOCOL_ERROR, ":protocol outside an extended CONNECT "
                                   "(RFC 8441 4)")
            if not scheme or not path:
                raise _StreamError(stream_id, PROTOCOL_ERROR, "request without :scheme or with an empty :path "
                                   "(RFC 9113 8.3.1)")
            if PyBytes_AS_STRING(path)[0] != b"/" and not (path == b"*" and method == b"OPTIONS"):
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

    cdef int _on_settings(self, int flags, long long stream_id, bytes payload) except -1:
        if stream_id:
            raise H2ProtocolError(PROTOCOL_ERROR, "SETTINGS on a stream (RFC 9113 6.5)")
        if flags & _FLAG_ACK:
            if payload:
                raise H2ProtocolError(FRAME_SIZE_ERROR, "SETTINGS acknowledgement with a payload (RFC 9113 6.5)")
            self.settings_acknowledged = True
            return 0
        if len(payload) % 6:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "SETTINGS payload not a multiple of 6 bytes (RFC 9113 6.5)")
        self._idle_frame()
        self._apply_settings(payload)
        self._frame(_SETTINGS, _FLAG_ACK, 0, b"")
        return 0

    def _apply_settings(self, payload: bytes):
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
                    (<_Stream>stream).send_window += delta
                    if (<_Stream>stream).send_window > MAX_WINDOW_SIZE:
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

    cdef int _on_window_update(self, long long stream_id, bytes payload) except -1:
        cdef _Stream stream
        cdef const unsigned char *p
        cdef long long increment
        if len(payload) != 4:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "WINDOW_UPDATE not 4 bytes long (RFC 9113 6.9)")
        p = <const unsigned char *>PyBytes_AS_STRING(payload)
        increment = (<long long>(p[0] & 0x7F) << 24) | (<long long>p[1] << 16) | (<long long>p[2] << 8) | p[3]
        if stream_id == 0:
            if increment == 0:
                raise H2ProtocolError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0 for the connection (RFC 9113 6.9)")
            self.send_window += increment
            if self.send_window > _MAX_WINDOW:
                raise H2ProtocolError(FLOW_CONTROL_ERROR, "connection window above 2^31-1 (RFC 9113 6.9.1)")
            self._flush_all()
            return 0
        found = self.streams.get(stream_id)
        if found is None:
            if stream_id > self.last_stream_id:
                raise H2ProtocolError(PROTOCOL_ERROR, f"WINDOW_UPDATE on idle stream {stream_id} (RFC 9113 5.1)")
            return 0  # RFC 9113 5.1: WINDOW_UPDATE may arrive on a stream just closed; ignored
        stream = found
        if increment == 0:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "WINDOW_UPDATE of 0 (RFC 9113 6.9)")
        stream.send_window += increment
        if stream.send_window > _MAX_WINDOW:
            raise _StreamError(stream_id, FLOW_CONTROL_ERROR, "stream window above 2^31-1 (RFC 9113 6.9.1)")
        if stream.outbound or stream.end_queued:
            self._flush(stream)
        return 0

    cdef int _on_rst_stream(self, long long stream_id, bytes payload) except -1:
        cdef _Stream stream
        cdef const unsigned char *p
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "RST_STREAM on stream 0 (RFC 9113 6.4)")
        if len(payload) != 4:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "RST_STREAM not 4 bytes long (RFC 9113 6.4)")
        found = self.streams.get(stream_id)
        if found is None:
            if stream_id > self.last_stream_id:
                raise H2ProtocolError(PROTOCOL_ERROR, f"RST_STREAM on idle stream {stream_id} (RFC 9113 5.1)")
            return 0  # already closed: ignored (RFC 9113 5.1)
        stream = found
        p = <const unsigned char *>PyBytes_AS_STRING(payload)
        error_code = (<long long>p[0] << 24) | (<long long>p[1] << 16) | (<long long>p[2] << 8) | p[3]
        announced = stream.announced
        self._move(stream, _RECV_RST)
        stream.outbound.clear()
        stream.pending = 0
        if announced:
            self._events.append(StreamReset(stream_id, error_code, True))
        self._count_reset()
        return 0

    cdef int _on_ping(self, int flags, long long stream_id, bytes payload) except -1:
        if stream_id:
            raise H2ProtocolError(PROTOCOL_ERROR, "PING on a stream (RFC 9113 6.7)")
        if len(payload) != 8:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "PING not 8 bytes long (RFC 9113 6.7)")
        if flags & _FLAG_ACK:
            self._events.append(PingAcknowledged(payload))
            return 0
        self._idle_frame()
        self._frame(_PING, _FLAG_ACK, 0, payload)
        return 0

    cdef int _on_priority(self, long long stream_id, bytes payload) except -1:
        cdef const unsigned char *p
        if stream_id == 0:
            raise H2ProtocolError(PROTOCOL_ERROR, "PRIORITY on stream 0 (RFC 9113 6.3)")
        if len(payload) != 5:
            raise _StreamError(stream_id, FRAME_SIZE_ERROR, "PRIORITY not 5 bytes long (RFC 9113 6.3)")
        self._idle_frame()
        p = <const unsigned char *>PyBytes_AS_STRING(payload)
        if ((<long long>(p[0] & 0x7F) << 24) | (<long long>p[1] << 16) | (<long long>p[2] << 8) | p[3]) == stream_id:
            raise _StreamError(stream_id, PROTOCOL_ERROR, "a stream depending on itself (RFC 9113 5.3.1)")
        # RFC 9113 5.3.2: the priority tree is deprecated; asgicy schedules no streams by it.
        return 0

    cdef int _on_goaway(self, long long stream_id, bytes payload) except -1:
        if stream_id:
            raise H2ProtocolError(PROTOCOL_ERROR, "GOAWAY on a stream (RFC 9113 6.8)")
        if len(payload) < 8:
            raise H2ProtocolError(FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes (RFC 9113 6.8)")
        last_stream_id, error_code = _GOAWAY.unpack_from(payload)
        self.goaway_received = True
        self._events.append(GoAwayReceived(error_code, last_stream_id & 0x7FFFFFFF, payload[8:]))
        return 0

    # -- flow control of what the client sends --------------------------------------------------------------

    def acknowledge(self, stream_id, size):
        """The app read ``size`` bytes of ``stream_id``'s body: let the client send that much more."""
        if size <= 0:
            return
        self._give_back(self.streams.get(stream_id), size)

    cdef int _give_back(self, object found, long long size) except -1:
        """Returns window for ``size`` bytes (to the stream ``found`` too, if it is still open), in WINDOW_UPDATEs
        batched until half a window is owed, so a body of small frames does not cost a frame back for each."""
        cdef _Stream stream
        if found is not None:
            stream = found
            if stream.state == _OPEN or stream.state == _HALF_CLOSED_LOCAL:
                stream.recv_unacked += size
                if stream.recv_unacked >= self.initial_window_size // 2 or stream.recv_window < stream.recv_unacked:
                    self._frame_u32(_WINDOW_UPDATE, stream.stream_id, stream.recv_unacked)
                    stream.recv_window += stream.recv_unacked
                    stream.recv_unacked = 0
        self.recv_unacked += size
        if self.recv_unacked >= self.connection_window_size // 2 or self.recv_window < self.recv_unacked:
            self._frame_u32(_WINDOW_UPDATE, 0, self.recv_unacked)
            self.recv_window += self.recv_unacked
            self.recv_unacked = 0
        return 0

    # -- frames out -------------------------------------------------------------------------------------------

    cdef unsigned char *_frame_space(self, int kind, int flags, long long stream_id, Py_ssize_t length,
                                     bint inline=True) except NULL:
        """Appends a frame header for a payload of ``length`` bytes, and room for the payload unless it goes
        out as a piece of its own (``inline`` False); returns where the payload goes."""
        cdef Py_ssize_t at = PyByteArray_GET_SIZE(self._out)
        cdef unsigned char *o
        PyByteArray_Resize(self._out, at + _HEADER_SIZE + (length if inline else 0))
        o = <unsigned char *>PyByteArray_AS_STRING(self._out) + at
        o[0] = (length >> 16) & 0xFF
        o[1] = (length >> 8) & 0xFF
        o[2] = length & 0xFF
        o[3] = kind
        o[4] = flags
        o[5] = (stream_id >> 24) & 0x7F
        o[6] = (stream_id >> 16) & 0xFF
        o[7] = (stream_id >> 8) & 0xFF
        o[8] = stream_id & 0xFF
        return o + _HEADER_SIZE

    cdef int _frame(self, int kind, int flags, long long stream_id, bytes payload) except -1:
        cdef Py_ssize_t length = PyBytes_GET_SIZE(payload)
        memcpy(self._frame_space(kind, flags, stream_id, length), PyBytes_AS_STRING(payload), length)
        return 0

    cdef int _frame_view(self, int kind, int flags, long long stream_id, object payload) except -1:
        """A frame whose payload is any bytes-like object (a slice of a body). A large one is not copied:
        it becomes a piece of the output of its own, after its frame header (see pieces_to_send)."""
        cdef const unsigned char[::1] view = payload
        cdef Py_ssize_t length = view.shape[0]
        cdef unsigned char *o
        if length >= _LARGE_PAYLOAD:
            self._frame_space(kind, flags, stream_id, length, False)
            self._pieces.append(self._out)
            self._pieces.append(payload)
            self._out = bytearray()
            return 0
        o = self._frame_space(kind, flags, stream_id, length)
        if length:
            memcpy(o, &view[0], length)
        return 0

    cdef int _frame_u32(self, int kind, long long stream_id, long long value) except -1:
        """A frame whose payload is one 32-bit number (RST_STREAM, WINDOW_UPDATE)."""
        cdef unsigned char *o = self._frame_space(kind, 0, stream_id, 4)
        o[0] = (value >> 24) & 0xFF
        o[1] = (value >> 16) & 0xFF
        o[2] = (value >> 8) & 0xFF
        o[3] = value & 0xFF
        return 0

    cdef int _header_block(self, long long stream_id, bytes block, bint end_stream) except -1:
        """A header block as HEADERS and, past the client's frame size, CONTINUATION frames (RFC 9113 4.3)."""
        cdef Py_ssize_t size = self.peer_max_frame_size
        cdef Py_ssize_t start
        cdef int flags = _FLAG_END_STREAM if end_stream else 0
        if len(block) <= size:
            self._frame(_HEADERS, flags | _FLAG_END_HEADERS, stream_id, block)
            return 0
        self._frame(_HEADERS, flags, stream_id, block[:size])
        for start in range(size, len(block), size):
            last = start + size >= len(block)
            self._frame(_CONTINUATION, _FLAG_END_HEADERS if last else 0, stream_id, block[start:start + size])
        return 0

    def send_headers(self, stream_id, int status, headers, bint end_stream=False):
        """The response head (or a 1xx, which leaves the response to come) of ``stream_id``. ``headers`` are
        (name, value) pairs with lower-case names and no connection-specific fields (RFC 9113 8.2.2). Like
        every send, False (and nothing sent) if the stream is no longer open: it was reset."""
        cdef _Stream stream
        found = self.streams.get(stream_id)
        if found is None:
            return False
        stream = found
        if status >= 200:
            self._move(stream, _SEND_HEADERS_END if end_stream else _SEND_HEADERS)
        block = self.encoder.encode_response(status, headers)
        self._header_block(stream.stream_id, block, end_stream and status >= 200)
        if end_stream and status >= 200:
            self._completed(stream)
        return True

    def send_data(self, stream_id, data, bint end_stream=False):
        """Response body for ``stream_id``; sent as the windows allow, the rest held in the stream."""
        cdef _Stream stream
        found = self.streams.get(stream_id)
        if found is None:
            return False
        stream = found
        if stream.end_queued:
            return False
        if data:
            stream.outbound.append(data)
            stream.pending += len(data)
        stream.end_queued = end_stream
        self._flush(stream)
        return True

    def send_trailers(self, stream_id, headers):
        """The trailer section that ends the response, after all the data (RFC 9113 8.1)."""
        cdef _Stream stream
        found = self.streams.get(stream_id)
        if found is None:
            return False
        stream = found
        if stream.end_queued:
            return False
        stream.trailers = self.encoder.encode(headers)
        stream.end_queued = True
        self._flush(stream)
        return True

    def pending(self, stream_id):
        """Bytes of response data waiting on ``stream_id`` for the client to open a window."""
        found = self.streams.get(stream_id)
        return 0 if found is None else (<_Stream>found).pending

    def reset_stream(self, stream_id, error_code=CANCEL):
        """Ends a stream at once (RFC 9113 6.4), say because its app failed mid-response."""
        cdef _Stream stream
        found = self.streams.get(stream_id)
        if found is None:
            return
        stream = found
        self._frame_u32(_RST_STREAM, stream.stream_id, error_code)
        self._remember_closed(stream.stream_id, True)
        stream.outbound.clear()
        stream.pending = 0
        self._move(stream, _SEND_RST)

    def ping(self, payload: bytes):
        self._frame(_PING, 0, 0, payload)

    def close(self, error_code=NO_ERROR, message=b""):
        """GOAWAY (RFC 9113 6.8): no new streams; those up to ``last_stream_id`` still finish."""
        if self.goaway_sent:
            return
        self.goaway_sent = True
        self._frame(_GOAWAY_FRAME, 0, 0, _GOAWAY.pack(self.last_stream_id, error_code) + message)

    def data_to_send(self):
        """The frames queued, as the buffer they were written into (a bytearray, handed over: the core starts
        a new one; joined with the large payloads if there are any), or b"" if there are none."""
        if self._pieces:
            return b"".join(self.pieces_to_send())
        if not PyByteArray_GET_SIZE(self._out):
            return b""
        out = self._out
        self._out = bytearray()
        return out

    def pieces_to_send(self):
        """The frames queued, as a list of bytes-like pieces to write in order (large DATA payloads are the
        app's own bytes, not copied): for a transport's writelines."""
        pieces = self._pieces
        if PyByteArray_GET_SIZE(self._out):
            pieces.append(self._out)
            self._out = bytearray()
        self._pieces = []
        return pieces

    def _flush_all(self):
        cdef _Stream stream
        for found in list(self.streams.values()):
            stream = found
            if stream.outbound or stream.end_queued:
                self._flush(stream)
                if self.send_window <= 0:
                    break

    cdef int _flush(self, _Stream stream) except -1:
        """Sends what the windows allow of ``stream``'s waiting data, in frames of at most the client's size."""
        cdef bint sent = False, end
        cdef list outbound = stream.outbound
        cdef long long allowed
        cdef Py_ssize_t size
        while outbound:
            allowed = min(self.send_window, stream.send_window, self.peer_max_frame_size)
            if allowed <= 0:
                break
            chunk = outbound[0]
            size = len(chunk)
            if size > allowed:
                view = memoryview(chunk)  # (slices of the app's bytes, not copies: only _out holds a copy)
                outbound[0] = view[allowed:]
                chunk = view[:allowed]
                size = allowed
            else:
                del outbound[0]
            self.send_window -= size
            stream.send_window -= size
            stream.pending -= size
            end = not outbound and stream.end_queued and stream.trailers is None
            self._frame_view(_DATA, _FLAG_END_STREAM if end else 0, stream.stream_id, chunk)
            sent = True
            if end:
                self._move(stream, _SEND_DATA_END)
                self._completed(stream)
                break
            self._move(stream, _SEND_DATA)
        if not outbound and stream.end_queued and (stream.state == _OPEN or stream.state == _HALF_CLOSED_REMOTE):
            if stream.trailers is not None:
                self._move(stream, _SEND_HEADERS_END)
                self._header_block(stream.stream_id, stream.trailers, True)
            else:
                self._move(stream, _SEND_DATA_END)
                self._frame(_DATA, _FLAG_END_STREAM, stream.stream_id, b"")
            self._completed(stream)
        if sent and self._events is not None and stream.announced:  # (only while feed runs)
            self._events.append(WindowUpdated(stream.stream_id))
        return 0

    cdef int _completed(self, _Stream stream) except -1:
        """A response ended: it earns back one reset of the rapid-reset budget."""
        if self._resets:
            self._resets -= 1
        return 0


cdef int _check_value(long long stream_id, bytes name, bytes value) except -1:
    """RFC 9113 8.2.1: no NUL, CR or LF in a value, and no leading or trailing space or tab."""
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(value)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value), i
    cdef unsigned char byte
    if not n:
        return 0
    for i in range(n):
        byte = p[i]
        if byte == 0 or byte == 13 or byte == 10:
            break
    else:
        if p[0] != 32 and p[0] != 9 and p[n - 1] != 32 and p[n - 1] != 9:
            return 0
    raise _StreamError(stream_id, PROTOCOL_ERROR, f"invalid bytes in the value of {name!r} (RFC 9113 8.2.1)")


cdef tuple _regular_fields(long long stream_id, list fields, Py_ssize_t start):
    """The regular fields of a header list from ``start`` on, checked (RFC 9113 8.2): ``(headers,
    content_length, host)``, with cookie fields joined into one (8.2.3)."""
    cdef list headers = []
    cdef long long content_length = -1
    cdef Py_ssize_t index, cookie_at = -1
    cdef bytes name, value
    cdef list cookies = None
    host = None
    for index in range(start, len(fields)):
        field = fields[index]
        name = <bytes>(<tuple>field)[0]
        value = <bytes>(<tuple>field)[1]
        if not PyBytes_GET_SIZE(name) or not _all_of(name, _name_byte):
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
        headers.append(field)
    if cookies is not None:
        headers[cookie_at] = (b"cookie", b"; ".join(cookies))
    return headers, content_length, host
