"""Errors and control events of the sans-I/O WebSocket core, shared by the Cython and reference framers.

A frame that breaks RFC 6455 or RFC 7692 becomes a :class:`WebSocketProtocolError` at the end of the
events ``feed()`` returns; ``close_code`` is the code to close with (1002 protocol error, 1007 invalid
data, 1009 too big), ``reason`` the reason to send.
"""

from __future__ import annotations

from ..errors import ProtocolError


class WebSocketProtocolError(ProtocolError):
    """The client broke the WebSocket rules: close the connection with ``close_code``."""

    FIELDS = ("close_code", "reason")

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(f"{reason} (close code {close_code})")
        self.close_code = close_code
        self.reason = reason


class _ControlFrame:
    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.payload!r})"


class Ping(_ControlFrame):
    """A ping frame from the peer; the server answers it with a pong of the same ``payload``."""

    __slots__ = ()


class Pong(_ControlFrame):
    """A pong frame from the peer (an answer to our keepalive ping, or unsolicited)."""

    __slots__ = ()


class Close:
    """A close frame from the client: ``code`` is 1005 when the frame had no payload (RFC 6455 7.1.5)."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"Close({self.code}, {self.reason!r})"


PROTOCOL_ERROR, INVALID_DATA, MESSAGE_TOO_BIG = 1002, 1007, 1009

# The reasons both framers use, word for word.
RESERVED_BITS = "reserved bits set (RFC 6455 5.2)"
RESERVED_OPCODE = "reserved opcode (RFC 6455 5.2)"
FRAGMENTED_CONTROL = "fragmented control frame (RFC 6455 5.5)"
CONTROL_TOO_LONG = "control frame payload over 125 bytes (RFC 6455 5.5)"
RSV1_ON_CONTROL = "RSV1 set on a control frame (RFC 7692 6)"
UNEXPECTED_CONTINUATION = "continuation frame without a message to continue (RFC 6455 5.4)"
EXPECTED_CONTINUATION = "new data frame inside a fragmented message (RFC 6455 5.4)"
RSV1_ON_CONTINUATION = "RSV1 set on a continuation frame (RFC 7692 6)"
RSV1_WITHOUT_DEFLATE = "RSV1 set but no extension was negotiated (RFC 6455 5.2)"
UNMASKED = "unmasked frame from a client (RFC 6455 5.1)"
INVALID_LENGTH = "64-bit payload length with the most significant bit set (RFC 6455 5.2)"
TOO_BIG = "message larger than the limit"
INVALID_UTF8 = "invalid UTF-8 in a text message (RFC 6455 8.1)"
CLOSE_PAYLOAD_ONE_BYTE = "close frame with a one-byte payload (RFC 6455 5.5.1)"
INVALID_CLOSE_CODE = "invalid close code (RFC 6455 7.4)"
INVALID_CLOSE_REASON = "invalid UTF-8 in the close reason (RFC 6455 5.5.1)"
INVALID_COMPRESSED = "invalid compressed data (RFC 7692 7.2.2)"


def valid_close_code(code: int) -> bool:
    """Codes a peer may send in a close frame (RFC 6455 7.4, and the IANA registry for 1012-1014)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
