# cython: language_level=3, embedsignature=True, boundscheck=False, wraparound=False
"""The Cython HTTP/1.1 request parser: the same API and behaviour as :mod:`asgicy.http.reference`.

It has the reference's states, checks and messages, with C loops and lookup tables over the buffer
instead of Python bytes methods, and one difference of shape: it judges the framing headers
(Content-Length, Transfer-Encoding) as each arrives, where the reference judges them at the end of the
head; the differential tests hold both to the same events and errors. Read the reference first: it is
the specification of this module, and any difference in what the two produce is a bug.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from libc.string cimport memchr, memcmp

from .._cores cimport CompiledCore
cimport cython

from . import errors as E
from .errors import HTTPProtocolError
from .grammar import TOKEN_CHARACTERS

IMPLEMENTATION = "cython"

# C copies of asgicy.http.grammar's limits (tests/sansio/test_grammar.py checks they agree).
cdef enum:
    MAX_CHUNK_LINE = 4096
    MAX_CONTENT_LENGTH_DIGITS = 18
    MAX_CHUNK_SIZE_DIGITS = 15
    MAX_KNOWN_NAME = 32

# Which header a (lowercased) name is, for the framing decisions taken at the end of the head.
cdef enum FieldKind:
    F_OTHER = 0
    F_CONTENT_LENGTH = 1
    F_TRANSFER_ENCODING = 2
    F_HOST = 3
    F_CONNECTION = 4
    F_UPGRADE = 5
    F_EXPECT = 6

# Byte classes, built once: tchar (RFC 9110 5.6.2), hex digits, header value bytes (field-vchar / SP /
# HTAB / obs-text), a lowercase table and request-target bytes.
cdef unsigned char TCHAR[256]
cdef unsigned char HEX[256]
cdef unsigned char VALUE_BYTE[256]
cdef unsigned char LOWER[256]
cdef unsigned char TARGET_BYTE[256]  # 0: not allowed in a request-target, 2: '?', 1: any other allowed byte

cdef void _init_tables():
    cdef int i
    cdef bytes tchars = TOKEN_CHARACTERS
    for i in range(256):
        TCHAR[i] = 0
        HEX[i] = 1 if (48 <= i <= 57 or 65 <= i <= 70 or 97 <= i <= 102) else 0
        VALUE_BYTE[i] = 1 if (i == 9 or 32 <= i <= 126 or i >= 128) else 0
        LOWER[i] = i + 32 if 65 <= i <= 90 else i
        # RFC 9112 3.2: a request-target has no whitespace or control bytes; '#' (a fragment) is refused too.
        TARGET_BYTE[i] = 0 if (i <= 32 or i >= 127 or i == 35) else (2 if i == 63 else 1)
    for i in range(len(tchars)):
        TCHAR[<unsigned char>tchars[i]] = 1

_init_tables()


# Neither event can be part of a reference cycle (they hold bytes, str and lists of bytes pairs), so the
# garbage collector need not track them: that is two calls fewer per event.
@cython.freelist(64)
@cython.no_gc
cdef class Request:
    """A parsed request head (see ``asgicy.http.reference.Request`` for the meaning of each field; the
    fields are declared in _parser.pxd, so the compiled server reads them as C struct members)."""

    def __repr__(self):
        return f"<Request {self.method!r} {self.target!r} HTTP/{self.http_version}>"


@cython.freelist(64)
@cython.no_gc
cdef class EndOfMessage:
    """The end of a request body; ``trailers`` is a tuple of ``(name, value)``."""
    cdef public tuple trailers

    def __init__(self, trailers):
        self.trailers = trailers

    def __repr__(self):
        return f"<EndOfMessage trailers={self.trailers!r}>"


cdef inline EndOfMessage _eom(tuple trailers):
    cdef EndOfMessage eom = EndOfMessage.__new__(EndOfMessage)
    eom.trailers = trailers
    return eom


cdef inline bint _is_ows(unsigned char c) noexcept:
    return c == 32 or c == 9


cdef list _split_list(bytes value):
    return [item.strip(b" \t").lower() for item in value.split(b",")]


cdef class HTTPParser:
    """The request parser (see ``asgicy.http.reference.HTTPParser``); its fields are declared in
    _parser.pxd, where the compiled server reads its state."""

    def __init__(self, Py_ssize_t max_request_line_size=8192, Py_ssize_t max_header_size=65536,
                 Py_ssize_t max_header_count=100, max_body_size=None):
        self.max_request_line_size = max_request_line_size
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self._max_body = -1 if max_body_size is None else max_body_size
        self._state = REQUEST_LINE
        self._fields = []

    @property
    def max_body_size(self):
        return None if self._max_body < 0 else self._max_body

    # -- public API ---------------------------------------------------------------------------------

    def resume(self):
        """Continue parsing HTTP after a paused (declined) upgrade request."""
        if self._state != PAUSED:
            return []
        self._state = REQUEST_LINE
        return self._parse()

    def trailing_data(self):
        """The bytes buffered but not parsed (after an upgrade request); the buffer is emptied."""
        cdef bytes data = self._buf[self._pos:]
        self._buf = b""
        self._pos = 0
        return data

    @property
    def state(self):
        return <int>self._state

    @property
    def paused(self):
        return self._state == PAUSED

    @property
    def in_head(self):
        return self._state == HEADERS or (self._state == REQUEST_LINE and PyBytes_GET_SIZE(self._buf) > self._pos)

    # -- the state machine --------------------------------------------------------------------------

    cdef bint _closed(self) noexcept:
        return self._state == CLOSED

    cdef void _stop(self) noexcept:
        self._state = ERROR

    cdef int _run(self, list events) except -1:
        cdef const char* base = PyBytes_AS_STRING(self._buf)
        cdef Py_ssize_t end = PyBytes_GET_SIZE(self._buf)
        cdef Py_ssize_t pos, lf, take, pending
        cdef const char* found
        cdef ParserState state
        while True:
            pos = self._pos
            state = self._state
            if state == REQUEST_LINE and pos < end and not TCHAR[<unsigned char>base[pos]] \
                    and base[pos] != 13 and base[pos] != 10:
                raise HTTPProtocolError(E.INVALID_METHOD)  # see the reference: non-HTTP is refused at once
            if state == REQUEST_LINE or state == HEADERS or state == TRAILERS or state == CHUNK_SIZE:
                found = <const char*>memchr(base + pos, 10, end - pos)
                if found == NULL:
                    pending = end - pos
                    if state == REQUEST_LINE:
                        if pending + 1 > self.max_request_line_size:
                            raise HTTPProtocolError(E.REQUEST_LINE_TOO_LONG, 414)
                    elif state == CHUNK_SIZE:
                        if pending + 1 > MAX_CHUNK_LINE:
                            raise HTTPProtocolError(E.CHUNK_LINE_TOO_LONG)
                    elif self._header_bytes + pending + 1 > self.max_header_size:
                        raise HTTPProtocolError(E.HEADERS_TOO_LARGE, 431)
                    return 0
                lf = found - base
                if state == REQUEST_LINE:
                    if lf + 1 - pos > self.max_request_line_size:
                        raise HTTPProtocolError(E.REQUEST_LINE_TOO_LONG, 414)
                elif state == CHUNK_SIZE:
                    if lf + 1 - pos > MAX_CHUNK_LINE:
                        raise HTTPProtocolError(E.CHUNK_LINE_TOO_LONG)
                else:
                    self._header_bytes += lf + 1 - pos
                    if self._header_bytes > self.max_header_size:
                        raise HTTPProtocolError(E.HEADERS_TOO_LARGE, 431)
                if lf == pos or base[lf - 1] != 13:
                    raise HTTPProtocolError(E.BARE_LF)
                self._pos = lf + 1
                if state == REQUEST_LINE:
                    if lf - 1 == pos:
                        continue  # RFC 9112 section 2.2: ignore empty lines before a request line
                    self._start_request(base + pos, lf - 1 - pos)
                    self._state = HEADERS
                elif state == CHUNK_SIZE:
                    self._chunk_size_line(base + pos, lf - 1 - pos)
                elif lf - 1 > pos:
                    self._add_field(base + pos, lf - 1 - pos)
                elif state == HEADERS:
                    self._finish_head(events)
                else:
                    self._end_message(events, tuple(self._fields))
            elif state == BODY or state == CHUNK_DATA:
                take = end - pos
                if take > self._remaining:
                    take = <Py_ssize_t>self._remaining
                if take:
                    if pos == 0 and take == end:
                        events.append(self._buf)  # the whole buffer is body: no copy
                    else:
                        events.append(PyBytes_FromStringAndSize(base + pos, take))
                    self._pos = pos + take
                    self._remaining -= take
                if self._remaining:
                    return 0
                if state == BODY:
                    self._end_message(events, ())
                else:
                    self._state = CHUNK_DATA_END
            elif state == CHUNK_DATA_END:
                pending = end - pos
                if pending == 0:
                    return 0
                if base[pos] != 13 or (pending >= 2 and base[pos + 1] != 10):
                    raise HTTPProtocolError(E.MISSING_CHUNK_CRLF)
                if pending < 2:
                    return 0
                self._pos = pos + 2
                self._state = CHUNK_SIZE
            else:  # PAUSED or CLOSED
                return 0

    # -- request head -------------------------------------------------------------------------------

    cdef int _start_request(self, const char* line, Py_ssize_t n) except -1:
        cdef Py_ssize_t sp1, sp2, i, t_start, t_len, a_end, q = -1
        cdef unsigned char c
        cdef const char* version
        cdef const char* rest
        cdef Py_ssize_t rest_len
        cdef bytes method, target, path, query
        cdef str http_version
        # One pass over method and target: it finds the two spaces, checks every byte on the way and notes
        # the first '?'. It stops at the first byte that is not what it expects; unless that is the space
        # that ends a non-empty method or target, the line is refused by _refuse_request_line, which runs
        # the reference's checks in the reference's order to say why.
        i = 0
        while i < n and TCHAR[<unsigned char>line[i]]:
            i += 1
        if i == 0 or i == n or line[i] != 32:
            return _refuse_request_line(line, n)
        sp1 = i
        i += 1
        while i < n:
            c = TARGET_BYTE[<unsigned char>line[i]]
            if c != 1:
                if c == 0:
                    break
                if q < 0:
                    q = i
            i += 1
        if i == n or line[i] != 32 or i == sp1 + 1:
            return _refuse_request_line(line, n)
        sp2 = i
        t_start = sp1 + 1
        t_len = sp2 - t_start
        version = line + sp2 + 1
        if (n - sp2 - 1 != 8 or memcmp(version, b"HTTP/", 5) != 0 or version[6] != 46
                or not 48 <= version[5] <= 57 or not 48 <= version[7] <= 57):
            raise HTTPProtocolError(E.MALFORMED_VERSION)
        if version[5] != 49:
            raise HTTPProtocolError(E.UNSUPPORTED_VERSION, 505)
        self._http10 = version[7] == 48
        http_version = "1.0" if self._http10 else "1.1"
        if sp1 == 7 and memcmp(line, b"CONNECT", 7) == 0:
            raise HTTPProtocolError(E.CONNECT_UNSUPPORTED, 501)
        method = _known_method(line, sp1)
        if method is None:
            method = PyBytes_FromStringAndSize(line, sp1)
        target = PyBytes_FromStringAndSize(line + t_start, t_len)
        if line[t_start] == 47:  # origin-form
            rest = line + t_start
            rest_len = t_len
        elif t_len == 1 and line[t_start] == 42:
            if not (sp1 == 7 and memcmp(line, b"OPTIONS", 7) == 0):
                raise HTTPProtocolError(E.ASTERISK_NOT_OPTIONS)
            rest = line + t_start
            rest_len = 0
        else:
            if t_len >= 7 and _ascii_prefix_ci(line + t_start, b"http://", 7):
                rest = line + t_start + 7
                rest_len = t_len - 7
            elif t_len >= 8 and _ascii_prefix_ci(line + t_start, b"https://", 8):
                rest = line + t_start + 8
                rest_len = t_len - 8
            else:
                raise HTTPProtocolError(E.INVALID_TARGET)
            a_end = 0
            while a_end < rest_len and rest[a_end] != 47 and rest[a_end] != 63:
                a_end += 1
            if a_end == 0:
                raise HTTPProtocolError(E.INVALID_TARGET)
            rest += a_end
            rest_len -= a_end
        if rest_len == 0 and line[t_start] == 42:
            path = target
            query = b""
        else:
            # The scan's first '?' is the query's: an absolute-form authority ends before any '?'.
            if q >= 0:
                q -= rest - line
            if q < 0:
                path = target if rest_len == t_len else PyBytes_FromStringAndSize(rest, rest_len)
                query = b""
            else:
                path = PyBytes_FromStringAndSize(rest, q)
                query = PyBytes_FromStringAndSize(rest + q + 1, rest_len - q - 1)
            if PyBytes_GET_SIZE(path) == 0:
                path = b"/"
        cdef Request request = Request.__new__(Request)
        request.method = method
        request.target = target
        request.path = path
        request.query = query
        request.http_version = http_version
        request.keep_alive = True
        request.expect_continue = False
        request.upgrade = None
        request.content_length = 0
        self._request = request
        self._header_bytes = 0
        self._fields = []
        self._content_length = -1
        self._content_length_problem = 0
        self._transfer_codings = None
        self._connection = None
        self._hosts = 0
        self._upgrade = None
        self._expect = None
        return 0

    cdef int _add_field(self, const char* line, Py_ssize_t n) except -1:
        cdef Py_ssize_t colon = 0, i, v_start, v_end
        cdef unsigned char c
        cdef bytes name, value
        cdef char* lowered = NULL
        cdef char lowered_known[MAX_KNOWN_NAME]
        cdef FieldKind kind
        # The name of a field most requests carry is short and all tchar: one pass checks it, finds the
        # colon and lowers the name on the stack, where a name shared by many requests is looked up
        # rather than allocated again. Anything else (a long name, a byte that is not tchar) goes through
        # the reference's checks in the reference's order.
        while colon < n and colon < MAX_KNOWN_NAME and TCHAR[<unsigned char>line[colon]]:
            lowered_known[colon] = LOWER[<unsigned char>line[colon]]
            colon += 1
        if colon > 0 and colon < n and line[colon] == 58:
            lowered = lowered_known
            name = _known_name(lowered, colon)
            if name is None:
                name = PyBytes_FromStringAndSize(lowered, colon)
        else:
            colon = _checked_colon(line, n)
            # Allocated empty, then filled: PyBytes_FromStringAndSize(data, 1) returns CPython's shared
            # one-byte singleton, which must never be written to; with NULL it is always a fresh object.
            name = PyBytes_FromStringAndSize(NULL, colon)
            lowered = PyBytes_AS_STRING(name)
            for i in range(colon):
                lowered[i] = LOWER[<unsigned char>line[i]]
        v_start = colon + 1
        v_end = n
        while v_start < v_end and _is_ows(<unsigned char>line[v_start]):
            v_start += 1
        while v_end > v_start and _is_ows(<unsigned char>line[v_end - 1]):
            v_end -= 1
        for i in range(v_start, v_end):
            c = <unsigned char>line[i]
            if not VALUE_BYTE[c]:
                raise HTTPProtocolError(E.invalid_value_byte(c))
        value = PyBytes_FromStringAndSize(line + v_start, v_end - v_start)
        self._fields.append((name, value))
        if len(self._fields) > self.max_header_count:
            raise HTTPProtocolError(E.TOO_MANY_HEADERS, 431)
        if self._state == HEADERS:
            kind = _field_kind(lowered, colon)
            if kind == F_OTHER:
                pass
            elif kind == F_HOST:
                self._hosts += 1
            elif kind == F_CONTENT_LENGTH:
                self._note_content_length(value)
            elif kind == F_TRANSFER_ENCODING:
                if self._transfer_codings is None:
                    self._transfer_codings = []
                self._transfer_codings.extend(_split_list(value))
            elif kind == F_CONNECTION:
                if self._connection is None:
                    self._connection = []
                self._connection.extend(_split_list(value))
            elif kind == F_UPGRADE:
                self._upgrade = value.lower()
            elif kind == F_EXPECT:
                self._expect = value.lower()
        return 0

    cdef void _note_content_length(self, bytes value) noexcept:
        cdef long long length = 0
        cdef Py_ssize_t i
        cdef const char* digits = PyBytes_AS_STRING(value)
        if self._content_length_problem:
            return  # the first problem is the one reported
        if not _plain_digits(value):
            self._content_length_problem = 1
            return
        for i in range(PyBytes_GET_SIZE(value)):  # at most 18 digits: no overflow
            length = length * 10 + (digits[i] - 48)
        if self._content_length >= 0 and length != self._content_length:
            self._content_length_problem = 2
        else:
            self._content_length = length

    cdef int _finish_head(self, list events) except -1:
        cdef Request request = self._request
        cdef long long content_length
        cdef int chunked
        cdef bytes coding
        cdef bint http10 = self._http10
        if self._content_length_problem == 1:
            raise HTTPProtocolError(E.INVALID_CONTENT_LENGTH)
        if self._content_length_problem == 2:
            raise HTTPProtocolError(E.CONFLICTING_CONTENT_LENGTH)
        content_length = self._content_length
        if self._hosts > 1:
            raise HTTPProtocolError(E.TOO_MANY_HOSTS)
        if self._hosts == 0 and not http10:
            raise HTTPProtocolError(E.HOST_REQUIRED)
        if self._transfer_codings:
            if http10:
                raise HTTPProtocolError(E.TE_IN_HTTP10)
            if content_length >= 0:
                raise HTTPProtocolError(E.TE_WITH_CL)
            chunked = 0
            for coding in self._transfer_codings:
                if not _is_token(coding):
                    raise HTTPProtocolError(E.MALFORMED_TE)
                if coding == b"chunked":
                    chunked += 1
            if chunked > 1:
                raise HTTPProtocolError(E.CHUNKED_TWICE)
            if chunked and self._transfer_codings[len(self._transfer_codings) - 1] != b"chunked":
                raise HTTPProtocolError(E.CHUNKED_NOT_LAST)
            if len(self._transfer_codings) > 1 or not chunked:
                raise HTTPProtocolError(E.UNSUPPORTED_TE, 501)
        elif content_length < 0:
            content_length = 0
        if content_length > 0 and self._max_body >= 0 and content_length > self._max_body:
            raise HTTPProtocolError(E.BODY_TOO_LARGE, 413)
        if self._expect is not None:
            if self._expect != b"100-continue":
                raise HTTPProtocolError(E.UNSUPPORTED_EXPECT, 417)
            request.expect_continue = not http10
        if self._connection is not None:
            if b"close" in self._connection:
                request.keep_alive = False
            elif http10:
                request.keep_alive = b"keep-alive" in self._connection
            if self._upgrade is not None and b"upgrade" in self._connection and not http10:
                request.upgrade = self._upgrade
        elif http10:
            request.keep_alive = False
        request.headers = self._fields
        request.content_length = content_length
        events.append(request)
        self._fields = None  # the next list is made when there is something to put in it (trailers, a head)
        self._body_received = 0
        if content_length < 0:
            self._state = CHUNK_SIZE
        elif content_length > 0:
            self._remaining = content_length
            self._state = BODY
        else:
            self._end_message(events, ())
        return 0

    # -- chunked body -------------------------------------------------------------------------------

    cdef int _chunk_size_line(self, const char* line, Py_ssize_t n) except -1:
        cdef Py_ssize_t digits = 0, first_significant, i
        cdef long long size = 0
        cdef unsigned char c
        while digits < n and HEX[<unsigned char>line[digits]]:
            digits += 1
        if digits == 0:
            raise HTTPProtocolError(E.INVALID_CHUNK_SIZE)
        first_significant = 0
        while first_significant < digits and line[first_significant] == 48:
            first_significant += 1
        if digits - first_significant > MAX_CHUNK_SIZE_DIGITS:
            raise HTTPProtocolError(E.CHUNK_SIZE_OVERFLOW)
        for i in range(first_significant, digits):
            c = <unsigned char>line[i]
            size = size * 16 + (c - 48 if c <= 57 else (c | 32) - 87)
        if digits < n:
            i = digits
            while i < n and _is_ows(<unsigned char>line[i]):
                i += 1
            if i == n or line[i] != 59:
                raise HTTPProtocolError(E.INVALID_CHUNK_SIZE)
            if not _valid_chunk_extensions(line, i, n):
                raise HTTPProtocolError(E.INVALID_CHUNK_EXTENSION)
        self._body_received += size
        if self._max_body >= 0 and self._body_received > self._max_body:
            raise HTTPProtocolError(E.BODY_TOO_LARGE, 413)
        if size == 0:
            self._header_bytes = 0
            self._fields = []
            self._state = TRAILERS
        else:
            self._remaining = size
            self._state = CHUNK_DATA
        return 0

    cdef int _end_message(self, list events, tuple trailers) except -1:
        events.append(_eom(trailers))
        self._fields = None
        if self._request.upgrade is not None:
            self._state = PAUSED
        elif not self._request.keep_alive:
            self._state = CLOSED
            self._buf = b""
            self._pos = 0
        else:
            self._state = REQUEST_LINE
        return 0


cdef inline Py_ssize_t _skip_bws(const char* line, Py_ssize_t i, Py_ssize_t n) noexcept:
    while i < n and _is_ows(<unsigned char>line[i]):
        i += 1
    return i


cdef inline bint _is_qdtext(unsigned char b) noexcept:
    # RFC 9110 5.6.4: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    return b == 9 or b == 32 or b == 33 or (35 <= b <= 91) or (93 <= b <= 126) or b >= 128


cdef inline Py_ssize_t _token_end(const char* line, Py_ssize_t i, Py_ssize_t n) noexcept:
    """Where the token starting at i ends, or -1 if it is empty (see the reference's _extension_token_end)."""
    cdef Py_ssize_t start = i
    while i < n and TCHAR[<unsigned char>line[i]]:
        i += 1
    return i if i > start else -1


cdef bint _valid_chunk_extensions(const char* line, Py_ssize_t i, Py_ssize_t n) noexcept:
    """RFC 9112 7.1.1 from the first ';': *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ).
    The reference's _check_chunk_extensions says why it is this strict."""
    cdef unsigned char b
    while i < n:
        if line[i] != 59:  # ';'
            return False
        i = _token_end(line, _skip_bws(line, i + 1, n), n)
        if i < 0:
            return False
        i = _skip_bws(line, i, n)
        if i < n and line[i] == 61:  # '='
            i = _skip_bws(line, i + 1, n)
            if i < n and line[i] == 34:  # a quoted-string
                i += 1
                while True:
                    if i >= n:
                        return False
                    b = <unsigned char>line[i]
                    if b == 34:
                        i += 1
                        break
                    if b == 92:  # quoted-pair: "\" ( HTAB / SP / VCHAR / obs-text )
                        i += 1
                        if i >= n:
                            return False
                        b = <unsigned char>line[i]
                        if not (b == 9 or (32 <= b <= 126) or b >= 128):
                            return False
                    elif not _is_qdtext(b):
                        return False
                    i += 1
            else:
                i = _token_end(line, i, n)
                if i < 0:
                    return False
            i = _skip_bws(line, i, n)
    return True


cdef inline bint _ascii_prefix_ci(const char* p, const char* lower_prefix, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        if LOWER[<unsigned char>p[i]] != <unsigned char>lower_prefix[i]:
            return False
    return True


cdef Py_ssize_t _checked_colon(const char* line, Py_ssize_t n) except -1:
    """Where a field line's colon is, its name checked as the reference checks it (in its order)."""
    cdef Py_ssize_t colon = -1, i
    if _is_ows(<unsigned char>line[0]):
        raise HTTPProtocolError(E.OBS_FOLD)
    for i in range(n):
        if line[i] == 58:
            colon = i
            break
    if colon < 0:
        raise HTTPProtocolError(E.NO_COLON)
    if colon == 0:
        raise HTTPProtocolError(E.EMPTY_HEADER_NAME)
    if _is_ows(<unsigned char>line[colon - 1]):
        raise HTTPProtocolError(E.WHITESPACE_BEFORE_COLON)
    for i in range(colon):
        if not TCHAR[<unsigned char>line[i]]:
            raise HTTPProtocolError(E.INVALID_HEADER_NAME)
    return colon


cdef int _refuse_request_line(const char* line, Py_ssize_t n) except -1:
    """Raise the error the reference gives a request line that _start_request's scan stopped on."""
    cdef Py_ssize_t sp1 = -1, sp2 = -1, i
    for i in range(n):
        if line[i] == 32:
            sp1 = i
            break
    if sp1 <= 0:
        raise HTTPProtocolError(E.MALFORMED_REQUEST_LINE)
    for i in range(sp1 + 1, n):
        if line[i] == 32:
            sp2 = i
            break
    if sp2 < 0 or sp2 == sp1 + 1:
        raise HTTPProtocolError(E.MALFORMED_REQUEST_LINE)
    for i in range(sp1):
        if not TCHAR[<unsigned char>line[i]]:
            raise HTTPProtocolError(E.INVALID_METHOD)
    for i in range(sp1 + 1, sp2):
        if not TARGET_BYTE[<unsigned char>line[i]]:
            raise HTTPProtocolError(E.INVALID_TARGET_BYTE)
    # The scan stops only where one of the checks above fails; reaching here would be a bug in it.
    raise HTTPProtocolError(E.MALFORMED_REQUEST_LINE)


cdef bint _plain_digits(bytes value) noexcept:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value), i
    cdef const char* p = PyBytes_AS_STRING(value)
    if n == 0 or n > MAX_CONTENT_LENGTH_DIGITS:
        return False
    for i in range(n):
        if not 48 <= p[i] <= 57:
            return False
    return True


cdef bint _is_token(bytes value) noexcept:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value), i
    cdef const char* p = PyBytes_AS_STRING(value)
    if n == 0:
        return False
    for i in range(n):
        if not TCHAR[<unsigned char>p[i]]:
            return False
    return True


# Methods and (lowercased) field names most requests carry, shared rather than made anew for each request:
# bytes are immutable, so a parsed request cannot tell a shared object from a fresh one.
cdef tuple KNOWN_METHODS = (b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"PATCH", b"OPTIONS")
cdef tuple KNOWN_NAMES = (
    b"host", b"user-agent", b"accept", b"accept-encoding", b"accept-language", b"connection", b"content-length",
    b"content-type", b"cookie", b"referer", b"origin", b"upgrade", b"cache-control", b"pragma", b"authorization",
    b"if-none-match", b"if-modified-since", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
    b"x-real-ip", b"x-request-id", b"forwarded", b"transfer-encoding", b"expect", b"te", b"dnt", b"priority",
    b"sec-fetch-dest", b"sec-fetch-mode", b"sec-fetch-site", b"sec-fetch-user", b"upgrade-insecure-requests",
    b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions", b"sec-websocket-protocol",
    b"sec-ch-ua", b"sec-ch-ua-mobile", b"sec-ch-ua-platform", b"range", b"if-match", b"x-requested-with",
)


# The same, as C arrays of borrowed pointers (the tuples above keep the objects alive): a lookup compares
# bytes with memcmp and takes a reference only to the object it returns. Names are grouped by length, so a
# name is compared with the few known ones as long as it.
cdef enum:
    MAX_KNOWN_METHODS = 8
    MAX_NAMES_OF_A_LENGTH = 8

cdef PyObject* METHOD_TABLE[MAX_KNOWN_METHODS]
cdef const char* METHOD_BYTES[MAX_KNOWN_METHODS]
cdef Py_ssize_t METHOD_SIZE[MAX_KNOWN_METHODS]
cdef Py_ssize_t METHOD_COUNT = 0
cdef PyObject* NAME_TABLE[MAX_KNOWN_NAME + 1][MAX_NAMES_OF_A_LENGTH]
cdef const char* NAME_BYTES[MAX_KNOWN_NAME + 1][MAX_NAMES_OF_A_LENGTH]
cdef Py_ssize_t NAME_COUNT[MAX_KNOWN_NAME + 1]


cdef void _init_known() except *:
    global METHOD_COUNT
    cdef bytes known
    cdef Py_ssize_t n
    for n in range(MAX_KNOWN_NAME + 1):
        NAME_COUNT[n] = 0
    if len(KNOWN_METHODS) > MAX_KNOWN_METHODS:
        raise ValueError(f"at most {MAX_KNOWN_METHODS} known methods")
    for known in KNOWN_METHODS:
        METHOD_TABLE[METHOD_COUNT] = <PyObject*>known
        METHOD_BYTES[METHOD_COUNT] = PyBytes_AS_STRING(known)
        METHOD_SIZE[METHOD_COUNT] = PyBytes_GET_SIZE(known)
        METHOD_COUNT += 1
    for known in KNOWN_NAMES:
        n = PyBytes_GET_SIZE(known)
        if n > MAX_KNOWN_NAME or NAME_COUNT[n] == MAX_NAMES_OF_A_LENGTH or known.lower() != known:
            raise ValueError(f"a known header name must be lowercase, at most {MAX_KNOWN_NAME} bytes long and "
                             f"one of at most {MAX_NAMES_OF_A_LENGTH} of its length: {known!r}")
        NAME_TABLE[n][NAME_COUNT[n]] = <PyObject*>known
        NAME_BYTES[n][NAME_COUNT[n]] = PyBytes_AS_STRING(known)
        NAME_COUNT[n] += 1

_init_known()


cdef object _known_method(const char* method, Py_ssize_t n):
    cdef Py_ssize_t i
    for i in range(METHOD_COUNT):
        if METHOD_SIZE[i] == n and memcmp(METHOD_BYTES[i], method, n) == 0:
            return <object>METHOD_TABLE[i]
    return None


cdef object _known_name(const char* lowered, Py_ssize_t n):
    cdef Py_ssize_t i
    for i in range(NAME_COUNT[n]):
        if memcmp(NAME_BYTES[n][i], lowered, n) == 0:
            return <object>NAME_TABLE[n][i]
    return None


cdef FieldKind _field_kind(const char* name, Py_ssize_t n) noexcept:
    # Lengths first: most names are none of these, and a length mismatch rules them out at once.
    if n == 4:
        if memcmp(name, b"host", 4) == 0:
            return F_HOST
    elif n == 14:
        if memcmp(name, b"content-length", 14) == 0:
            return F_CONTENT_LENGTH
    elif n == 17:
        if memcmp(name, b"transfer-encoding", 17) == 0:
            return F_TRANSFER_ENCODING
    elif n == 10:
        if memcmp(name, b"connection", 10) == 0:
            return F_CONNECTION
    elif n == 7:
        if memcmp(name, b"upgrade", 7) == 0:
            return F_UPGRADE
    elif n == 6:
        if memcmp(name, b"expect", 6) == 0:
            return F_EXPECT
    return F_OTHER
