# Types for compiling sink.py with Cython (pure-Python mode): the same source runs uncompiled too.
# The cycle (http.pxd) holds its carrier as a ResponseSink: its calls below are C calls through the table,
# to whichever class implements them (asgicy.server.connection.Connection).

cdef class ResponseSink:
    cdef public bint write_paused, closing

    cpdef write(self, data)
    cpdef write_two(self, first, second)
    cpdef bytes default_headers(self, bint has_date, bint has_server)
    cpdef create_future(self)
    cpdef body_consumed(self, Py_ssize_t size)
    cpdef response_complete(self, cycle)
    cpdef abort_response(self, cycle)
    cpdef app_finished(self, cycle)
