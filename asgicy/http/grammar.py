"""The facts of HTTP/1.1 that more than one module needs, written once: the token characters, the request
parser's states and their transitions, the fields of a parsed request, and the limits the parsers share.

The reference parser, the ASGI event validator and the WebSocket handshake read these names. The Cython
parser cannot read Python at compile time, so ``_parser.pxd`` and ``_parser.pyx`` keep C copies of the
state numbers, the request fields and the limits; ``tests/sansio/test_grammar.py`` checks that every copy
equals what is written here. A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import re

# tchar (RFC 9110 5.6.2): the bytes of a token (methods, header names, transfer codings, WebSocket
# subprotocols and extension names).
TOKEN_CHARACTERS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
TCHAR = frozenset(TOKEN_CHARACTERS)
TOKEN = re.compile(b"[" + re.escape(TOKEN_CHARACTERS) + b"]+\\Z")
HEXDIG = frozenset(b"0123456789abcdefABCDEF")

# A chunk size line longer than this cannot be a sane one: it only buffers attacker's bytes.
MAX_CHUNK_LINE = 4096
# 18 decimal digits always fit in a signed 64-bit integer; 15 hex digits in 60 bits.
MAX_CONTENT_LENGTH_DIGITS = 18
MAX_CHUNK_SIZE_DIGITS = 15

# The request parser's states, by number (the Cython parser's ParserState enum has the same numbers).
STATE_NAMES = ("REQUEST_LINE", "HEADERS", "BODY", "CHUNK_SIZE", "CHUNK_DATA", "CHUNK_DATA_END", "TRAILERS",
               "PAUSED", "CLOSED", "ERROR")
REQUEST_LINE, HEADERS, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, PAUSED, CLOSED, ERROR = range(
    len(STATE_NAMES))

# The request state machine as data: the docs draw it, and tests/sansio/test_state_machine.py checks that
# both parsers move along exactly these edges. Any state but CLOSED can also go to ERROR, which is final.
# A message ends in HEADERS (no body), BODY or TRAILERS; what follows depends on the request
# (RFC 9112 9.3: keep-alive or close; RFC 9110 7.8: an upgrade pauses the parser for the new protocol).
TRANSITIONS = (
    (REQUEST_LINE, HEADERS, "request line"),
    (HEADERS, BODY, "Content-Length > 0"),
    (HEADERS, CHUNK_SIZE, "chunked"),
    (CHUNK_SIZE, CHUNK_DATA, "size > 0"),
    (CHUNK_DATA, CHUNK_DATA_END, "data read"),
    (CHUNK_DATA_END, CHUNK_SIZE, "CRLF"),
    (CHUNK_SIZE, TRAILERS, "size 0"),
    *((end, after, label) for end in (HEADERS, BODY, TRAILERS)
      for after, label in ((REQUEST_LINE, "keep-alive"), (CLOSED, "close"), (PAUSED, "upgrade"))),
    (PAUSED, REQUEST_LINE, "resume()"),
)

# A parsed request head's fields, in order (reference.Request's __slots__ and constructor, the compiled
# Request's declarations in _parser.pxd, the stub in _parser.pyi).
REQUEST_FIELDS = ("method", "target", "path", "query", "http_version", "headers", "keep_alive",
                  "expect_continue", "upgrade", "content_length")
