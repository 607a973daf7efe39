# The C side of the Cython HPACK codec (_hpack.pyx), for the Cython core to call it directly. The Python
# side is the reference's (hpack.py): the same classes, methods and attributes.

cdef struct Buffer:
    # A growing block of bytes: what the encoder writes one header block into.
    unsigned char *data
    Py_ssize_t size
    Py_ssize_t capacity
    bint heap  # data was malloc'ed (else it is the caller's stack array, copied out once it grows past it)


cdef class Decoder:
    cdef public Py_ssize_t max_table_size, table_size_limit, max_header_list_size, table_size
    cdef public list table

    cdef tuple _field(self, long long index)
    cdef int _evict(self, Py_ssize_t limit) except -1
    cdef int _insert_field(self, tuple field, Py_ssize_t size) except -1
    cdef bytes _string(self, const unsigned char *data, Py_ssize_t end, Py_ssize_t *position)
    cpdef list decode(self, bytes data)


cdef class Encoder:
    cdef public Py_ssize_t table_size_limit, table_size, inserted
    cdef public object entries
    cdef dict _fields, _names
    cdef Py_ssize_t _update_smallest, _update_final

    cpdef set_max_table_size(self, Py_ssize_t size)
    cdef int _evict(self, Py_ssize_t limit) except -1
    cdef int _insert(self, bytes name, bytes value, Py_ssize_t size) except -1
    cdef int _start(self, Buffer *out) except -1
    cpdef bytes encode_response(self, int status, fields)
    cpdef bytes encode(self, fields)
    cdef bytes _block(self, int status, fields)
    cdef int _fields_into(self, Buffer *out, fields) except -1
