# cython: language_level=3
"""What the two Cython cores share, written once: their input buffer and their error latch.

The C twin of ``asgicy.cores.ReferenceCore`` (read it for the contract): ``feed`` appends to what is left
unparsed and runs the core; a ``ProtocolError`` its ``_run`` raises becomes the last event, and the core
is stopped for good (every later ``feed`` returns that same error). A core implements ``_run`` (parse
from ``_buf[_pos:]``), ``_closed`` (no more input is read: the peer asked to close) and ``_stop`` (enter
its error state, for its ``state`` to say so).
"""

from cpython.bytes cimport PyBytes_GET_SIZE

from .errors import ProtocolError


cdef class CompiledCore:
    def __cinit__(self):
        self._buf = b""
        self._pos = 0
        self._error = None

    cpdef list feed(self, data):
        if self._error is not None:
            return [self._error]
        if self._closed():
            return []
        if type(data) is not bytes:
            data = bytes(data)
        if self._pos >= PyBytes_GET_SIZE(self._buf):
            self._buf = data
        else:
            self._buf = self._buf[self._pos:] + data
        self._pos = 0
        return self._parse()

    cdef list _parse(self):
        cdef list events = []
        try:
            self._run(events)
        except ProtocolError as exc:
            self._error = exc
            self._buf = b""
            self._pos = 0
            self._stop()
            events.append(exc)
        return events

    cdef int _run(self, list events) except -1:
        raise NotImplementedError

    cdef bint _closed(self) noexcept:
        return False

    cdef void _stop(self) noexcept:
        pass
