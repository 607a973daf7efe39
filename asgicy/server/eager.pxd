# Types for compiling eager.py with Cython (pure-Python mode): the same source runs uncompiled too.
cimport cython
from cpython.ref cimport PyObject, Py_DECREF
from ..asgi.http cimport HTTPCycle

cdef extern from "Python.h":
    ctypedef enum PySendResult:
        PYGEN_RETURN
        PYGEN_ERROR
        PYGEN_NEXT
    PySendResult PyIter_Send(object iter, object arg, PyObject **presult) except? PYGEN_ERROR
    int PyContext_Enter(object context) except -1
    int PyContext_Exit(object context) except -1
    object PyContext_Copy(object context)

cdef object _NOTHING, _RETURNED

cdef inline object _c_step(object coro, object context):
    """_step in C (see eager.py): one send into coro, inside context, without a StopIteration."""
    cdef PyObject *result = NULL
    cdef PySendResult status
    PyContext_Enter(context)
    try:
        status = PyIter_Send(coro, None, &result)
    finally:
        PyContext_Exit(context)
    value = <object>result  # a new reference, handed over: this one takes it, the DECREF drops the other
    Py_DECREF(value)
    return _RETURNED if status == PYGEN_RETURN else value

cdef inline object _c_call(object app, object scope, object receive, object send, object context):
    """app(scope, receive, send) inside context (see _call_app in eager.py)."""
    PyContext_Enter(context)
    try:
        return app(scope, receive, send)
    finally:
        PyContext_Exit(context)

cdef inline object _c_copy(object context):
    """context.copy() without the method lookup."""
    return PyContext_Copy(context)

cdef _call_app(app, HTTPCycle cycle, context)
cdef _step(coro, context)

cdef class Host:
    cdef public object task, inbox, cancelling

cdef class AppRunner:
    cdef public object loop, tasks, base_context
    cdef public list idle

    @cython.locals(host=Host, idle=list)
    cpdef run(self, app, HTTPCycle cycle)
    cdef _take_out(self, Host host)
    cdef _release(self, Host host)
