"""Telling ASGI 3 (single callable) apps from ASGI 2 (double callable) ones, as asgiref does."""

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


def asgi2_to_asgi3(app):
    async def asgi3(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)

    asgi3._asgi_single_callable = True
    return asgi3


def as_asgi3(app, interface: str = "auto"):
    """The app as a single callable, according to ``--interface``."""
    if interface == "asgi2" or (interface == "auto" and is_asgi2(app)):
        return asgi2_to_asgi3(app)
    return app
