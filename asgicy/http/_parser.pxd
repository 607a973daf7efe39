# The parsed request as the compiled server layer reads it (asgicy.asgi.http, asgicy.server.protocol
# cimport it): its fields are C struct members there, not attributes looked up by name on every request.

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
