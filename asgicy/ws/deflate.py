"""permessage-deflate (RFC 7692): negotiating the parameters, and compressing and decompressing messages.

Both framers use :class:`Deflate` for the payloads; zlib does the work. Decompression is bounded: it
never produces more than the message size limit allows, so a small frame cannot inflate into gigabytes.
"""

from __future__ import annotations

import zlib

from . import errors as E
from .errors import WebSocketProtocolError

_TAIL = b"\x00\x00\xff\xff"  # RFC 7692 7.2.1: removed by the sender, put back by the receiver


class Deflate:
    """The compression state of one connection, with the parameters the server accepted."""

    def __init__(self, server_no_context_takeover: bool = False, client_no_context_takeover: bool = False,
                 server_max_window_bits: int = 15, client_max_window_bits: int = 15) -> None:
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self._compressor = None
        self._decompressor = None

    def response_header(self) -> bytes:
        """The Sec-WebSocket-Extensions value that tells the client what was accepted."""
        params = [b"permessage-deflate"]
        if self.server_no_context_takeover:
            params.append(b"server_no_context_takeover")
        if self.client_no_context_takeover:
            params.append(b"client_no_context_takeover")
        if self.server_max_window_bits != 15:
            params.append(b"server_max_window_bits=%d" % self.server_max_window_bits)
        if self.client_max_window_bits != 15:
            params.append(b"client_max_window_bits=%d" % self.client_max_window_bits)
        return b"; ".join(params)

    def compress(self, data: bytes) -> bytes:
        if self._compressor is None or self.server_no_context_takeover:
            self._compressor = zlib.compressobj(wbits=-self.server_max_window_bits)
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4] if out.endswith(_TAIL) else out

    def decompress(self, data: bytes, final: bool, limit: int) -> bytes:
        """One frame's payload, decompressed; ``limit`` bytes at most (-1: unlimited).

        Returns the data; raises WebSocketProtocolError for corrupt data or output over the limit."""
        if self._decompressor is None:
            self._decompressor = zlib.decompressobj(wbits=-self.client_max_window_bits)
        decompressor = self._decompressor
        if final:
            data = data + _TAIL
        try:
            if limit < 0:
                out = decompressor.decompress(data)
            else:
                out = decompressor.decompress(data, limit + 1)
                if len(out) > limit:
                    raise WebSocketProtocolError(E.MESSAGE_TOO_BIG, E.TOO_BIG)
        except zlib.error:
            raise WebSocketProtocolError(E.INVALID_DATA, E.INVALID_COMPRESSED) from None
        if final and self.client_no_context_takeover:
            self._decompressor = None
        return out


def _parse_offers(header_values: list) -> list:
    """Sec-WebSocket-Extensions values as [(name, [(param, value or None), ...]), ...]."""
    offers = []
    for value in header_values:
        for item in value.split(","):
            parts = [p.strip() for p in item.split(";")]
            if not parts[0]:
                continue
            params = []
            for part in parts[1:]:
                name, eq, val = part.partition("=")
                val = val.strip().strip('"') if eq else None
                params.append((name.strip().lower(), val))
            offers.append((parts[0].lower(), params))
    return offers


def negotiate(header_values: list) -> Deflate | None:
    """The first permessage-deflate offer the server can accept, as a Deflate, or None.

    An offer with an unknown, repeated or invalid parameter is declined, not failed (RFC 7692 5.1).
    server_max_window_bits=8 is declined too: zlib cannot compress with an 8-bit window."""
    try:
        offers = _parse_offers([v.decode("ascii") for v in header_values])
    except UnicodeDecodeError:
        return None
    for name, params in offers:
        if name != "permessage-deflate":
            continue
        seen = set()
        accepted = {"server_no_context_takeover": False, "client_no_context_takeover": False,
                    "server_max_window_bits": 15, "client_max_window_bits": 15}
        ok = True
        for param, value in params:
            if param in seen or param not in accepted:
                ok = False
                break
            seen.add(param)
            if param.endswith("context_takeover"):
                if value is not None:
                    ok = False
                    break
                accepted[param] = True
            elif value is None:
                if param == "server_max_window_bits":
                    ok = False
                    break
                # client_max_window_bits without a value: the client can take any; we keep 15.
            elif not (value.isdigit() and len(value) <= 2 and 8 <= int(value) <= 15):
                ok = False
                break
            else:
                accepted[param] = int(value)
        if ok and accepted["server_max_window_bits"] == 8:
            ok = False
        if ok:
            return Deflate(**accepted)
    return None
