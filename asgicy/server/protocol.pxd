# Types for compiling protocol.py with Cython (pure-Python mode): the same source runs uncompiled too.
from .connection cimport Connection
from .eager cimport AppRunner
from ..asgi.http cimport HTTPCycle, build_scope
from ..http._parser cimport Request as ParsedRequest
cimport cython

@cython.locals(field=tuple, name=bytes)
cdef bint _names_proxy_headers(list headers)

cdef class HTTPProtocol(Connection):
    cdef public object app, parser, current, parsing, pipeline, ready, pending_error
    cdef public Py_ssize_t buffered_body, reads, reads_at_tick
    cdef public double head_deadline, idle_deadline, body_deadline
    cdef public bint discarding, start_when_writable, proxy_trusted
    cdef public AppRunner runner
    cdef public set cycles
    cdef public str root_path
    cdef public object limit_concurrency
    cdef public bint ws_enabled, access_log, time_requests
    cdef public double timeout_keep_alive

    @cython.locals(ended=HTTPCycle)
    cdef _process(self, list events)
    @cython.locals(cycle=HTTPCycle, parsed=ParsedRequest)
    cdef _on_request(self, request)
    cdef _launch(self)
    cdef _start(self, cycle)
    cdef _run_app(self, HTTPCycle cycle)
    @cython.locals(done=HTTPCycle)
    cpdef response_complete(self, cycle)
    cpdef _next_request(self)
    cpdef _after_response(self)
    cpdef body_consumed(self, Py_ssize_t size)
    cpdef _resume_if_drained(self)
    cpdef app_finished(self, cycle)
