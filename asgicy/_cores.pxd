# Declarations only: the base the two Cython cores (http/_parser.pyx, ws/_framer.pyx) cimport and derive
# from. Its implementation is _cores.pyx; its pure-Python twin is cores.ReferenceCore.

cdef class CompiledCore:
    cdef bytes _buf  # what was fed, from _pos on not yet parsed
    cdef Py_ssize_t _pos
    cdef object _error  # the ProtocolError that stopped the core, or None

    cpdef list feed(self, data)
    cdef list _parse(self)
    cdef int _run(self, list events) except -1
    cdef bint _closed(self) noexcept
    cdef void _stop(self) noexcept
