# Types for compiling events.py with Cython (pure-Python mode): the same source runs uncompiled too.
# Only what the compiled cycle calls on every response is declared, so it is a C call there; the
# known-good sets stay module attributes (tests and the cycle read them by name).
cimport cython

@cython.locals(pairs=list)
cpdef list validate_headers(kind, headers, key=*)
