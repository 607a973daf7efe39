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
