# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""HPACK (RFC 7541) in Cython: the same API as the pure-Python reference ``hpack.py`` (see it for the
contract), which every HPACK test runs against as well, and a differential test holds the two to the same
fields, tables and errors for the same blocks.

The Huffman tables are built at import from ``grammar.HUFFMAN_CODE_LENGTHS`` (the code is canonical, so the
lengths determine it), into C arrays: decoding tries code lengths from the shortest on a 64-bit window of
bits, as the reference does on Python ints.
"""

from libc.stdint cimport uint64_t, uint32_t

from . import errors as E
from .errors import HeaderListTooLarge, HPACKError
from .grammar import ENTRY_OVERHEAD, EOS, HUFFMAN_CODE_LENGTHS, STATIC_TABLE

IMPLEMENTATION = "cython"

cdef enum:
    SYMBOLS = 257
    MAX_LENGTH = 30

cdef uint32_t _codes[SYMBOLS]
cdef int _lengths[SYMBOLS]
cdef uint32_t _first[MAX_LENGTH + 1]   # the first code of each length
cdef int _count[MAX_LENGTH + 1]        # how many codes have that length
cdef int _offset[MAX_LENGTH + 1]       # where that length's symbols start in _sorted
cdef int _sorted[SYMBOLS]              # the symbols ordered by (length, symbol)
cdef int _shortest = MAX_LENGTH
cdef Py_ssize_t STATIC_SIZE = len(STATIC_TABLE)
cdef long long MAX_INTEGER = 2**31 - 1
cdef int ENTRY = ENTRY_OVERHEAD


def _build_tables():
    global _shortest
    order = sorted(range(SYMBOLS), key=lambda s: (HUFFMAN_CODE_LENGTHS[s], s))
    cdef uint32_t code = 0
    cdef int previous = 0, n, i, symbol
    for n in range(MAX_LENGTH + 1):
        _count[n] = 0
        _first[n] = 0
        _offset[n] = 0
    for i in range(SYMBOLS):
        symbol = order[i]
        n = HUFFMAN_CODE_LENGTHS[symbol]
        if i:
            code = (code + 1) << (n - previous)
        previous = n
        _codes[symbol] = code
        _lengths[symbol] = n
        _sorted[i] = symbol
        if _count[n] == 0:
            _first[n] = code
            _offset[n] = i
        _count[n] += 1
        if n < _shortest:
            _shortest = n


_build_tables()
HUFFMAN_CODES = [_codes[s] for s in range(SYMBOLS)]


def huffman_length(bytes data) -> int:
    cdef const unsigned char[:] view = data
    cdef Py_ssize_t i
    cdef long long bits = 0
    for i in range(len(data)):
        bits += _lengths[view[i]]
    return (bits + 7) // 8


def huffman_encode(bytes data) -> bytes:
    cdef Py_ssize_t n = len(data), i, at = 0
    cdef const unsigned char[:] view = data
    cdef uint64_t value = 0
    cdef int bits = 0, length
    out = bytearray(huffman_length(data))
    cdef unsigned char[:] target = out
    for i in range(n):
        length = _lengths[view[i]]
        value = (value << length) | _codes[view[i]]
        bits += length
        while bits >= 8:
            bits -= 8
            target[at] = (value >> bits) & 0xFF
            at += 1
    if bits:
        target[at] = ((value << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xFF
    return bytes(out)


cdef bytes _huffman_decode(const unsigned char[:] view, Py_ssize_t start, Py_ssize_t end):
    cdef uint64_t value = 0  # the bits not yet decoded (``bits`` of them), the oldest at the top
    cdef int bits = 0, length, symbol
    cdef uint64_t code
    cdef Py_ssize_t i
    out = bytearray()
    for i in range(start, end):
        value = (value << 8) | view[i]
        bits += 8
        while bits >= _shortest:
            symbol = -1
            for length in range(_shortest, (bits if bits < MAX_LENGTH else MAX_LENGTH) + 1):
                if _count[length] == 0:
                    continue
                code = (value >> (bits - length)) & ((<uint64_t>1 << length) - 1)
                if code - _first[length] < <uint64_t>_count[length] and code >= _first[length]:
                    symbol = _sorted[_offset[length] + <int>(code - _first[length])]
                    break
            if symbol < 0:
                break  # the start of a longer code: wait for more bits
            if symbol == EOS:
                raise HPACKError(E.EOS_IN_STRING)
            out.append(symbol)
            bits -= length
            value &= (<uint64_t>1 << bits) - 1
    # RFC 7541 5.2: what is left must be fewer than 8 bits, all ones (the most significant bits of EOS).
    if bits > 7 or value != (<uint64_t>1 << bits) - 1:
        raise HPACKError(E.BAD_PADDING)
    return bytes(out)


def huffman_decode(bytes data) -> bytes:
    return _huffman_decode(data, 0, len(data))


def encode_integer(long long value, int prefix_bits, int first) -> bytes:
    cdef long long limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


cdef long long _decode_integer(const unsigned char[:] view, Py_ssize_t *position, int prefix_bits) except -1:
    cdef long long limit = (1 << prefix_bits) - 1
    cdef Py_ssize_t at = position[0]
    if at >= view.shape[0]:
        raise HPACKError(E.TRUNCATED_BLOCK)
    cdef long long value = view[at] & limit
    cdef int shift = 0
    cdef unsigned char byte
    at += 1
    if value < limit:
        position[0] = at
        return value
    while True:
        if at >= view.shape[0]:
            raise HPACKError(E.TRUNCATED_BLOCK)
        if shift > 28:  # a sixth continuation byte: past 2^31 whatever it holds (RFC 7541 5.1: "octet length")
            raise HPACKError(E.INTEGER_OVERFLOW)
        byte = view[at]
        at += 1
        value += <long long>(byte & 0x7F) << shift
        shift += 7
        if value > MAX_INTEGER:
            raise HPACKError(E.INTEGER_OVERFLOW)
        if not byte & 0x80:
            position[0] = at
            return value


def decode_integer(bytes data, Py_ssize_t position, int prefix_bits) -> tuple:
    value = _decode_integer(data, &position, prefix_bits)
    return value, position


def encode_string(bytes data) -> bytes:
    cdef Py_ssize_t coded_length = huffman_length(data)
    if coded_length < len(data):
        return encode_integer(coded_length, 7, 0x80) + huffman_encode(data)
    return encode_integer(len(data), 7, 0) + data


cdef class Decoder:
    """Decodes the header blocks of one connection's peer, keeping its dynamic table (RFC 7541 2.3.2)."""

    cdef public Py_ssize_t max_table_size, table_size_limit, max_header_list_size, table_size
    cdef public list table

    def __init__(self, Py_ssize_t max_table_size=4096, Py_ssize_t max_header_list_size=65536):
        self.max_table_size = max_table_size
        self.table_size_limit = max_table_size
        self.max_header_list_size = max_header_list_size
        self.table = []
        self.table_size = 0

    cdef tuple _field(self, long long index):
        if index == 0:
            raise HPACKError(E.INDEX_ZERO)
        if index <= STATIC_SIZE:
            return STATIC_TABLE[index - 1]
        if index - STATIC_SIZE <= len(self.table):
            return self.table[index - STATIC_SIZE - 1]
        raise HPACKError(E.INDEX_OUT_OF_RANGE)

    cdef _evict(self, Py_ssize_t limit):
        cdef bytes name, value
        while self.table_size > limit:
            name, value = self.table.pop()
            self.table_size -= len(name) + len(value) + ENTRY

    cdef _insert(self, bytes name, bytes value):
        cdef Py_ssize_t size = len(name) + len(value) + ENTRY
        self._evict(max(0, self.table_size_limit - size))
        if size <= self.table_size_limit:
            self.table.insert(0, (name, value))
            self.table_size += size

    cdef bytes _string(self, const unsigned char[:] view, Py_ssize_t *position):
        if position[0] >= view.shape[0]:
            raise HPACKError(E.TRUNCATED_BLOCK)
        cdef bint huffman = view[position[0]] & 0x80
        cdef long long length = _decode_integer(view, position, 7)
        cdef Py_ssize_t start = position[0]
        cdef Py_ssize_t end = start + length
        if end > view.shape[0]:
            raise HPACKError(E.TRUNCATED_BLOCK)
        position[0] = end
        if huffman:
            return _huffman_decode(view, start, end)
        return bytes(view[start:end])

    def decode(self, bytes data) -> list:
        cdef const unsigned char[:] view = data
        cdef Py_ssize_t position = 0, end = len(data)
        cdef long long size = 0, index, new_size
        cdef bint too_large = False, seen_field = False, indexing
        cdef unsigned char byte
        cdef list fields = []
        cdef bytes name, value
        while position < end:
            byte = view[position]
            if byte & 0x80:  # indexed field (6.1)
                index = _decode_integer(view, &position, 7)
                name, value = self._field(index)
            elif byte & 0xE0 == 0x20:  # dynamic table size update (6.3)
                if seen_field:
                    raise HPACKError(E.TABLE_SIZE_NOT_FIRST)
                new_size = _decode_integer(view, &position, 5)
                if new_size > self.max_table_size:
                    raise HPACKError(E.TABLE_SIZE_TOO_LARGE)
                self.table_size_limit = new_size
                self._evict(new_size)
                continue
            else:  # a literal: with incremental indexing (6.2.1), without (6.2.2), never indexed (6.2.3)
                indexing = byte & 0x40
                index = _decode_integer(view, &position, 6 if indexing else 4)
                if index:
                    name = self._field(index)[0]
                else:
                    name = self._string(view, &position)
                value = self._string(view, &position)
                if indexing:
                    self._insert(name, value)
            seen_field = True
            size += len(name) + len(value) + ENTRY
            if size > self.max_header_list_size:
                too_large = True
                fields.clear()
            if not too_large:
                fields.append((name, value))
        if too_large:
            raise HeaderListTooLarge(size)
        return fields


_STATIC_FIELDS = {}
_STATIC_NAMES = {}
for _index, (_name, _value) in enumerate(STATIC_TABLE, 1):
    _STATIC_FIELDS.setdefault((_name, _value), _index)
    _STATIC_NAMES.setdefault(_name, _index)
_STATUS = {int(value): encode_integer(index, 7, 0x80) for (name, value), index in _STATIC_FIELDS.items()
           if name == b":status"}
_SENSITIVE = frozenset((b"authorization", b"proxy-authorization", b"cookie", b"set-cookie"))


cdef class Encoder:
    """Encodes header lists with the static table and literals; never indexes (see hpack.py)."""

    def encode_status(self, int status) -> bytes:
        encoded = _STATUS.get(status)
        if encoded is None:
            encoded = encode_integer(_STATIC_NAMES[b":status"], 4, 0) + encode_string(b"%d" % status)
        return encoded

    def encode(self, fields) -> bytes:
        out = bytearray()
        for name, value in fields:
            index = _STATIC_FIELDS.get((name, value))
            if index is not None:
                out += encode_integer(index, 7, 0x80)
                continue
            first = 0x10 if name in _SENSITIVE else 0x00
            name_index = _STATIC_NAMES.get(name)
            if name_index is not None:
                out += encode_integer(name_index, 4, first)
            else:
                out.append(first)
                out += encode_string(name)
            out += encode_string(value)
        return bytes(out)
