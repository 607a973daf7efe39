# Types for compiling sink.py with Cython (pure-Python mode): the same source runs uncompiled too.
# The cycle (http.pxd) holds its carrier as a ResponseSink: its calls below are C calls through the table,
# to whichever class implements them (asgicy.asgi.http1.HTTP1Sink and the connection, an HTTP/2 stream).

cdef class ResponseSink:
    cdef public bint write_paused, closing

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
