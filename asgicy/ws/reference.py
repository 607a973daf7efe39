"""The pure-Python reference WebSocket framer (server side of RFC 6455, with RFC 7692 compression).

This module and ``_framer.pyx`` implement one sans-I/O API, and every framer test runs against both; any
difference is a bug. This one is written for clarity; the Cython one follows it step by step.

``Framer(max_size=16 MiB, deflate=None)``
    ``feed(data) -> list`` buffers client bytes and returns the events they complete, in order: a ``str``
    (a whole text message), ``bytes`` (a whole binary message), :class:`~asgicy.ws.errors.Ping`,
    :class:`~asgicy.ws.errors.Pong`, :class:`~asgicy.ws.errors.Close`, and, if the client broke the
    rules, a final :class:`~asgicy.ws.errors.WebSocketProtocolError`. Fragments are assembled; control
    frames may arrive between them. Text is validated as it arrives, so invalid UTF-8 fails at the byte.
    After a Close or an error, nothing more is produced.

    ``text(str)``, ``binary(bytes)``, ``ping(bytes)``, ``pong(bytes)``, ``close(code, reason)`` return the
    bytes of a server frame (unmasked; data messages compressed when ``deflate`` was negotiated).
"""

from __future__ import annotations

import struct

from ..cores import ReferenceCore
from . import errors as E
from . import utf8
from .errors import Close, Ping, Pong, WebSocketProtocolError

IMPLEMENTATION = "python"

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
HEAD, PAYLOAD, CLOSED, ERROR = range(4)


def _unmask(data: bytes, mask: bytes, offset: int) -> bytes:
    """XOR ``data`` with the mask, starting ``offset`` bytes into the frame's payload."""
    if not data:
        return b""
    key = (mask[offset % 4:] + mask[:offset % 4]) * (len(data) // 4 + 1)
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(key[:n], "big")).to_bytes(n, "big")


class Framer(ReferenceCore):
    """Parses client frames into messages and makes server frames (RFC 6455, RFC 7692 with ``deflate``).

    ``feed(data)`` returns whole messages (``str`` or ``bytes``), ``Ping``, ``Pong``, ``Close`` and at most one
    final ``WebSocketProtocolError``; messages over ``max_size`` bytes are refused with close code 1009."""

    ERROR, CLOSED, PROTOCOL_ERROR = ERROR, CLOSED, WebSocketProtocolError

    def __init__(self, max_size: int | None = 16 * 1024 * 1024, deflate=None) -> None:
        self.max_size = -1 if max_size is None else max_size
        self.deflate = deflate
        self._buf = bytearray()
        self._state = HEAD
        self._error: WebSocketProtocolError | None = None
        # The frame being read.
        self._opcode = 0
        self._fin = False
        self._mask = b""
        self._length = 0
        self._received = 0
        self._frame = bytearray()  # a control frame's payload, or a compressed frame's
        # The message being assembled.
        self._message_opcode = 0  # 0: no message in progress
        self._compressed = False
        self._message = bytearray()
        self._utf8_state = utf8.ACCEPT

    @property
    def closed(self) -> bool:
        return self._state in (CLOSED, ERROR)

    # -- receiving ----------------------------------------------------------------------------------

    def _run(self, events: list) -> None:
        buf = self._buf
        pos = 0
        try:
            while True:
                if self._state == HEAD:
                    if len(buf) - pos < 2:
                        return
                    header_size = self._check_head(buf[pos], buf[pos + 1])
                    if len(buf) - pos < header_size:
                        return
                    self._read_head(buf, pos, header_size)
                    pos += header_size
                    if self._length == 0:
                        self._end_frame(events)
                elif self._state == PAYLOAD:
                    take = min(len(buf) - pos, self._length - self._received)
                    if take == 0:
                        return
                    chunk = _unmask(bytes(buf[pos:pos + take]), self._mask, self._received)
                    pos += take
                    self._received += take
                    self._payload(chunk)
                    if self._received == self._length:
                        self._end_frame(events)
                else:
                    return
        finally:
            del buf[:pos]

    def _check_head(self, b0: int, b1: int) -> int:
        """Checks what the first two bytes can tell (so a bad frame fails at once); returns the header size."""
        fin, rsv1, opcode = b0 & 0x80, b0 & 0x40, b0 & 0x0F
        if b0 & 0x30:
            raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.RESERVED_BITS)
        if opcode not in (CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG):
            raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.RESERVED_OPCODE)
        if opcode >= CLOSE:
            if not fin:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.FRAGMENTED_CONTROL)
            if b1 & 0x7F > 125:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.CONTROL_TOO_LONG)
            if rsv1:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.RSV1_ON_CONTROL)
        elif opcode == CONTINUATION:
            if not self._message_opcode:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.UNEXPECTED_CONTINUATION)
            if rsv1:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.RSV1_ON_CONTINUATION)
        else:
            if self._message_opcode:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.EXPECTED_CONTINUATION)
            if rsv1 and self.deflate is None:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.RSV1_WITHOUT_DEFLATE)
        if not b1 & 0x80:
            raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.UNMASKED)
        length = b1 & 0x7F
        return 2 + (2 if length == 126 else 8 if length == 127 else 0) + 4

    def _read_head(self, buf, pos: int, header_size: int) -> None:
        b0, b1 = buf[pos], buf[pos + 1]
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack_from("!H", buf, pos + 2)[0]
        elif length == 127:
            length = struct.unpack_from("!Q", buf, pos + 2)[0]
            if length >> 63:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.INVALID_LENGTH)
        opcode = b0 & 0x0F
        if opcode in (TEXT, BINARY):
            self._message_opcode = opcode
            self._compressed = bool(b0 & 0x40)
            self._utf8_state = utf8.ACCEPT
        if opcode < CLOSE and self.max_size >= 0 and len(self._message) + length > self.max_size:
            raise WebSocketProtocolError(E.MESSAGE_TOO_BIG, E.TOO_BIG)
        self._opcode = opcode
        self._fin = bool(b0 & 0x80)
        self._mask = bytes(buf[pos + header_size - 4:pos + header_size])
        self._length = length
        self._received = 0
        self._state = PAYLOAD

    def _payload(self, chunk: bytes) -> None:
        if self._opcode >= CLOSE or self._compressed:
            self._frame += chunk
        else:
            self._add_message_data(chunk)

    def _add_message_data(self, data: bytes) -> None:
        if self._message_opcode == TEXT:
            self._utf8_state = utf8.advance(self._utf8_state, data)
            if self._utf8_state == utf8.REJECT:
                raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_UTF8)
        self._message += data

    def _end_frame(self, events: list) -> None:
        self._state = HEAD
        opcode = self._opcode
        if opcode >= CLOSE:
            payload = bytes(self._frame)
            self._frame.clear()
            if opcode == PING:
                events.append(Ping(payload))
            elif opcode == PONG:
                events.append(Pong(payload))
            else:
                events.append(self._close_event(payload))
                self._state = CLOSED
                self._buf.clear()
            return
        if self._compressed:
            limit = -1 if self.max_size < 0 else self.max_size - len(self._message)
            data = self.deflate.decompress(bytes(self._frame), self._fin, limit)
            self._frame.clear()
            self._add_message_data(data)
        if not self._fin:
            return
        if self._message_opcode == TEXT:
            if self._utf8_state != utf8.ACCEPT:
                raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_UTF8)
            events.append(self._message.decode("utf-8"))
        else:
            events.append(bytes(self._message))
        self._message.clear()
        self._message_opcode = 0

    @staticmethod
    def _close_event(payload: bytes) -> Close:
        if not payload:
            return Close(1005, "")
        if len(payload) == 1:
            raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.CLOSE_PAYLOAD_ONE_BYTE)
        code = struct.unpack("!H", payload[:2])[0]
        if not E.valid_close_code(code):
            raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.INVALID_CLOSE_CODE)
        if utf8.advance(utf8.ACCEPT, payload[2:]) != utf8.ACCEPT:
            raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_CLOSE_REASON)
        return Close(code, payload[2:].decode("utf-8"))

    # -- sending ------------------------------------------------------------------------------------

    @staticmethod
    def _frame_bytes(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
        b0 = 0x80 | (0x40 if rsv1 else 0) | opcode
        n = len(payload)
        if n < 126:
            header = bytes((b0, n))
        elif n < 65536:
            header = struct.pack("!BBH", b0, 126, n)
        else:
            header = struct.pack("!BBQ", b0, 127, n)
        return header + payload

    def text(self, message: str) -> bytes:
        return self._data(TEXT, message.encode("utf-8"))

    def binary(self, message: bytes) -> bytes:
        return self._data(BINARY, message)

    def _data(self, opcode: int, payload: bytes) -> bytes:
        if self.deflate is not None:
            return self._frame_bytes(opcode, self.deflate.compress(payload), True)
        return self._frame_bytes(opcode, payload)

    def ping(self, payload: bytes = b"") -> bytes:
        return self._frame_bytes(PING, payload)

    def pong(self, payload: bytes = b"") -> bytes:
        return self._frame_bytes(PONG, payload)

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        if code == 1005:
            return self._frame_bytes(CLOSE, b"")
        return self._frame_bytes(CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
