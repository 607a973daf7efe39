"""HPACK (RFC 7541), the header compression of HTTP/2: the pure-Python reference.

``Decoder(max_table_size=4096, max_header_list_size=...)``
    ``decode(block) -> list[(name, value)]`` decodes one whole header block (the payloads of a HEADERS frame
    and its CONTINUATIONs, joined) into fields as bytes, updating the dynamic table as it goes. Raises
    :class:`~asgicy.h2.errors.HPACKError` for a block that breaks RFC 7541 (a connection error), and
    :class:`~asgicy.h2.errors.HeaderListTooLarge` for one that decodes to more than ``max_header_list_size``
    (RFC 9113 6.5.2: sizes counted as in RFC 7541 4.1); in that case the whole block was still processed, so
    the dynamic table stays in step with the peer's. ``max_table_size`` is what we announced in
    SETTINGS_HEADER_TABLE_SIZE: the peer may shrink its table below it but never grow it past it.

``Encoder(max_table_size=4096)``
    ``encode_response(status, fields) -> bytes`` encodes a response's header block, ``encode(fields)`` a
    trailer section. Fields that repeat from response to response go into a dynamic table (at most
    ``ENCODER_TABLE_SIZE`` bytes, and never more than the peer's SETTINGS_HEADER_TABLE_SIZE, which the
    connection passes to ``set_max_table_size``; the size updates RFC 7541 4.2 asks for open the next
    block), so they cost one byte each after the first response. Values that differ per response
    (content-length, etag, ...) are literals without indexing, and secrets (cookies, authorization) are
    never indexed (RFC 7541 7.1.3).

``huffman_encode(data)``, ``huffman_decode(data)``, ``huffman_length(data)``: the string code of appendix B.
"""

from __future__ import annotations

from collections import deque

from . import errors as E
from .errors import HeaderListTooLarge, HPACKError
from .grammar import ENTRY_OVERHEAD, EOS, HUFFMAN_CODE_LENGTHS, STATIC_TABLE

STATIC_SIZE = len(STATIC_TABLE)


def _canonical_codes(lengths) -> list:
    """The codes of a canonical Huffman code from its lengths (RFC 7541 appendix B is one): symbols ordered
    by (length, symbol) take consecutive codes, shifted left whenever the length grows."""
    codes = [0] * len(lengths)
    code = -1
    previous = 0
    for symbol in sorted(range(len(lengths)), key=lambda s: (lengths[s], s)):
        code = (code + 1) << (lengths[symbol] - previous)
        previous = lengths[symbol]
        codes[symbol] = code
    return codes


HUFFMAN_CODES = _canonical_codes(HUFFMAN_CODE_LENGTHS)
# For decoding, by length: the first code of that length, how many codes have it, and the symbols in order.
# A canonical code is decoded by trying lengths from the shortest: the top `n` bits are a code of length n
# exactly when they are below first[n] + count[n].
_LENGTHS = sorted(set(HUFFMAN_CODE_LENGTHS))
_FIRST = {n: min(HUFFMAN_CODES[s] for s in range(257) if HUFFMAN_CODE_LENGTHS[s] == n) for n in _LENGTHS}
_SYMBOLS = {n: [s for s in range(257) if HUFFMAN_CODE_LENGTHS[s] == n] for n in _LENGTHS}
_SHORTEST = _LENGTHS[0]


def huffman_length(data: bytes) -> int:
    """The length in bytes of ``data`` Huffman-coded, padding included."""
    return (sum(HUFFMAN_CODE_LENGTHS[byte] for byte in data) + 7) // 8


def huffman_encode(data: bytes) -> bytes:
    """``data`` in the Huffman code, padded to a byte with the most significant bits of EOS (all ones)."""
    value = 0
    bits = 0
    for byte in data:
        value = (value << HUFFMAN_CODE_LENGTHS[byte]) | HUFFMAN_CODES[byte]
        bits += HUFFMAN_CODE_LENGTHS[byte]
    padding = -bits % 8
    value = (value << padding) | ((1 << padding) - 1)
    return value.to_bytes((bits + padding) // 8, "big")


def _next_symbol(value: int, bits: int) -> tuple:
    """The symbol the top of ``value`` (``bits`` bits long) starts with, and its code length; (-1, 0) when
    those bits are only the start of a longer code."""
    for length in _LENGTHS:
        if length > bits:
            break
        index = (value >> (bits - length)) - _FIRST[length]
        if index < len(_SYMBOLS[length]):
            return _SYMBOLS[length][index], length
    return -1, 0


def huffman_decode(data: bytes) -> bytes:
    """The bytes a Huffman-coded string stands for. Raises HPACKError for EOS inside it or bad padding."""
    out = bytearray()
    value = 0  # the bits not yet decoded (``bits`` of them), the oldest at the top
    bits = 0
    for byte in data:
        value = (value << 8) | byte
        bits += 8
        while True:
            symbol, length = _next_symbol(value, bits)
            if not length:
                break
            if symbol == EOS:
                raise HPACKError(E.EOS_IN_STRING)
            out.append(symbol)
            bits -= length
            value &= (1 << bits) - 1
    # RFC 7541 5.2: what is left must be fewer than 8 bits, all ones (the most significant bits of EOS).
    if bits > 7 or value != (1 << bits) - 1:
        raise HPACKError(E.BAD_PADDING)
    return bytes(out)


# -- integers and strings (RFC 7541 5.1, 5.2) -----------------------------------------------------------------

# An integer whose continuation runs past this many bytes cannot be a size or index we accept: refusing it
# early stops a block of endless 0x80 bytes from being read as one number (RFC 7541 5.1 lets a decoder limit).
MAX_INTEGER = 2**31 - 1


def encode_integer(value: int, prefix_bits: int, first: int) -> bytes:
    """``value`` in an N-bit prefix (RFC 7541 5.1); ``first`` holds the bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_integer(data: bytes, position: int, prefix_bits: int) -> tuple:
    """The integer whose prefix is in ``data[position]``, and where the next representation starts."""
    if position >= len(data):
        raise HPACKError(E.TRUNCATED_BLOCK)
    limit = (1 << prefix_bits) - 1
    value = data[position] & limit
    position += 1
    if value < limit:
        return value, position
    shift = 0
    while True:
        if position >= len(data):
            raise HPACKError(E.TRUNCATED_BLOCK)
        if shift > 28:  # a sixth continuation byte: past 2^31 whatever it holds (RFC 7541 5.1: "octet length")
            raise HPACKError(E.INTEGER_OVERFLOW)
        byte = data[position]
        position += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if value > MAX_INTEGER:
            raise HPACKError(E.INTEGER_OVERFLOW)
        if not byte & 0x80:
            return value, position


def encode_string(data: bytes) -> bytes:
    """A string literal, Huffman-coded when that is shorter (RFC 7541 5.2)."""
    coded_length = huffman_length(data)
    if coded_length < len(data):
        return encode_integer(coded_length, 7, 0x80) + huffman_encode(data)
    return encode_integer(len(data), 7, 0) + data


# -- the decoder ---------------------------------------------------------------------------------------------


class Decoder:
    """Decodes the header blocks of one connection's peer, keeping its dynamic table (RFC 7541 2.3.2)."""

    def __init__(self, max_table_size: int = 4096, max_header_list_size: int = 65536) -> None:
        self.max_table_size = max_table_size  # what we allow (our SETTINGS_HEADER_TABLE_SIZE)
        self.table_size_limit = max_table_size  # what the peer chose, at most max_table_size (RFC 7541 4.2)
        self.max_header_list_size = max_header_list_size
        self.table: list = []  # the dynamic table, newest entry first (RFC 7541 2.3.3)
        self.table_size = 0

    def _field(self, index: int) -> tuple:
        if index == 0:
            raise HPACKError(E.INDEX_ZERO)
        if index <= STATIC_SIZE:
            return STATIC_TABLE[index - 1]
        if index - STATIC_SIZE <= len(self.table):
            return self.table[index - STATIC_SIZE - 1]
        raise HPACKError(E.INDEX_OUT_OF_RANGE)

    def _evict(self, limit: int) -> None:
        while self.table_size > limit:
            name, value = self.table.pop()
            self.table_size -= len(name) + len(value) + ENTRY_OVERHEAD

    def _insert(self, name: bytes, value: bytes) -> None:
        """RFC 7541 4.4: evict until the entry fits; an entry larger than the whole table empties it."""
        size = len(name) + len(value) + ENTRY_OVERHEAD
        self._evict(max(0, self.table_size_limit - size))
        if size <= self.table_size_limit:
            self.table.insert(0, (name, value))
            self.table_size += size

    def _string(self, data: bytes, position: int) -> tuple:
        if position >= len(data):
            raise HPACKError(E.TRUNCATED_BLOCK)
        huffman = data[position] & 0x80
        length, position = decode_integer(data, position, 7)
        end = position + length
        if end > len(data):
            raise HPACKError(E.TRUNCATED_BLOCK)
        raw = data[position:end]
        return (huffman_decode(raw) if huffman else bytes(raw)), end

    def decode(self, data: bytes) -> list:
        """The fields of one whole header block, in order."""
        fields: list = []
        size = 0  # the decoded size so far (RFC 9113 6.5.2)
        too_large = False
        position = 0
        seen_field = False
        end = len(data)
        while position < end:
            byte = data[position]
            if byte & 0x80:  # indexed field (6.1)
                index, position = decode_integer(data, position, 7)
                name, value = self._field(index)
            elif byte & 0xE0 == 0x20:  # dynamic table size update (6.3)
                if seen_field:
                    raise HPACKError(E.TABLE_SIZE_NOT_FIRST)
                new_size, position = decode_integer(data, position, 5)
                if new_size > self.max_table_size:
                    raise HPACKError(E.TABLE_SIZE_TOO_LARGE)
                self.table_size_limit = new_size
                self._evict(new_size)
                continue
            else:  # a literal: with incremental indexing (6.2.1), without (6.2.2), never indexed (6.2.3)
                indexing = byte & 0x40
                index, position = decode_integer(data, position, 6 if indexing else 4)
                if index:
                    name = self._field(index)[0]
                else:
                    name, position = self._string(data, position)
                value, position = self._string(data, position)
                if indexing:
                    self._insert(name, value)
            seen_field = True
            size += len(name) + len(value) + ENTRY_OVERHEAD
            if size > self.max_header_list_size:
                # Keep decoding (the table must follow the peer's) but keep nothing: a block that decodes
                # huge from a few bytes (an HPACK bomb) costs its length in work, not its decoded size.
                too_large = True
                fields.clear()
            if not too_large:
                fields.append((name, value))
        if too_large:
            raise HeaderListTooLarge(size)
        return fields


# -- the encoder ---------------------------------------------------------------------------------------------

_STATIC_FIELDS = {}
_STATIC_NAMES = {}
for _index, (_name, _value) in enumerate(STATIC_TABLE, 1):
    _STATIC_FIELDS.setdefault((_name, _value), _index)
    _STATIC_NAMES.setdefault(_name, _index)
# The :status values a response most often has, ready encoded (RFC 7541 appendix A indexes 8-14).
_STATUS = {int(value): encode_integer(index, 7, 0x80) for (name, value), index in _STATIC_FIELDS.items()
           if name == b":status"}
# Fields whose values must never be put in an intermediary's table (RFC 7541 7.1.3: secrets that compression
# could reveal); encoded "never indexed".
_SENSITIVE = frozenset((b"authorization", b"proxy-authorization", b"cookie", b"set-cookie"))
# Fields whose values are mostly different in each response: indexing them would only push the fields that
# repeat (content-type, server, date) out of the table. Sent as literals without indexing.
_UNIQUE = frozenset((b"content-length", b"content-range", b"etag", b"last-modified", b"location", b"age",
                     b"x-request-id"))
# The most our dynamic table holds, whatever the peer allows: the memory one connection's encoder may take.
ENCODER_TABLE_SIZE = 4096


class Encoder:
    """Encodes header lists, inserting what repeats into a dynamic table that mirrors the peer decoder's
    (RFC 7541 2.3.2): after the first response, a field sent again (content-type, server, date within its
    second) is one byte. See the module docstring."""

    def __init__(self, max_table_size: int = ENCODER_TABLE_SIZE) -> None:
        self.table_size_limit = min(max_table_size, ENCODER_TABLE_SIZE)
        self.table_size = 0
        self.entries = deque()  # (name, value, size), the oldest first
        self.inserted = 0  # entries inserted so far; the newest has this number, the oldest inserted - len + 1
        self._fields: dict = {}  # (name, value) -> the number of its entry
        self._names: dict = {}  # name -> the number of the newest entry with that name
        self._update = None  # [smallest, final] table size to announce at the start of the next block (4.2)

    def set_max_table_size(self, size: int) -> None:
        """The peer's SETTINGS_HEADER_TABLE_SIZE: the table must fit it from the next block on."""
        limit = min(size, ENCODER_TABLE_SIZE)
        if limit == self.table_size_limit:
            return
        if self._update is None:
            self._update = [limit, limit]
        else:
            self._update = [min(self._update[0], limit), limit]
        self.table_size_limit = limit
        self._evict(limit)

    def _evict(self, limit: int) -> None:
        entries = self.entries
        while self.table_size > limit:
            name, value, size = entries.popleft()
            self.table_size -= size
            number = self.inserted - len(entries)  # the number of the entry just evicted
            if self._fields.get((name, value)) == number:
                del self._fields[(name, value)]
            if self._names.get(name) == number:
                del self._names[name]

    def _insert(self, name: bytes, value: bytes, size: int) -> None:
        self._evict(self.table_size_limit - size)
        self.entries.append((name, value, size))
        self.table_size += size
        self.inserted += 1
        self._fields[(name, value)] = self._names[name] = self.inserted

    def _start(self, out: bytearray) -> None:
        """A block begins with the table size updates owed to the peer (RFC 7541 4.2, 6.3)."""
        if self._update is not None:
            smallest, final = self._update
            self._update = None
            if smallest < final:
                out += encode_integer(smallest, 5, 0x20)
            out += encode_integer(final, 5, 0x20)

    def encode_response(self, status: int, fields) -> bytes:
        """A response's header block: ``:status`` (RFC 9113 8.3.2), then ``fields``."""
        out = bytearray()
        self._start(out)
        encoded = _STATUS.get(status)
        if encoded is None:  # (not indexed: the odd status of one response)
            encoded = encode_integer(_STATIC_NAMES[b":status"], 4, 0) + encode_string(b"%d" % status)
        out += encoded
        self._fields_into(out, fields)
        return bytes(out)

    def encode(self, fields) -> bytes:
        """``fields`` (name, value pairs; names lower case) as one header block (a trailer section)."""
        out = bytearray()
        self._start(out)
        self._fields_into(out, fields)
        return bytes(out)

    def _fields_into(self, out: bytearray, fields) -> None:
        for name, value in fields:
            index = _STATIC_FIELDS.get((name, value))
            if index is not None:
                out += encode_integer(index, 7, 0x80)
                continue
            sensitive = name in _SENSITIVE
            if not sensitive:
                number = self._fields.get((name, value))
                if number is not None:
                    out += encode_integer(STATIC_SIZE + self.inserted - number + 1, 7, 0x80)
                    continue
            name_index = _STATIC_NAMES.get(name)
            if name_index is None:
                number = self._names.get(name)
                if number is not None:
                    name_index = STATIC_SIZE + self.inserted - number + 1
            size = len(name) + len(value) + ENTRY_OVERHEAD
            # Indexed: what may repeat and takes at most a quarter of the table; the rest literal, and
            # secrets never indexed.
            indexing = not sensitive and name not in _UNIQUE and size <= self.table_size_limit // 4
            if indexing:
                prefix, first = 6, 0x40
            else:
                prefix, first = 4, (0x10 if sensitive else 0x00)
            if name_index is not None:
                out += encode_integer(name_index, prefix, first)
            else:
                out.append(first)
                out += encode_string(name)
            out += encode_string(value)
            if indexing:
                self._insert(name, value, size)
