"""The facts of HTTP/2 (RFC 9113) and HPACK (RFC 7541) that more than one module needs, written once: frame
types and flags, error codes, settings and their bounds, the connection preface, the stream states and the
table of their transitions, and the static header table.

The reference core (``reference.py``, ``hpack.py``) reads these names; the docs draw the stream state machine
from ``STREAM_TRANSITIONS``. A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

# RFC 9113 3.4: what a client sends first when it speaks HTTP/2 from the start (prior knowledge or after ALPN).
# It cannot be mistaken for an HTTP/1.1 request: PRI is no method a server serves, and HTTP/2.0 no version an
# HTTP/1.1 parser accepts, so one port can take both (detected from the first bytes).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9113 4.1: every frame starts with a 9-byte header: length (24 bits), type, flags, R + stream id (31 bits).
FRAME_HEADER_SIZE = 9

# Frame types (RFC 9113 6; 11.2), by number; FRAME_NAMES for messages and the docs.
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = ("DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
               "WINDOW_UPDATE", "CONTINUATION")

# Flags (RFC 9113 6): the same bit means different things on different frames.
FLAG_END_STREAM = 0x1   # DATA, HEADERS
FLAG_ACK = 0x1          # SETTINGS, PING
FLAG_END_HEADERS = 0x4  # HEADERS, PUSH_PROMISE, CONTINUATION
FLAG_PADDED = 0x8       # DATA, HEADERS, PUSH_PROMISE
FLAG_PRIORITY = 0x20    # HEADERS

# Error codes (RFC 9113 7), by number; ERROR_NAMES for messages and logs.
(NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR,
 REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM, INADEQUATE_SECURITY,
 HTTP_1_1_REQUIRED) = range(14)
ERROR_NAMES = ("NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
               "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
               "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED")


def error_name(code: int) -> str:
    """The name of an error code; an unknown code (RFC 9113 7: never an error itself) by its number."""
    return ERROR_NAMES[code] if 0 <= code < len(ERROR_NAMES) else f"0x{code:x}"


# Settings (RFC 9113 6.5.2; RFC 8441 3 adds ENABLE_CONNECT_PROTOCOL). Unknown identifiers are ignored.
(SETTINGS_HEADER_TABLE_SIZE, SETTINGS_ENABLE_PUSH, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE,
 SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE) = range(1, 7)
SETTINGS_ENABLE_CONNECT_PROTOCOL = 8

# The values every setting has until a SETTINGS frame says otherwise (RFC 9113 6.5.2); None: unlimited.
DEFAULT_HEADER_TABLE_SIZE = 4096
DEFAULT_INITIAL_WINDOW_SIZE = 65_535
DEFAULT_MAX_FRAME_SIZE = 16_384
# The bounds the RFC sets on them.
MAX_WINDOW_SIZE = 2**31 - 1        # a flow-control window may never exceed this (6.9.1)
MAX_FRAME_SIZE_LIMIT = 2**24 - 1   # SETTINGS_MAX_FRAME_SIZE stays within 2^14 .. 2^24 - 1 (6.5.2)
MAX_STREAM_ID = 2**31 - 1

# Stream states (RFC 9113 5.1), as the server sees them. The two reserved states exist only with server
# push, which asgicy never does (and a client may not push: PUSH_PROMISE from it is a connection error).
STREAM_STATE_NAMES = ("IDLE", "OPEN", "HALF_CLOSED_REMOTE", "HALF_CLOSED_LOCAL", "CLOSED")
IDLE, OPEN, HALF_CLOSED_REMOTE, HALF_CLOSED_LOCAL, CLOSED = range(len(STREAM_STATE_NAMES))

# What moves a stream: frames received from the client (RECV_*) and sent by the server (SEND_*); *_END is a
# frame that carries END_STREAM. RST_STREAM either way closes the stream at once.
STREAM_EVENT_NAMES = ("RECV_HEADERS", "RECV_HEADERS_END", "RECV_DATA", "RECV_DATA_END", "RECV_RST",
                      "SEND_HEADERS", "SEND_HEADERS_END", "SEND_DATA", "SEND_DATA_END", "SEND_RST")
(RECV_HEADERS, RECV_HEADERS_END, RECV_DATA, RECV_DATA_END, RECV_RST, SEND_HEADERS, SEND_HEADERS_END, SEND_DATA,
 SEND_DATA_END, SEND_RST) = range(len(STREAM_EVENT_NAMES))

# The stream state machine as data (RFC 9113 5.1, figure 2, server side): (state, event) -> next state. The
# reference core moves every stream through this table and nothing else; the docs draw it. A pair that is
# missing is an error: STREAM_ERRORS says which for frames received (RFC 9113 5.1 names the code for each
# state); a send that is missing is a bug in the server, never the client's fault.
STREAM_TRANSITIONS = {
    (IDLE, RECV_HEADERS): OPEN,
    (IDLE, RECV_HEADERS_END): HALF_CLOSED_REMOTE,
    (OPEN, RECV_DATA): OPEN,
    (OPEN, RECV_DATA_END): HALF_CLOSED_REMOTE,
    (OPEN, RECV_HEADERS_END): HALF_CLOSED_REMOTE,  # trailers
    (OPEN, RECV_RST): CLOSED,
    (OPEN, SEND_HEADERS): OPEN,
    (OPEN, SEND_DATA): OPEN,
    (OPEN, SEND_HEADERS_END): HALF_CLOSED_LOCAL,
    (OPEN, SEND_DATA_END): HALF_CLOSED_LOCAL,
    (OPEN, SEND_RST): CLOSED,
    (HALF_CLOSED_REMOTE, RECV_RST): CLOSED,
    (HALF_CLOSED_REMOTE, SEND_HEADERS): HALF_CLOSED_REMOTE,
    (HALF_CLOSED_REMOTE, SEND_DATA): HALF_CLOSED_REMOTE,
    (HALF_CLOSED_REMOTE, SEND_HEADERS_END): CLOSED,
    (HALF_CLOSED_REMOTE, SEND_DATA_END): CLOSED,
    (HALF_CLOSED_REMOTE, SEND_RST): CLOSED,
    (HALF_CLOSED_LOCAL, RECV_DATA): HALF_CLOSED_LOCAL,
    (HALF_CLOSED_LOCAL, RECV_DATA_END): CLOSED,
    (HALF_CLOSED_LOCAL, RECV_HEADERS_END): CLOSED,  # trailers
    (HALF_CLOSED_LOCAL, RECV_RST): CLOSED,
    (HALF_CLOSED_LOCAL, SEND_RST): CLOSED,
}

# Frames received in a state that does not take them (RFC 9113 5.1): the error code, and whether it ends the
# connection (True) or only the stream. A HEADERS frame without END_STREAM on an open stream is a second
# header block that is not a trailer section (8.1: malformed, a stream error).
STREAM_ERRORS = {
    (IDLE, RECV_DATA): (PROTOCOL_ERROR, True),
    (IDLE, RECV_DATA_END): (PROTOCOL_ERROR, True),
    (IDLE, RECV_RST): (PROTOCOL_ERROR, True),
    (OPEN, RECV_HEADERS): (PROTOCOL_ERROR, False),
    (HALF_CLOSED_LOCAL, RECV_HEADERS): (PROTOCOL_ERROR, False),
    **{(HALF_CLOSED_REMOTE, event): (STREAM_CLOSED, False)
       for event in (RECV_HEADERS, RECV_HEADERS_END, RECV_DATA, RECV_DATA_END)},
    # A stream the server closed: RFC 9113 5.1 makes DATA or HEADERS there a connection error STREAM_CLOSED,
    # unless the server reset it (those frames may have crossed its RST_STREAM and are ignored: the core
    # remembers recent resets for that).
    **{(CLOSED, event): (STREAM_CLOSED, True) for event in (RECV_HEADERS, RECV_HEADERS_END, RECV_DATA, RECV_DATA_END)},
}

# Request pseudo-header fields (RFC 9113 8.3.1; :protocol from RFC 8441 4).
REQUEST_PSEUDO_HEADERS = frozenset((b":method", b":scheme", b":authority", b":path", b":protocol"))
# Fields that belong to one HTTP/1.1 connection and mean nothing in HTTP/2 (RFC 9113 8.2.2): a request with one
# is malformed. `te` is allowed only as "trailers".
CONNECTION_SPECIFIC = frozenset((b"connection", b"proxy-connection", b"keep-alive", b"transfer-encoding", b"upgrade"))

# HPACK's static table (RFC 7541 appendix A): index 1 is STATIC_TABLE[0].
STATIC_TABLE = (
    (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"),
    (b":path", b"/index.html"), (b":scheme", b"http"), (b":scheme", b"https"), (b":status", b"200"),
    (b":status", b"204"), (b":status", b"206"), (b":status", b"304"), (b":status", b"400"), (b":status", b"404"),
    (b":status", b"500"), (b"accept-charset", b""), (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""), (b"accept-ranges", b""), (b"accept", b""), (b"access-control-allow-origin", b""),
    (b"age", b""), (b"allow", b""), (b"authorization", b""), (b"cache-control", b""),
    (b"content-disposition", b""), (b"content-encoding", b""), (b"content-language", b""),
    (b"content-length", b""), (b"content-location", b""), (b"content-range", b""), (b"content-type", b""),
    (b"cookie", b""), (b"date", b""), (b"etag", b""), (b"expect", b""), (b"expires", b""), (b"from", b""),
    (b"host", b""), (b"if-match", b""), (b"if-modified-since", b""), (b"if-none-match", b""), (b"if-range", b""),
    (b"if-unmodified-since", b""), (b"last-modified", b""), (b"link", b""), (b"location", b""),
    (b"max-forwards", b""), (b"proxy-authenticate", b""), (b"proxy-authorization", b""), (b"range", b""),
    (b"referer", b""), (b"refresh", b""), (b"retry-after", b""), (b"server", b""), (b"set-cookie", b""),
    (b"strict-transport-security", b""), (b"transfer-encoding", b""), (b"user-agent", b""), (b"vary", b""),
    (b"via", b""), (b"www-authenticate", b""),
)

# RFC 7541 4.1: an entry's size in the dynamic table is its name and value lengths plus 32; the same sum bounds a
# header list (RFC 9113 6.5.2, SETTINGS_MAX_HEADER_LIST_SIZE).
ENTRY_OVERHEAD = 32

# The Huffman code of RFC 7541 appendix B, by its code lengths: the length in bits of the code of each symbol,
# byte values 0 to 255 and EOS (256). The code is canonical (codes of one length are consecutive, in symbol
# order, and shorter codes come first), so these 257 numbers determine every code; hpack.py derives them, and
# tests/sansio/test_hpack.py checks the derived codes against the RFC's examples and the hpack library.
HUFFMAN_CODE_LENGTHS = (
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  # 0x00
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  # 0x10
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,          # ' ' to '/'
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,               # '0' to '?'
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                 # '@' to 'O'
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,              # 'P' to '_'
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                 # '`' to 'o'
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,             # 'p' to 0x7f
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  # 0x80
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  # 0x90
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  # 0xa0
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  # 0xb0
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  # 0xc0
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  # 0xd0
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  # 0xe0
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  # 0xf0
    30,                                                              # EOS
)
EOS = 256
