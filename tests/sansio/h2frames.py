"""Raw HTTP/2 frames for the core tests: what a broken or hostile client sends, and the server's frames read
back. Written here from RFC 9113 4.1, independently of the core under test."""

from __future__ import annotations

import struct

from asgicy.h2.grammar import PREFACE

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes((kind, flags)) + struct.pack(">I", stream_id) + payload


def settings(*pairs, ack=False) -> bytes:
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def window_update(stream_id: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))


def rst(stream_id: int, code: int = 8) -> bytes:
    return frame(RST_STREAM, 0, stream_id, struct.pack(">I", code))


def start(*pairs) -> bytes:
    """A client's preface and its (empty unless given) SETTINGS."""
    return PREFACE + settings(*pairs)


def literal(name: bytes, value: bytes) -> bytes:
    """A literal field without indexing, new name, no Huffman (RFC 7541 6.2.2); short strings only."""
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes((len(name),)) + name + bytes((len(value),)) + value


def block(*fields) -> bytes:
    return b"".join(literal(name, value) for name, value in fields)


GET = ((b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"example.com"), (b":path", b"/"))


def request(stream_id: int, *extra, fields=GET, end_stream=True) -> bytes:
    return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream_id, block(*fields, *extra))


def read_frames(data: bytes) -> list:
    """The server's bytes as (type, flags, stream id, payload) tuples; the bytes must be whole frames."""
    frames = []
    position = 0
    while position < len(data):
        length = int.from_bytes(data[position:position + 3], "big")
        kind, flags = data[position + 3], data[position + 4]
        stream_id = int.from_bytes(data[position + 5:position + 9], "big") & 0x7FFFFFFF
        frames.append((kind, flags, stream_id, data[position + 9:position + 9 + length]))
        position += 9 + length
    assert position == len(data), "the server's output ends inside a frame"
    return frames


def goaway_code(data: bytes):
    """The error code of the GOAWAY among the server's frames, or None."""
    for kind, _flags, _stream, payload in read_frames(data):
        if kind == GOAWAY:
            return struct.unpack(">I", payload[4:8])[0]
    return None


def resets(data: bytes) -> dict:
    """{stream id: error code} of the RST_STREAM frames among the server's frames."""
    return {stream: struct.unpack(">I", payload)[0] for kind, _f, stream, payload in read_frames(data)
            if kind == RST_STREAM}
