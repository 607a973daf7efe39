"""Errors of the sans-I/O HTTP/2 core, shared by its implementations.

A frame that breaks RFC 9113 or a header block that breaks RFC 7541 ends the connection: the core queues a
GOAWAY with the error's ``error_code`` and reports an :class:`H2ProtocolError` as the last event of ``feed``.
Errors that end only one stream never surface as exceptions: the core resets that stream and reports a
``StreamReset`` event.
"""

from __future__ import annotations

from ..errors import ProtocolError
from .grammar import COMPRESSION_ERROR, error_name


class H2ProtocolError(ProtocolError):
    """The client broke HTTP/2 for the whole connection: GOAWAY ``error_code`` (RFC 9113 5.4.1), then close."""

    FIELDS = ("error_code", "message")

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(f"{message} ({error_name(error_code)})")
        self.error_code = error_code
        self.message = message


class HPACKError(H2ProtocolError):
    """A header block cannot be decoded (RFC 7541): a connection error COMPRESSION_ERROR (RFC 9113 4.3),
    since the peer's and our dynamic tables can no longer be known to agree."""

    def __init__(self, message: str) -> None:
        super().__init__(COMPRESSION_ERROR, message)


class HeaderListTooLarge(Exception):
    """A header block decoded to more than SETTINGS_MAX_HEADER_LIST_SIZE allows. Not a connection error: the
    block was decoded to its end (the dynamic table stays in step) but its fields were not kept, and the
    request gets 431 (RFC 9113 10.5.1, RFC 6585 5)."""


# The messages every implementation uses, word for word (the differential tests compare them).
BAD_PREFACE = "the connection did not start with the HTTP/2 preface (RFC 9113 3.4)"
EOS_IN_STRING = "Huffman-coded string contains EOS (RFC 7541 5.2)"
BAD_PADDING = "Huffman padding longer than 7 bits or not the EOS prefix (RFC 7541 5.2)"
INTEGER_OVERFLOW = "HPACK integer too large (RFC 7541 5.1)"
TRUNCATED_BLOCK = "header block ends inside a field representation (RFC 7541 3.2)"
INDEX_ZERO = "HPACK index 0 (RFC 7541 6.1)"
INDEX_OUT_OF_RANGE = "HPACK index beyond the static and dynamic tables (RFC 7541 2.3.3)"
TABLE_SIZE_TOO_LARGE = "dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (RFC 7541 6.3)"
TABLE_SIZE_NOT_FIRST = "dynamic table size update after a field representation (RFC 7541 4.2)"
STRING_TOO_LONG = "HPACK string longer than the header list limit allows"
