# Types for compiling eager.py with Cython (pure-Python mode): the same source runs uncompiled too.
from cpython.ref cimport PyObject, Py_DECREF

cdef extern from "Python.h":
    ctypedef enum PySendResult:
        PYGEN_RETURN
        PYGEN_ERROR
        PYGEN_NEXT
    PySendResult PyIter_Send(object iter, object arg, PyObject **presult) except? PYGEN_ERROR
    int PyContext_Enter(object context) except -1
    int PyContext_Exit(object context) except -1

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

cdef _step(coro, context)

cdef class Host:
    cdef public object task, inbox

cdef class AppRunner:
    cdef public object loop, tasks, base_context
    cdef public list idle

    cpdef run(self, coro)
    cdef _release(self, Host host)
