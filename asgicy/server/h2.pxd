# Types for compiling h2.py with Cython (pure-Python mode): the same source runs uncompiled too. The cycle
# calls an H2Stream's sink methods through ResponseSink's C table (asgicy/asgi/sink.pxd), and the stream
# reads its connection's fields as C struct members.
from ..asgi.sink cimport ResponseSink
from .connection cimport Connection

cdef Py_ssize_t STREAM_HIGH_WATER, FILE_PIECE
cdef int SEND_TRAILERS

cdef class H2Protocol(Connection)

cdef class H2Stream(ResponseSink):
    cdef public H2Protocol protocol
    cdef public object core, cycle
    cdef public long long stream_id, received
    cdef public list drain_waiters
    cdef public bint reset, response_done, app_done
    cdef public double stalled_since

    cpdef send_informational(self, cycle, int status, fields)
    cpdef send_head(self, cycle, bytes body, bint more_body)
    cpdef send_body(self, cycle, bytes body, bint more_body)
    cpdef send_trailers(self, cycle, fields)
    cpdef bint accepts_trailers(self, cycle) except -1
    cpdef create_future(self)
    cpdef body_consumed(self, Py_ssize_t size)
    cpdef response_complete(self, cycle)
    cpdef abort_response(self, cycle)
    cpdef app_finished(self, cycle)
    cdef bint _head(self, cycle, Py_ssize_t length, bint more_body, bint empty) except -1
    cdef _data(self, cycle, bytes body, bint more_body)
    cpdef window_changed(self)
    cpdef wake(self)

cdef class H2Protocol(Connection):
    cdef public object core, proxy_trusted, app, runner, _date_line
    cdef public bint observe, time_requests, goaway_received
    cdef public dict streams, websockets
    cdef public double head_deadline, idle_deadline
    cdef public list _date_field, _server_field

    cpdef send_frames(self)
    cpdef list default_fields(self, bint has_date, bint has_server)
    cpdef stream_may_end(self, H2Stream stream)
