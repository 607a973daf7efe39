# Types for compiling http1.py with Cython (pure-Python mode): the same source runs uncompiled too.
cimport cython
from .sink cimport ResponseSink
from .http cimport HTTPCycle

cdef dict _STATUS_LINES, _length_lines
cdef int SEND_TRAILERS
cdef Py_ssize_t SEPARATE_BODY, CONTINUE_TO_DISCARD

cdef bytes status_line(int status)
cdef bytes content_length_line(long long length)

cdef class HTTP1Sink(ResponseSink):
    # What a byte-stream carrier provides (asgicy.server.connection.Connection, asgicy.testing.RecordingSink).
    cpdef write(self, data)
    cpdef write_two(self, first, second)
    cpdef bytes default_headers(self, bint has_date, bint has_server)

    cpdef send_informational(self, cycle, int status, fields)
    cpdef send_head(self, cycle, bytes body, bint more_body)
    cpdef send_body(self, cycle, bytes body, bint more_body)
    @cython.locals(head=bytes)
    cdef _send_head(self, HTTPCycle cycle, bytes body, bint more_body)
    @cython.locals(data=bytes)
    cdef _send_body(self, HTTPCycle cycle, bytes body, bint more_body)
    cpdef send_trailers(self, cycle, fields)
    cpdef bint accepts_trailers(self, cycle) except -1
    cdef bytes _last_chunk(self, HTTPCycle cycle)
    @cython.locals(continue_first=cython.bint, announced=cython.longlong, head=bytes, parts=list)
    cdef bytes _head(self, HTTPCycle cycle, Py_ssize_t length, bint more_body)
