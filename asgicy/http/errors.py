"""Errors raised by the sans-I/O HTTP/1.1 core, shared by the Cython and the pure-Python parser.

The parser never raises past its boundary: a framing problem becomes an :class:`HTTPProtocolError`
that ends the list of events returned by ``feed()``. The error carries ``status_hint``, the status
code the server should answer with before it closes the connection (RFC 9112 says which: 400 for a
malformed message, 414/431/413 for the size limits, 501 for an unsupported transfer coding, 505 for
an HTTP major version we do not speak).
"""

from __future__ import annotations

from ..errors import ProtocolError


class HTTPProtocolError(ProtocolError):
    """The peer broke HTTP/1.1 framing rules; answer ``status_hint`` and close the connection."""

    FIELDS = ("message", "status_hint")

    def __init__(self, message: str, status_hint: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_hint = status_hint


# The messages both parsers use, word for word: the differential test holds them to the same text, so
# they live in one place. Each names the rule it enforces.
BARE_LF = "line ends with a bare LF, not CRLF (RFC 9112 section 2.2)"
REQUEST_LINE_TOO_LONG = "request line is longer than the limit"
MALFORMED_REQUEST_LINE = "malformed request line (RFC 9112 section 3: method SP target SP version)"
INVALID_METHOD = "method is not a token (RFC 9110 section 9.1)"
INVALID_TARGET_BYTE = "request target contains a space, control or non-ASCII byte (RFC 9112 section 3.2)"
INVALID_TARGET = "request target is not origin-form, absolute-form or asterisk-form (RFC 9112 section 3.2)"
ASTERISK_NOT_OPTIONS = "asterisk-form target is only allowed with OPTIONS (RFC 9112 section 3.2.4)"
CONNECT_UNSUPPORTED = "CONNECT is not supported"
MALFORMED_VERSION = "malformed HTTP version (RFC 9112 section 2.3)"
UNSUPPORTED_VERSION = "HTTP major version is not 1"
HEADERS_TOO_LARGE = "header section is larger than the limit"
TOO_MANY_HEADERS = "more header fields than the limit"
OBS_FOLD = "line folding (obs-fold) is not allowed (RFC 9112 section 5.2)"
NO_COLON = "header line has no colon"
EMPTY_HEADER_NAME = "empty header name"
WHITESPACE_BEFORE_COLON = "whitespace between header name and colon (RFC 9112 section 5.1)"
INVALID_HEADER_NAME = "header name is not a token (RFC 9110 section 5.1)"
INVALID_CONTENT_LENGTH = "Content-Length is not a plain decimal number (RFC 9110 section 8.6)"
CONFLICTING_CONTENT_LENGTH = "several Content-Length headers that disagree (RFC 9112 section 6.3)"
HOST_REQUIRED = "HTTP/1.1 request without exactly one Host header (RFC 9112 section 3.2)"
TOO_MANY_HOSTS = "more than one Host header (RFC 9112 section 3.2)"
TE_IN_HTTP10 = "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 section 6.1)"
TE_WITH_CL = "both Transfer-Encoding and Content-Length (RFC 9112 section 6.3)"
MALFORMED_TE = "malformed Transfer-Encoding list"
CHUNKED_TWICE = "chunked applied more than once (RFC 9112 section 6.1)"
CHUNKED_NOT_LAST = "chunked is not the final transfer coding (RFC 9112 section 6.3)"
UNSUPPORTED_TE = "unsupported transfer coding (RFC 9112 section 6.1)"
UNSUPPORTED_EXPECT = "unsupported expectation (RFC 9110 section 10.1.1)"
BODY_TOO_LARGE = "request body is larger than the limit"
CHUNK_LINE_TOO_LONG = "chunk size line is longer than the limit"
INVALID_CHUNK_SIZE = "invalid chunk size (RFC 9112 section 7.1)"
CHUNK_SIZE_OVERFLOW = "chunk size is too large"
INVALID_CHUNK_EXTENSION = "control byte in chunk extension"
MISSING_CHUNK_CRLF = "chunk data not followed by CRLF (RFC 9112 section 7.1)"


def invalid_value_byte(byte: int) -> str:
    """The message for a forbidden byte in a header or trailer value (NUL, CR, LF, other controls)."""
    return f"invalid byte 0x{byte:02x} in header value (RFC 9110 section 5.5)"
