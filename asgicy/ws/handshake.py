"""The server side of the WebSocket opening handshake (RFC 6455 4.2), from a request the HTTP parser
already parsed: nothing is re-serialised or parsed again.

``read_handshake(request, per_message_deflate)`` checks the client's handshake and returns a
:class:`Handshake`, or raises :class:`HandshakeError` with the status to answer (400, or 426 with the
version we speak). ``accept_response(...)`` builds the 101 response.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from ..http.grammar import TOKEN as _TOKEN  # (a handshake is an HTTP request: the grammar's leaf module)
from .deflate import Deflate, negotiate

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3


class HandshakeError(Exception):
    def __init__(self, status: int, message: str, headers: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers  # extra header lines for the refusal (426 names the version)


class Handshake:
    __slots__ = ("key", "subprotocols", "deflate")

    def __init__(self, key: bytes, subprotocols: list, deflate: Deflate | None) -> None:
        self.key = key
        self.subprotocols = subprotocols
        self.deflate = deflate


def is_websocket_upgrade(request) -> bool:
    upgrade = request.upgrade
    return upgrade is not None and b"websocket" in [p.strip() for p in upgrade.split(b",")]


def read_handshake(request, per_message_deflate: bool = True, extended_connect: bool = False) -> Handshake:
    """The client's handshake: an HTTP/1.1 GET with Upgrade (RFC 6455 4.1), or with ``extended_connect`` an
    HTTP/2 CONNECT whose :protocol is websocket (RFC 8441 5), which has no key (the stream is the proof)."""
    if request.method != (b"CONNECT" if extended_connect else b"GET"):
        raise HandshakeError(400, "a WebSocket handshake must be a GET request (RFC 6455 4.1)")
    keys, versions, protocols, extensions = [], [], [], []
    for name, value in request.headers:
        if name == b"sec-websocket-key":
            keys.append(value)
        elif name == b"sec-websocket-version":
            versions.append(value)
        elif name == b"sec-websocket-protocol":
            protocols.append(value)
        elif name == b"sec-websocket-extensions":
            extensions.append(value)
    if versions != [b"13"]:
        raise HandshakeError(426, "unsupported Sec-WebSocket-Version; this server speaks 13 (RFC 6455 4.4)",
                             b"sec-websocket-version: 13\r\n")
    if extended_connect:
        keys = [b""]  # RFC 8441 5: no Sec-WebSocket-Key, no Sec-WebSocket-Accept
    elif len(keys) != 1:
        raise HandshakeError(400, "a WebSocket handshake needs exactly one Sec-WebSocket-Key (RFC 6455 4.1)")
    else:
        try:
            if len(base64.b64decode(keys[0], validate=True)) != 16:
                raise ValueError
        except (binascii.Error, ValueError):
            raise HandshakeError(400, "Sec-WebSocket-Key is not 16 bytes in base64 (RFC 6455 4.1)") from None
    subprotocols = []
    for value in protocols:
        for item in value.split(b","):
            item = item.strip(b" \t")
            # Tokens only: a non-ASCII or otherwise malformed subprotocol is refused, never decoded blindly.
            if not _TOKEN.match(item):
                raise HandshakeError(400, "Sec-WebSocket-Protocol is not a list of tokens (RFC 6455 4.1)")
            subprotocols.append(item.decode("ascii"))
    deflate = negotiate(extensions) if per_message_deflate and extensions else None
    return Handshake(keys[0], subprotocols, deflate)


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def accept_response(handshake: Handshake, subprotocol: str | None, extra_fields: bytes) -> bytes:
    """The 101 response; ``extra_fields`` are already-validated header lines (the app's, Date, Server)."""
    head = [b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            b"sec-websocket-accept: ", accept_key(handshake.key), b"\r\n"]
    if subprotocol is not None:
        head.append(b"sec-websocket-protocol: " + subprotocol.encode("ascii") + b"\r\n")
    if handshake.deflate is not None:
        head.append(b"sec-websocket-extensions: " + handshake.deflate.response_header() + b"\r\n")
    head.append(extra_fields)
    head.append(b"\r\n")
    return b"".join(head)
