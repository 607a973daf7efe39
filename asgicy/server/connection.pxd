# Types for compiling connection.py with Cython (pure-Python mode): the same source runs uncompiled too.
cimport cython
from ..asgi.http1 cimport HTTP1Sink
from ..asgi.http cimport HTTPCycle

cdef Py_ssize_t BATCH_LIMIT, WRITEV_SIZE  # C ints when compiled: compared on every write

cdef class Connection(HTTP1Sink)

cdef class Tally:
    # C arrays: responses by status class (6) and durations by bucket (len(DURATION_BUCKETS) + 1: 15, which
    # tests/production/test_observability.py holds equal).
    cdef long long responses[6]
    cdef long long buckets[15]
    cdef public double duration_sum
    cdef public long long body_in, bytes_out
    cdef public dict refusals
    cdef public Py_ssize_t websockets, websocket_messages_in, websocket_messages_out

    @cython.locals(index=Py_ssize_t)
    cpdef response(self, HTTPCycle cycle, double seconds)
    @cython.locals(index=Py_ssize_t, bound=double)
    cpdef duration(self, double seconds)
    cpdef list response_counts(self)
    cpdef list bucket_counts(self)

cdef class ServerState:
    cdef public object config, app, loop, runner, access, trusted, ssl_context, tls_info
    cdef public Tally tally
    cdef public bint observe_responses, draining, request_ids, echo_request_id
    cdef public object readiness_path, id_counter
    cdef public bytes request_id_header
    cdef public str id_prefix
    cdef public set connections, cycles, tasks
    cdef public list held_connections
    cdef public Py_ssize_t requests, open_websockets
    cdef public double clock
    cdef public dict lifespan_state
    cdef public bytes server_header, date_header, date_and_server_header
    cdef public bint access_log, time_requests

    @cython.locals(conn=Connection)
    cpdef flush_held(self)
    @cython.locals(now=double)
    cpdef response_done(self, conn, HTTPCycle cycle)

cdef class Connection(HTTP1Sink):
    cdef public ServerState server_state
    cdef public object config, loop, transport, client, server, scheme, tls
    cdef public bint reading_paused, closed, writev
    cdef public double paused_since  # the clock when writing paused (--timeout-send)
    cdef public list drain_waiters
    cdef public list batch
    cdef public Py_ssize_t batch_size
    cdef public bint collecting, output_held

    cpdef write(self, data)
    cpdef flush_batch(self)
    cpdef end_collecting(self)
    cpdef write_two(self, first, second)
    cdef _gather(self, pieces)
    cpdef bytes default_headers(self, bint has_date, bint has_server)
    cpdef create_future(self)
    cpdef _close(self)
