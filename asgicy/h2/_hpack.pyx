# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""HPACK (RFC 7541) in Cython: the same API as the pure-Python reference ``hpack.py`` (see it for the
contract), which every HPACK test runs against as well, and a differential test holds the two to the same
fields, tables and errors for the same blocks.

The Huffman tables are built at import from ``grammar.HUFFMAN_CODE_LENGTHS`` (the code is canonical, so the
lengths determine it), into C arrays: decoding tries code lengths from the shortest on a 64-bit window of
bits, as the reference does on Python ints; a table of the codes of 8 bits or fewer decodes most bytes of
text in one step. The encoder writes into one C buffer per block; its dynamic table is the reference's
(deque and dicts), so the two produce the same bytes.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

from . import errors as E
from .errors import HeaderListTooLarge, HPACKError
from .grammar import ENTRY_OVERHEAD, EOS, HUFFMAN_CODE_LENGTHS, STATIC_TABLE
from .hpack import ENCODER_TABLE_SIZE, _SENSITIVE, _STATIC_FIELDS, _STATIC_NAMES, _UNIQUE

from collections import deque

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
cdef uint64_t _limit[MAX_LENGTH + 1]   # (first + count) << (32 - length): the codes of that length, left aligned
cdef int _fast[256]                    # a whole code in the top 8 bits of the window: symbol << 8 | length
cdef int _shortest = MAX_LENGTH
cdef Py_ssize_t STATIC_SIZE = len(STATIC_TABLE)
cdef long long MAX_INTEGER = 2**31 - 1
cdef int ENTRY = ENTRY_OVERHEAD
cdef int EOS_SYMBOL = EOS  # (a C int: compared once per decoded symbol)


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
    for n in range(MAX_LENGTH + 1):
        _limit[n] = (<uint64_t>_first[n] + <uint64_t>_count[n]) << (32 - n) if _count[n] else 0
    for i in range(256):
        _fast[i] = 0
    for symbol in range(SYMBOLS):
        n = _lengths[symbol]
        if n <= 8:
            for i in range(1 << (8 - n)):
                _fast[(_codes[symbol] << (8 - n)) | i] = symbol << 8 | n


_build_tables()
HUFFMAN_CODES = [_codes[s] for s in range(SYMBOLS)]



# -- a growing C buffer, for the encoder's output ------------------------------------------------------------

# (Buffer, the struct the encoder writes into, is declared in _hpack.pxd.)

cdef int _reserve(Buffer *out, Py_ssize_t more) except -1:
    cdef Py_ssize_t wanted = out.size + more
    cdef unsigned char *grown
    if wanted <= out.capacity:
        return 0
    wanted = max(wanted, 2 * out.capacity, 256)
    if out.heap:
        grown = <unsigned char *>realloc(out.data, wanted)
    else:
        grown = <unsigned char *>malloc(wanted)
        if grown != NULL and out.size:
            memcpy(grown, out.data, out.size)
    if grown == NULL:
        raise MemoryError()
    out.heap = True
    out.data = grown
    out.capacity = wanted
    return 0


cdef int _put_integer(Buffer *out, long long value, int prefix_bits, int first) except -1:
    """RFC 7541 5.1 into ``out``."""
    cdef long long limit = (1 << prefix_bits) - 1
    _reserve(out, 8)
    if value < limit:
        out.data[out.size] = first | value
        out.size += 1
        return 0
    out.data[out.size] = first | limit
    out.size += 1
    value -= limit
    while value >= 128:
        out.data[out.size] = (value & 0x7F) | 0x80
        out.size += 1
        value >>= 7
    out.data[out.size] = value
    out.size += 1
    return 0


cdef Py_ssize_t _huffman_length(const unsigned char *data, Py_ssize_t n):
    cdef Py_ssize_t i
    cdef long long bits = 0
    for i in range(n):
        bits += _lengths[data[i]]
    return (bits + 7) // 8


cdef void _huffman_into(unsigned char *target, const unsigned char *data, Py_ssize_t n):
    cdef Py_ssize_t i, at = 0
    cdef uint64_t value = 0
    cdef int bits = 0, length
    for i in range(n):
        length = _lengths[data[i]]
        value = (value << length) | _codes[data[i]]
        bits += length
        while bits >= 8:
            bits -= 8
            target[at] = (value >> bits) & 0xFF
            at += 1
    if bits:
        target[at] = ((value << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xFF


cdef int _put_string(Buffer *out, bytes data) except -1:
    """A string literal, Huffman-coded when that is shorter (RFC 7541 5.2)."""
    cdef const unsigned char *raw = <const unsigned char *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t coded = _huffman_length(raw, n)
    if coded < n:
        _put_integer(out, coded, 7, 0x80)
        _reserve(out, coded)
        _huffman_into(out.data + out.size, raw, n)
        out.size += coded
    else:
        _put_integer(out, n, 7, 0)
        _reserve(out, n)
        memcpy(out.data + out.size, raw, n)
        out.size += n
    return 0


def huffman_length(bytes data) -> int:
    return _huffman_length(<const unsigned char *>PyBytes_AS_STRING(data), len(data))


def huffman_encode(bytes data) -> bytes:
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t coded = _huffman_length(<const unsigned char *>PyBytes_AS_STRING(data), n)
    out = PyBytes_FromStringAndSize(NULL, coded)
    _huffman_into(<unsigned char *>PyBytes_AS_STRING(out), <const unsigned char *>PyBytes_AS_STRING(data), n)
    return out


cdef bytes _huffman_decode(const unsigned char *data, Py_ssize_t start, Py_ssize_t end):
    cdef uint64_t value = 0  # the bits not yet decoded (``bits`` of them), the oldest at the top
    cdef uint64_t window
    cdef int bits = 0, length, symbol, entry
    cdef Py_ssize_t i, produced = 0
    # The shortest code is 5 bits: a string decodes to at most 8/5 of its length.
    cdef Py_ssize_t capacity = (end - start) * 8 // 5 + 1
    cdef unsigned char small[512]
    cdef unsigned char *out = small
    if capacity > 512:
        out = <unsigned char *>malloc(capacity)
        if out == NULL:
            raise MemoryError()
    try:
        for i in range(start, end):
            value = (value << 8) | data[i]
            bits += 8
            while bits >= _shortest:
                # The next 32 bits, left aligned (zeros past the end): a code of length n is below _limit[n].
                window = (value >> (bits - 32)) if bits >= 32 else (value << (32 - bits))
                window &= <uint64_t>0xFFFFFFFF
                entry = _fast[window >> 24]
                if entry and (entry & 0xFF) <= bits:
                    symbol = entry >> 8
                    length = entry & 0xFF
                else:
                    symbol = -1
                    for length in range(9 if bits >= 8 else _shortest, (bits if bits < MAX_LENGTH else MAX_LENGTH) + 1):
                        if window < _limit[length]:
                            symbol = _sorted[_offset[length] + <int>((window >> (32 - length)) - _first[length])]
                            break
                    if symbol < 0:
                        break  # the start of a longer code: wait for more bits
                if symbol == EOS_SYMBOL:
                    raise HPACKError(E.EOS_IN_STRING)
                out[produced] = symbol
                produced += 1
                bits -= length
                value &= (<uint64_t>1 << bits) - 1
        # RFC 7541 5.2: what is left must be fewer than 8 bits, all ones (the most significant bits of EOS).
        if bits > 7 or value != (<uint64_t>1 << bits) - 1:
            raise HPACKError(E.BAD_PADDING)
        return PyBytes_FromStringAndSize(<char *>out, produced)
    finally:
        if out != small:
            free(out)


def huffman_decode(bytes data) -> bytes:
    return _huffman_decode(<const unsigned char *>PyBytes_AS_STRING(data), 0, len(data))


def encode_integer(long long value, int prefix_bits, int first) -> bytes:
    cdef Buffer out
    out.data = NULL
    out.size = out.capacity = 0
    out.heap = True
    try:
        _put_integer(&out, value, prefix_bits, first)
        return PyBytes_FromStringAndSize(<char *>out.data, out.size)
    finally:
        free(out.data)


cdef long long _decode_integer(const unsigned char *data, Py_ssize_t end, Py_ssize_t *position,
                               int prefix_bits) except -1:
    cdef long long limit = (1 << prefix_bits) - 1
    cdef Py_ssize_t at = position[0]
    if at >= end:
        raise HPACKError(E.TRUNCATED_BLOCK)
    cdef long long value = data[at] & limit
    cdef int shift = 0
    cdef unsigned char byte
    at += 1
    if value < limit:
        position[0] = at
        return value
    while True:
        if at >= end:
            raise HPACKError(E.TRUNCATED_BLOCK)
        if shift > 28:  # a sixth continuation byte: past 2^31 whatever it holds (RFC 7541 5.1: "octet length")
            raise HPACKError(E.INTEGER_OVERFLOW)
        byte = data[at]
        at += 1
        value += <long long>(byte & 0x7F) << shift
        shift += 7
        if value > MAX_INTEGER:
            raise HPACKError(E.INTEGER_OVERFLOW)
        if not byte & 0x80:
            position[0] = at
            return value


def decode_integer(bytes data, Py_ssize_t position, int prefix_bits) -> tuple:
    value = _decode_integer(<const unsigned char *>PyBytes_AS_STRING(data), len(data), &position, prefix_bits)
    return value, position


def encode_string(bytes data) -> bytes:
    cdef Buffer out
    out.data = NULL
    out.size = out.capacity = 0
    out.heap = True
    try:
        _put_string(&out, data)
        return PyBytes_FromStringAndSize(<char *>out.data, out.size)
    finally:
        free(out.data)


cdef class Decoder:
    """Decodes the header blocks of one connection's peer, keeping its dynamic table (RFC 7541 2.3.2)."""

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
            return <tuple>STATIC_TABLE[index - 1]
        if index - STATIC_SIZE <= len(self.table):
            return <tuple>self.table[index - STATIC_SIZE - 1]
        raise HPACKError(E.INDEX_OUT_OF_RANGE)

    cdef int _evict(self, Py_ssize_t limit) except -1:
        cdef bytes name, value
        while self.table_size > limit:
            name, value = self.table.pop()
            self.table_size -= len(name) + len(value) + ENTRY
        return 0

    cdef int _insert_field(self, tuple field, Py_ssize_t size) except -1:
        self._evict(max(0, self.table_size_limit - size))
        if size <= self.table_size_limit:
            self.table.insert(0, field)
            self.table_size += size
        return 0

    cdef bytes _string(self, const unsigned char *data, Py_ssize_t end, Py_ssize_t *position):
        if position[0] >= end:
            raise HPACKError(E.TRUNCATED_BLOCK)
        cdef bint huffman = data[position[0]] & 0x80
        cdef long long length = _decode_integer(data, end, position, 7)
        cdef Py_ssize_t start = position[0]
        if length > end - start:
            raise HPACKError(E.TRUNCATED_BLOCK)
        position[0] = start + length
        if huffman:
            return _huffman_decode(data, start, start + length)
        return PyBytes_FromStringAndSize(<const char *>data + start, length)

    cpdef list decode(self, bytes data):
        cdef const unsigned char *view = <const unsigned char *>PyBytes_AS_STRING(data)
        cdef Py_ssize_t position = 0, end = PyBytes_GET_SIZE(data)
        cdef long long size = 0, index, new_size
        cdef bint too_large = False, seen_field = False, indexing
        cdef unsigned char byte
        cdef list fields = []
        cdef tuple field
        cdef bytes name, value
        while position < end:
            byte = view[position]
            if byte & 0x80:  # indexed field (6.1): the table's own (name, value) goes in the list
                index = _decode_integer(view, end, &position, 7)
                field = self._field(index)
                name = <bytes>field[0]
                value = <bytes>field[1]
            elif byte & 0xE0 == 0x20:  # dynamic table size update (6.3)
                if seen_field:
                    raise HPACKError(E.TABLE_SIZE_NOT_FIRST)
                new_size = _decode_integer(view, end, &position, 5)
                if new_size > self.max_table_size:
                    raise HPACKError(E.TABLE_SIZE_TOO_LARGE)
                self.table_size_limit = new_size
                self._evict(new_size)
                continue
            else:  # a literal: with incremental indexing (6.2.1), without (6.2.2), never indexed (6.2.3)
                indexing = byte & 0x40
                index = _decode_integer(view, end, &position, 6 if indexing else 4)
                if index:
                    name = <bytes>self._field(index)[0]
                else:
                    name = self._string(view, end, &position)
                value = self._string(view, end, &position)
                field = (name, value)
                if indexing:
                    self._insert_field(field, PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value) + ENTRY)
            seen_field = True
            size += PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value) + ENTRY
            if size > self.max_header_list_size:
                too_large = True
                fields.clear()
            if not too_large:
                fields.append(field)
        if too_large:
            raise HeaderListTooLarge(size)
        return fields


# The :status values a response most often has (RFC 7541 appendix A indexes 8-14): their static index.
cdef dict _STATUS_INDEX = {int(value): index for (name, value), index in _STATIC_FIELDS.items() if name == b":status"}
cdef Py_ssize_t STATUS_NAME = _STATIC_NAMES[b":status"]
# The reference's tables and sets, typed for the encoder's lookups (C dict and set calls, not method calls).
cdef dict _static_fields = _STATIC_FIELDS
cdef dict _static_names = _STATIC_NAMES
cdef frozenset _sensitive = _SENSITIVE
cdef frozenset _unique = _UNIQUE


cdef class Encoder:
    """Encodes header lists with a dynamic table mirroring the peer's (see hpack.py: the same choices, so the
    same bytes)."""

    def __init__(self, Py_ssize_t max_table_size=ENCODER_TABLE_SIZE):
        self.table_size_limit = min(max_table_size, ENCODER_TABLE_SIZE)
        self.table_size = 0
        self.entries = deque()
        self.inserted = 0
        self._fields = {}
        self._names = {}
        self._update_smallest = -1
        self._update_final = -1

    cpdef set_max_table_size(self, Py_ssize_t size):
        cdef Py_ssize_t limit = min(size, ENCODER_TABLE_SIZE)
        if limit == self.table_size_limit:
            return
        if self._update_final < 0:
            self._update_smallest = limit
        else:
            self._update_smallest = min(self._update_smallest, limit)
        self._update_final = limit
        self.table_size_limit = limit
        self._evict(limit)

    cdef int _evict(self, Py_ssize_t limit) except -1:
        cdef tuple entry
        cdef object key
        cdef Py_ssize_t number
        while self.table_size > limit:
            entry = self.entries.popleft()
            self.table_size -= <Py_ssize_t>entry[2]
            number = self.inserted - len(self.entries)
            key = (entry[0], entry[1])
            if self._fields.get(key) == number:
                del self._fields[key]
            if self._names.get(entry[0]) == number:
                del self._names[entry[0]]
        return 0

    cdef int _insert(self, bytes name, bytes value, Py_ssize_t size) except -1:
        self._evict(self.table_size_limit - size)
        self.entries.append((name, value, size))
        self.table_size += size
        self.inserted += 1
        self._fields[(name, value)] = self.inserted
        self._names[name] = self.inserted
        return 0

    cdef int _start(self, Buffer *out) except -1:
        if self._update_final >= 0:
            if self._update_smallest < self._update_final:
                _put_integer(out, self._update_smallest, 5, 0x20)
            _put_integer(out, self._update_final, 5, 0x20)
            self._update_smallest = self._update_final = -1
        return 0

    cpdef bytes encode_response(self, int status, fields):
        return self._block(status, fields)

    cpdef bytes encode(self, fields):
        return self._block(-1, fields)

    cdef bytes _block(self, int status, fields):
        """One header block: the size updates owed, ``:status`` unless ``status`` is -1 (a trailer section),
        then ``fields``."""
        cdef unsigned char small[256]  # a response's block nearly always fits: no malloc
        cdef Buffer out
        out.data = small
        out.size = 0
        out.capacity = 256
        out.heap = False
        try:
            self._start(&out)
            if status >= 0:
                index = _STATUS_INDEX.get(status)
                if index is not None:
                    _put_integer(&out, index, 7, 0x80)
                else:
                    _put_integer(&out, STATUS_NAME, 4, 0)
                    _put_string(&out, b"%d" % status)
            self._fields_into(&out, fields)
            return PyBytes_FromStringAndSize(<char *>out.data, out.size)
        finally:
            if out.heap:
                free(out.data)

    cdef int _fields_into(self, Buffer *out, fields) except -1:
        cdef bytes name, value
        cdef bint sensitive, indexing
        cdef Py_ssize_t size, name_index
        cdef int prefix, first
        for field in fields:
            name, value = field
            # The caller's (name, value) tuple is the key as it is; any other pair is made one.
            key = field if type(field) is tuple else (name, value)
            index = _static_fields.get(key)
            if index is not None:
                _put_integer(out, index, 7, 0x80)
                continue
            number = self._fields.get(key)  # (secrets are never inserted: a hit is not one)
            if number is not None:
                _put_integer(out, STATIC_SIZE + self.inserted - <Py_ssize_t>number + 1, 7, 0x80)
                continue
            sensitive = name in _sensitive
            index = _static_names.get(name)
            if index is not None:
                name_index = index
            else:
                number = self._names.get(name)
                name_index = STATIC_SIZE + self.inserted - <Py_ssize_t>number + 1 if number is not None else 0
            size = len(name) + len(value) + ENTRY
            indexing = not sensitive and name not in _unique and size <= self.table_size_limit // 4
            if indexing:
                prefix, first = 6, 0x40
            else:
                prefix, first = 4, (0x10 if sensitive else 0x00)
            if name_index:
                _put_integer(out, name_index, prefix, first)
            else:
                _put_integer(out, 0, prefix, first)
                _put_string(out, name)
            _put_string(out, value)
            if indexing:
                self._insert(name, value, size)
        return 0
