"""The sans-I/O WebSocket core (RFC 6455, RFC 7692): the framer, the handshake, permessage-deflate.

As for HTTP, the framer has a Cython implementation (``_framer``, in use) and a pure-Python reference
(``reference``, the specification and the fallback); ``IMPLEMENTATION`` says which is active. See
``reference.py`` for the API.
"""

from __future__ import annotations

from ..cores import load
from .errors import Close, Ping, Pong, WebSocketProtocolError

_active = load(__name__, "_framer", "reference")  # the switch: asgicy.cores
Framer = _active.Framer
IMPLEMENTATION: str = _active.IMPLEMENTATION

__all__ = ["Framer", "IMPLEMENTATION", "Close", "Ping", "Pong", "WebSocketProtocolError"]
