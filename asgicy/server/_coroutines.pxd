# Declarations only: what the compiled runner (eager.py) cimports from _coroutines.pyx, so it calls them
# in C. Their Python-visible twins, with the same names, are in coroutines.py.
cpdef object step(object coro, object context)
cpdef object throw_in(object coro, object context, object exc)
cpdef object call_in(object context, object function, object scope, object receive, object send)
cpdef object copy_of(object context)
