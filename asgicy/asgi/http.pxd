# Types for compiling http.py with Cython (pure-Python mode): the same source runs uncompiled too.
# Arguments an app supplies stay untyped: an event may be a dict subclass, its type a str subclass.
# Methods declared cdef here are called only from inside the cycle; the rest stay Python-visible.
cimport cython
from .sink cimport ResponseSink
from ..http._parser cimport Request as ParsedRequest
from .events cimport validate_headers

cdef dict _SCOPE_TEMPLATE, _SCOPE_TEMPLATE_WITH_STATE, _role_by_name, _lengths_by_value, _METHODS, ASGI_VERSION

cdef int NOT_STARTED, STARTED, STREAMING, TRAILERS, COMPLETE, SENT, DRAIN, UNHANDLED
cdef int NO_TRAILERS, SEND_TRAILERS, DROP_TRAILERS
cdef int ORDINARY, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, DATE, SERVER

cpdef release(waiter)

@cython.locals(raw_path=bytes, path=str, method=str, scope=dict)
cpdef dict build_scope(ParsedRequest request, client, server, str root_path, str scheme, dict lifespan_state)

cdef class HTTPCycle:
    cdef public object scope
    cdef public ParsedRequest request
    cdef public str start_event, body_event
    cdef public bint extended
    cdef public ResponseSink conn  # the connection whose methods the cycle calls (C calls, compiled)
    cdef public str http_version
    cdef public bint is_head, keep_alive, body_complete, final_delivered, disconnected, continue_pending, disconnect_delivered
    cdef public list body
    cdef public Py_ssize_t body_size
    cdef public long long body_received
    cdef public object echo_field
    cdef public object waiter
    cdef public int stage, status
    cdef public object response_fields
    cdef public bint has_date, has_server
    cdef public long long content_length, bytes_sent, response_size
    cdef public bint chunked, no_body, trailers_done, path_sent, sends_body
    cdef public int trailers
    cdef public object trailer_fields
    cdef public double started
    cdef public object response_headers

    cdef _setup(self, dict scope, ParsedRequest request, ResponseSink conn)
    @cython.locals(event=dict)
    cdef int _send_now(self, message) except -1
    cdef bint _write_body(self, kind, bytes body, bint more_body) except -1
    cdef bint _open_piece(self, kind, Py_ssize_t length) except -1
    cdef _end_piece(self, bint more_body)
    @cython.locals(fields=list, headers=list, pair=tuple, name=bytes, content_length=cython.longlong, length=cython.longlong,
                   has_date=cython.bint, has_server=cython.bint, keep_alive=cython.bint, role=cython.int)
    # (wants_trailers stays an object: the event's value is checked to be a bool, not read as one.)
    cdef _start(self, kind, dict message)
    cdef _add_echo_field(self, list fields)
    cpdef _wake(self)
    cpdef Py_ssize_t release_body(self)
    cpdef end_body(self)
    cpdef app_done(self, exc, context)

@cython.locals(cycle=HTTPCycle)
cpdef HTTPCycle new_cycle(dict scope, ParsedRequest request, ResponseSink conn)
