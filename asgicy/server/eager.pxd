# Types for compiling eager.py with Cython (pure-Python mode): the same source runs uncompiled too.
cimport cython
from ._coroutines cimport call_in, copy_of, step, throw_in
from ..asgi.http cimport HTTPCycle

cdef object RETURNED

cdef _call_app(app, HTTPCycle cycle, context)
cdef bint _claim(pending)

cdef class HostTask:
    cdef public object task, inbox, cancelling, coro, context, cycle, pending
    cdef public bint waits

cdef class AppRunner:
    cdef public object loop, tasks, base_context
    cdef public list idle
    cdef public Py_ssize_t lent, busiest

    @cython.locals(host=HostTask, idle=list)
    cpdef run(self, app, HTTPCycle cycle)
    cdef _take_out(self, HostTask host)
    cdef _release(self, HostTask host)
    cpdef trim(self)
