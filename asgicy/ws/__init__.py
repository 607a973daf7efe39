"""The sans-I/O WebSocket core (RFC 6455, RFC 7692): the framer, the handshake, permessage-deflate.

As for HTTP, the framer has a Cython implementation (``_framer``, in use) and a pure-Python reference
(``reference``, the specification and the fallback); ``IMPLEMENTATION`` says which is active. See
``reference.py`` for the API.
"""

from __future__ import annotations

from ..http import PURE_PYTHON_REQUESTED
from .errors import Close, Ping, Pong, WebSocketProtocolError

if PURE_PYTHON_REQUESTED:
    from .reference import IMPLEMENTATION, Framer
else:
    try:
        from ._framer import IMPLEMENTATION, Framer
    except ImportError:  # not built: the reference is correct, only slower
        from .reference import IMPLEMENTATION, Framer

__all__ = ["Framer", "IMPLEMENTATION", "Close", "Ping", "Pong", "WebSocketProtocolError"]
