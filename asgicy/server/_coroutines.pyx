# cython: language_level=3
"""The C implementation of ``asgicy.server.coroutines`` (read that module for the API and the why): the
same four functions and ``RETURNED``, with the interpreter's C API instead of method calls."""

from cpython.ref cimport PyObject, Py_DECREF

cdef extern from "Python.h":
    ctypedef enum PySendResult:
        PYGEN_RETURN
        PYGEN_ERROR
        PYGEN_NEXT
    PySendResult PyIter_Send(object iter, object arg, PyObject **presult) except? PYGEN_ERROR
    int PyContext_Enter(object context) except -1
    int PyContext_Exit(object context) except -1
    object PyContext_Copy(object context)

from .coroutines import RETURNED  # one sentinel for both implementations: a caller may mix them

IMPLEMENTATION = "cython"


cpdef object step(object coro, object context):
    cdef PyObject *result = NULL
    cdef PySendResult status
    PyContext_Enter(context)
    try:
        status = PyIter_Send(coro, None, &result)
    finally:
        PyContext_Exit(context)
    # A new reference, handed over: `value` takes another, the DECREF drops the one we were given.
    value = <object>result
    Py_DECREF(value)
    return RETURNED if status == PYGEN_RETURN else value


cpdef object throw_in(object coro, object context, object exc):
    # Rare (a failed future, a cancellation): the method call, with its StopIteration, is cheap enough.
    PyContext_Enter(context)
    try:
        return coro.throw(exc)
    except StopIteration:
        return RETURNED
    finally:
        PyContext_Exit(context)


cpdef object call_in(object context, object function, object scope, object receive, object send):
    PyContext_Enter(context)
    try:
        return function(scope, receive, send)
    finally:
        PyContext_Exit(context)


cpdef object copy_of(object context):
    return PyContext_Copy(context)
