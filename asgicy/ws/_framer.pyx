# cython: language_level=3, embedsignature=True, boundscheck=False, wraparound=False
"""The Cython WebSocket framer: the same API and behaviour as :mod:`asgicy.ws.reference`.

It follows the reference step by step (same states, checks in the same order, same reasons). What C adds:
unmasking eight bytes at a time, the UTF-8 automaton as a C table, and no intermediate copies: a whole
single-frame message is unmasked straight into the ``bytes`` (or decoded straight into the ``str``) the
app receives.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy

from .._cores cimport CompiledCore

import struct

from . import errors as E
from . import utf8
from .errors import Close, Ping, Pong, WebSocketProtocolError

IMPLEMENTATION = "cython"

cdef enum:
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

cdef enum FramerState:
    HEAD = 0
    PAYLOAD = 1
    CLOSED = 2
    ERROR = 3

cdef enum:
    UTF8_ACCEPT = 0
    UTF8_REJECT = 1

cdef uint8_t UTF8_TABLE[9 * 256]
cdef bytes _table = utf8.TABLE
for _i in range(9 * 256):
    UTF8_TABLE[_i] = _table[_i]


cdef inline int _utf8_advance(int state, const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i = 0
    if state == UTF8_ACCEPT:
        while i < n and p[i] < 0x80:  # ASCII runs need no table
            i += 1
    while i < n:
        state = UTF8_TABLE[state * 256 + p[i]]
        if state == UTF8_REJECT:
            return UTF8_REJECT
        i += 1
    return state


cdef inline void _unmask(uint8_t* dst, const uint8_t* src, Py_ssize_t n, const uint8_t* mask,
                         Py_ssize_t offset) noexcept nogil:
    """dst = src XOR mask, ``offset`` bytes into the payload; dst may be src."""
    cdef uint8_t rotated[8]
    cdef uint64_t key8, word
    cdef Py_ssize_t i = 0, k
    for k in range(8):
        rotated[k] = mask[(offset + k) & 3]
    memcpy(&key8, rotated, 8)
    while i + 8 <= n:
        memcpy(&word, src + i, 8)
        word ^= key8
        memcpy(dst + i, &word, 8)
        i += 8
    while i < n:
        dst[i] = src[i] ^ rotated[i & 7]
        i += 1


cdef class Framer(CompiledCore):
    """``feed`` and the error latch are CompiledCore's (asgicy/_cores.pyx)."""
    cdef readonly object deflate
    cdef long long _max_size
    cdef FramerState _state
    cdef int _opcode
    cdef bint _fin
    cdef uint8_t _mask[4]
    cdef unsigned long long _length
    cdef unsigned long long _received
    cdef bytearray _frame
    cdef int _message_opcode
    cdef bint _compressed
    cdef bytearray _message
    cdef int _utf8_state

    def __init__(self, max_size=16 * 1024 * 1024, deflate=None):
        self._max_size = -1 if max_size is None else max_size
        self.deflate = deflate
        self._state = HEAD
        self._frame = bytearray()
        self._message = bytearray()
        self._message_opcode = 0
        self._utf8_state = UTF8_ACCEPT

    @property
    def max_size(self):
        return self._max_size

    @property
    def closed(self):
        return self._state == CLOSED or self._state == ERROR

    # -- receiving ----------------------------------------------------------------------------------

    cdef bint _closed(self) noexcept:
        return self._state == CLOSED

    cdef void _stop(self) noexcept:
        self._state = ERROR

    cdef int _run(self, list events) except -1:
        cdef const uint8_t* base = <const uint8_t*>PyBytes_AS_STRING(self._buf)
        cdef Py_ssize_t end = PyBytes_GET_SIZE(self._buf)
        cdef Py_ssize_t pos, header_size, take
        while True:
            pos = self._pos
            if self._state == HEAD:
                if end - pos < 2:
                    return 0
                header_size = self._check_head(base[pos], base[pos + 1])
                if end - pos < header_size:
                    return 0
                self._read_head(base + pos, header_size)
                self._pos = pos + header_size
                if self._length == 0:
                    self._end_frame(events)
                elif (self._fin and self._opcode < CLOSE and not self._compressed
                      and PyByteArray_GET_SIZE(self._message) == 0 and <unsigned long long>(end - pos - header_size) >= self._length):
                    # The whole of a message is here (a single frame, or a final fragment after empty ones):
                    # unmask it straight into its own object.
                    self._whole_message(base + pos + header_size, <Py_ssize_t>self._length, events)
                    self._pos += <Py_ssize_t>self._length
            elif self._state == PAYLOAD:
                take = end - pos
                if <unsigned long long>take > self._length - self._received:
                    take = <Py_ssize_t>(self._length - self._received)
                if take == 0:
                    return 0
                self._payload(base + pos, take)
                self._pos = pos + take
                self._received += take
                if self._received == self._length:
                    self._end_frame(events)
            else:
                return 0

    cdef Py_ssize_t _check_head(self, uint8_t b0, uint8_t b1) except -1:
        cdef int opcode = b0 & 0x0F
        cdef bint fin = b0 & 0x80, rsv1 = b0 & 0x40
        cdef int length
        if b0 & 0x30:
            raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.RESERVED_BITS)
        if not (opcode <= BINARY or CLOSE <= opcode <= PONG):
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
        return 2 + (2 if length == 126 else (8 if length == 127 else 0)) + 4

    cdef int _read_head(self, const uint8_t* p, Py_ssize_t header_size) except -1:
        cdef unsigned long long length = p[1] & 0x7F
        cdef int opcode = p[0] & 0x0F
        cdef int k
        if length == 126:
            length = (<unsigned long long>p[2] << 8) | p[3]
        elif length == 127:
            length = 0
            for k in range(8):
                length = (length << 8) | p[2 + k]
            if length >> 63:
                raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.INVALID_LENGTH)
        if opcode == TEXT or opcode == BINARY:
            self._message_opcode = opcode
            self._compressed = (p[0] & 0x40) != 0
            self._utf8_state = UTF8_ACCEPT
        if opcode < CLOSE and self._max_size >= 0 and \
                <unsigned long long>PyByteArray_GET_SIZE(self._message) + length > <unsigned long long>self._max_size:
            raise WebSocketProtocolError(E.MESSAGE_TOO_BIG, E.TOO_BIG)
        self._opcode = opcode
        self._fin = (p[0] & 0x80) != 0
        memcpy(self._mask, p + header_size - 4, 4)
        self._length = length
        self._received = 0
        self._state = PAYLOAD
        return 0

    cdef int _whole_message(self, const uint8_t* src, Py_ssize_t n, list events) except -1:
        cdef bytes data = PyBytes_FromStringAndSize(NULL, n)
        cdef uint8_t* dst = <uint8_t*>PyBytes_AS_STRING(data)
        _unmask(dst, src, n, self._mask, 0)
        self._state = HEAD
        # The message's type, not this frame's: the frame may be the final continuation of a message whose
        # earlier fragments were empty (found by fuzzing: the text message came out as bytes).
        cdef bint text = self._message_opcode == TEXT
        self._message_opcode = 0
        if text:
            if _utf8_advance(UTF8_ACCEPT, dst, n) != UTF8_ACCEPT:
                # The same verdict the reference reaches byte by byte: a reject is a reject wherever it is,
                # and a message that ends inside a character is invalid at its end.
                raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_UTF8)
            events.append(PyUnicode_DecodeUTF8(<const char*>dst, n, NULL))
        else:
            events.append(data)
        return 0

    cdef int _payload(self, const uint8_t* src, Py_ssize_t n) except -1:
        cdef bytearray target
        cdef Py_ssize_t old
        cdef uint8_t* dst
        if self._opcode >= CLOSE or self._compressed:
            target = self._frame
        else:
            target = self._message
        old = PyByteArray_GET_SIZE(target)
        PyByteArray_Resize(target, old + n)
        dst = <uint8_t*>PyByteArray_AS_STRING(target) + old
        _unmask(dst, src, n, self._mask, <Py_ssize_t>(self._received & 3))
        if target is self._message and self._message_opcode == TEXT:
            self._check_utf8(dst, n)
        return 0

    cdef int _check_utf8(self, const uint8_t* p, Py_ssize_t n) except -1:
        self._utf8_state = _utf8_advance(self._utf8_state, p, n)
        if self._utf8_state == UTF8_REJECT:
            raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_UTF8)
        return 0

    cdef int _add_message_data(self, bytes data) except -1:
        cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
        if self._message_opcode == TEXT:
            self._check_utf8(<const uint8_t*>PyBytes_AS_STRING(data), n)
        self._message += data
        return 0

    cdef int _end_frame(self, list events) except -1:
        cdef bytes payload, data
        cdef long long limit
        self._state = HEAD
        cdef int opcode = self._opcode
        if opcode >= CLOSE:
            payload = bytes(self._frame)
            del self._frame[:]
            if opcode == PING:
                events.append(Ping(payload))
            elif opcode == PONG:
                events.append(Pong(payload))
            else:
                events.append(_close_event(payload))
                self._state = CLOSED
                self._buf = b""
                self._pos = 0
            return 0
        if self._compressed:
            limit = -1 if self._max_size < 0 else self._max_size - PyByteArray_GET_SIZE(self._message)
            data = self.deflate.decompress(bytes(self._frame), self._fin, limit)
            del self._frame[:]
            self._add_message_data(data)
        if not self._fin:
            return 0
        if self._message_opcode == TEXT:
            if self._utf8_state != UTF8_ACCEPT:
                raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_UTF8)
            events.append(PyUnicode_DecodeUTF8(PyByteArray_AS_STRING(self._message),
                                               PyByteArray_GET_SIZE(self._message), NULL))
        else:
            events.append(bytes(self._message))
        del self._message[:]
        self._message_opcode = 0
        return 0

    # -- sending ------------------------------------------------------------------------------------

    cdef bytes _frame_bytes(self, int opcode, bytes payload, bint rsv1=False):
        cdef Py_ssize_t n = PyBytes_GET_SIZE(payload)
        cdef Py_ssize_t header = 2 if n < 126 else (4 if n < 65536 else 10)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, header + n)
        cdef uint8_t* p = <uint8_t*>PyBytes_AS_STRING(out)
        cdef int k
        p[0] = 0x80 | (0x40 if rsv1 else 0) | opcode
        if n < 126:
            p[1] = <uint8_t>n
        elif n < 65536:
            p[1] = 126
            p[2] = <uint8_t>(n >> 8)
            p[3] = <uint8_t>n
        else:
            p[1] = 127
            for k in range(8):
                p[2 + k] = <uint8_t>((<uint64_t>n) >> (56 - 8 * k))
        memcpy(p + header, PyBytes_AS_STRING(payload), n)
        return out

    def text(self, str message):
        return self._data(TEXT, message.encode("utf-8"))

    def binary(self, message):
        return self._data(BINARY, bytes(message))

    cdef bytes _data(self, int opcode, bytes payload):
        if self.deflate is not None:
            return self._frame_bytes(opcode, self.deflate.compress(payload), True)
        return self._frame_bytes(opcode, payload)

    def ping(self, payload=b""):
        return self._frame_bytes(PING, bytes(payload))

    def pong(self, payload=b""):
        return self._frame_bytes(PONG, bytes(payload))

    def close(self, int code=1000, str reason=""):
        if code == 1005:
            return self._frame_bytes(CLOSE, b"")
        return self._frame_bytes(CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))


cdef object _close_event(bytes payload):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(payload)
    cdef const uint8_t* p = <const uint8_t*>PyBytes_AS_STRING(payload)
    cdef int code
    if n == 0:
        return Close(1005, "")
    if n == 1:
        raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.CLOSE_PAYLOAD_ONE_BYTE)
    code = (p[0] << 8) | p[1]
    if not E.valid_close_code(code):
        raise WebSocketProtocolError(E.PROTOCOL_ERROR, E.INVALID_CLOSE_CODE)
    if _utf8_advance(UTF8_ACCEPT, p + 2, n - 2) != UTF8_ACCEPT:
        raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_CLOSE_REASON)
    return Close(code, PyUnicode_DecodeUTF8(<const char*>(p + 2), n - 2, NULL))
