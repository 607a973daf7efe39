"""Telling ASGI 3 (single callable) apps from ASGI 2 (double callable) ones, as asgiref does, and WSGI
apps from both."""

from __future__ import annotations

import inspect


def is_asgi2(app) -> bool:
    """True for a double-callable app: ``app(scope)`` returns an instance, awaited with (receive, send).

    The markers ``_asgi_single_callable`` / ``_asgi_double_callable`` win; otherwise a class is double
    and a coroutine function (or an object whose ``__call__`` is one) is single (asgiref.compatibility)."""
    if getattr(app, "_asgi_single_callable", False):
        return False
    if getattr(app, "_asgi_double_callable", False):
        return True
    if inspect.isclass(app):
        return True
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(getattr(app, "__call__", None)):
        return False
    return True


def is_wsgi(app) -> bool:
    """True for what can only be a WSGI app: not a class, not a coroutine function, and called with exactly
    two required positional parameters (environ, start_response). An ASGI 2 app takes one (scope); an
    ASGI 3 app is a coroutine function of three."""
    if inspect.isclass(app) or getattr(app, "_asgi_single_callable", False) or \
            getattr(app, "_asgi_double_callable", False):
        return False
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)
    if call is None or inspect.iscoroutinefunction(call):
        return False
    try:
        parameters = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    return len(required) == 2 and len(positional) == 2 and \
        not any(p.kind is p.VAR_POSITIONAL for p in parameters)


def asgi2_to_asgi3(app):
    async def asgi3(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)

    asgi3._asgi_single_callable = True
    return asgi3
