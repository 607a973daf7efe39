"""Stepping an app's coroutine inside its context: the pure-Python twin of the ``_coroutines`` extension.

``eager.py`` runs an app's coroutine itself, outside any task, one step at a time. These four helpers are
all it needs from the interpreter for that. ``_coroutines.pyx`` implements the same API in C with
``PyIter_Send`` and ``PyContext_Enter``/``Exit`` (a coroutine that returns then costs no StopIteration,
which this version makes and catches on every request); this module is what runs where the extension is
not built, and what the extension must agree with (``tests/asgi/test_coroutines.py`` runs one test class
against both).
"""

from __future__ import annotations

IMPLEMENTATION = "python"


class _Returned:
    """The type of ``RETURNED``, so that it reads as what it is in a debugger."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "RETURNED"


# What ``step`` gives back for a coroutine that returned (a coroutine may yield anything, None included).
RETURNED = _Returned()


def step(coro, context):
    """Sends ``None`` into ``coro`` inside ``context``: returns what it yielded when it suspends, ``RETURNED``
    when it returns (its value is dropped: an ASGI app returns None), and raises what it raised."""
    try:
        return context.run(coro.send, None)
    except StopIteration:
        return RETURNED


def throw_in(coro, context, exc):
    """Throws ``exc`` into ``coro`` inside ``context`` (what a task does with a failed future or a
    cancellation): returns what it yielded if it caught it and suspended again, ``RETURNED`` when it
    returned, and raises what it raised (``exc`` itself, usually)."""
    try:
        return context.run(coro.throw, exc)
    except StopIteration:
        return RETURNED


def call_in(context, function, scope, receive, send):
    """``function(scope, receive, send)`` called inside ``context``: an app's call, so that what it does
    before its first await runs in the context the rest of it will."""
    return context.run(function, scope, receive, send)


def copy_of(context):
    """A copy of ``context`` (``context.copy()``)."""
    return context.copy()
