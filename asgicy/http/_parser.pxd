# The parser's types as the compiled server layer reads them (asgicy.asgi.http, asgicy.server.protocol
# cimport them): their fields are C struct members there, not attributes looked up by name on every request.
cimport cython

from .._cores cimport CompiledCore

# The numbers of asgicy.http.grammar.STATE_NAMES (tests/sansio/test_grammar.py checks they agree).
cdef enum ParserState:
    REQUEST_LINE = 0
    HEADERS = 1
    BODY = 2
    CHUNK_SIZE = 3
    CHUNK_DATA = 4
    CHUNK_DATA_END = 5
    TRAILERS = 6
    PAUSED = 7
    CLOSED = 8
    ERROR = 9


# asgicy.http.grammar.REQUEST_FIELDS, in order (checked by the same test).
cdef class Request:
    cdef public bytes method
    cdef public bytes target
    cdef public bytes path
    cdef public bytes query
    cdef public str http_version
    cdef public list headers
    cdef public bint keep_alive
    cdef public bint expect_continue
    cdef public object upgrade
    cdef public long long content_length


cdef class HTTPParser(CompiledCore):
    cdef readonly Py_ssize_t max_request_line_size
    cdef readonly Py_ssize_t max_header_size
    cdef readonly Py_ssize_t max_header_count
    cdef long long _max_body  # -1: unlimited
    cdef ParserState _state
    cdef Request _request
    cdef bint _http10  # the request being parsed is HTTP/1.0
    cdef Py_ssize_t _header_bytes
    cdef list _fields
    cdef long long _remaining
    cdef long long _body_received
    # What the head's framing headers said, gathered as the fields arrive, judged at the end of the head.
    # Content-Length fields judged as they arrive, in the reference's order: the length so far (-1: none)
    # and the first problem met (0: none, 1: not a number, 2: two lengths that disagree).
    cdef long long _content_length
    cdef int _content_length_problem
    cdef list _transfer_codings
    cdef list _connection
    cdef int _hosts
    cdef object _upgrade
    cdef object _expect


    cdef int _run(self, list events) except -1
    cdef bint _closed(self) noexcept
    cdef void _stop(self) noexcept
    @cython.final  # called directly, not through the table (no subclass overrides it)
    cdef int _start_request(self, const char* line, Py_ssize_t n) except -1
    @cython.final
    cdef int _add_field(self, const char* line, Py_ssize_t n) except -1
    @cython.final
    cdef void _note_content_length(self, bytes value) noexcept
    @cython.final
    cdef int _finish_head(self, list events) except -1
    @cython.final
    cdef int _chunk_size_line(self, const char* line, Py_ssize_t n) except -1
    @cython.final
    cdef int _end_message(self, list events, tuple trailers) except -1

