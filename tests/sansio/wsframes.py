"""Building client frames for the framer tests (masked, as RFC 6455 5.3 requires of clients)."""

import struct
import zlib

MASK = b"\x37\xfa\x21\x3d"


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes | None = MASK,
          length: int | None = None) -> bytes:
    """A client frame; ``rsv`` is the three reserved bits as a number (4 = RSV1, 2 = RSV2, 1 = RSV3)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    masked_bit = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([b0, masked_bit | n])
    elif n < 65536:
        head = struct.pack("!BBH", b0, masked_bit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, masked_bit | 127, n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def text(s: str, **kw) -> bytes:
    return frame(1, s.encode(), **kw)


def close(code: int | None = None, reason: bytes = b"") -> bytes:
    return frame(8, b"" if code is None else struct.pack("!H", code) + reason)


def deflated(data: bytes) -> bytes:
    """``data`` compressed as one permessage-deflate message (tail removed)."""
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]
