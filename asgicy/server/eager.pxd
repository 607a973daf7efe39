# Types for compiling eager.py with Cython (pure-Python mode): the same source runs uncompiled too.

cdef class Host:
    cdef public object task, inbox

cdef class AppRunner:
    cdef public object loop, tasks, base_context
    cdef public list idle

    cpdef run(self, coro)
    cdef _release(self, Host host)
