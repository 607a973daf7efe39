# Types for compiling protocol.py with Cython (pure-Python mode): the same source runs uncompiled too.
from .connection cimport Connection, ServerState
from .eager cimport AppRunner
from ..asgi.http cimport HTTPCycle, build_scope, new_cycle
from ..http._parser cimport Request as ParsedRequest
cimport cython

cdef Py_ssize_t BODY_HIGH_WATER, MAX_PIPELINED  # C ints when compiled: compared on every read

@cython.locals(field=tuple, name=bytes)
cdef bint _names_proxy_headers(list headers)

cdef class HTTPProtocol(Connection):
    cdef public object app, parser, parse, current, parsing, pipeline, ready, pending_error
    cdef public Py_ssize_t buffered_body, reads, reads_at_tick
    cdef public double head_deadline, idle_deadline, body_deadline, read_time
    cdef public bint discarding, lingering, upgraded, start_when_writable, proxy_trusted, h2c, h2_only
    cdef public AppRunner runner
    cdef public set cycles
    cdef public str root_path
    cdef public object limit_concurrency
    cdef public bint ws_enabled, observe, time_requests
    cdef public double idle_allowance

    cdef _process(self, list events)
    cdef _end_body(self, HTTPCycle cycle)
    @cython.locals(cycle=HTTPCycle, state=ServerState)
    cdef _on_request(self, ParsedRequest parsed)
    cdef _launch(self)
    cdef _start(self, cycle)
    @cython.locals(state=ServerState)
    cdef _run_app(self, HTTPCycle cycle)
    cpdef _linger(self, HTTPCycle cycle)
    cpdef response_complete(self, cycle)
    cdef _after_cycle(self, HTTPCycle done)
    cpdef _next_request(self)
    cpdef _after_response(self)
    cpdef body_consumed(self, Py_ssize_t size)
    cpdef _resume_if_drained(self)
    cpdef app_finished(self, cycle)
    cpdef abort_response(self, cycle)
