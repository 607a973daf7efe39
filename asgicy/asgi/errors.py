"""Errors an ASGI application meets when it misuses ``send``, and the spec 2.4 disconnect error.

::

    Exception
    ├── ASGIEventError (also TypeError)      the app sent an invalid event; names the event, the problem
    │                                        and the spec rule. The send is refused and changes nothing.
    └── OSError
        └── ClientDisconnected               ``send`` after the client went away (HTTP spec 2.4, WebSocket
                                             spec 2.4); the server swallows it quietly if it escapes the app.
"""

from __future__ import annotations


class ASGIEventError(TypeError):
    """An event the application sent breaks the ASGI specification."""

    def __init__(self, event_type: object, problem: str, rule: str = "") -> None:
        self.event_type = event_type
        self.problem = problem
        self.rule = rule
        where = event_type if isinstance(event_type, str) else "send()"
        super().__init__(f"{where}: {problem}" + (f" ({rule})" if rule else ""))


class ClientDisconnected(OSError):
    """The client is gone: nothing sent now can reach it (ASGI HTTP spec 2.4, 'Disconnected Client')."""


def follows_disconnect(exc: BaseException, delivered: bool) -> bool:
    """Whether ``exc``, escaping an app whose client has gone, is the app's reaction to that departure.

    It is when the app was told: its ``receive`` returned the disconnect event (``delivered``), or ``send``
    raised ClientDisconnected and ``exc`` is that error or was raised while handling it or from it (as
    Starlette turns it into its own ``ClientDisconnect``). An exception with no such link, say a bug met
    while the client happened to leave, is still an error."""
    if delivered:
        return True
    seen: set = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ClientDisconnected):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def log_after_disconnect(logger, exc: BaseException, scope) -> None:
    """The one line, at debug, for an app's exception that follows its client's departure."""
    client = scope.get("client")
    who = f"{client[0]}:{client[1]}" if client else "the client"
    logger.debug("%s raised by the ASGI application after %s disconnected (%s)", type(exc).__name__, who,
                 scope.get("path", scope.get("type")), exc_info=exc)
