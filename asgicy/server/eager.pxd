# Types for compiling eager.py with Cython (pure-Python mode): the same source runs uncompiled too.
cimport cython
from ._coroutines cimport call_in, copy_of, step
from ..asgi.http cimport HTTPCycle

cdef object _NOTHING, RETURNED

cdef _call_app(app, HTTPCycle cycle, context)

cdef class Host:
    cdef public object task, inbox, cancelling

cdef class AppRunner:
    cdef public object loop, tasks, base_context
    cdef public list idle

    @cython.locals(host=Host, idle=list)
    cpdef run(self, app, HTTPCycle cycle)
    cdef _take_out(self, Host host)
    cdef _release(self, Host host)
