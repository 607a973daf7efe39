"""The sans-I/O HTTP/1.1 core: the request parser and its events.

Two implementations of one API live here: the Cython ``_parser`` extension (the one in use) and the
pure-Python ``reference`` (the specification, and the fallback when the extension is not built or
``ASGICY_PURE_PYTHON=1`` is set). ``HTTPParser``, ``Request`` and ``EndOfMessage`` below are the active
implementation's; ``IMPLEMENTATION`` says which ("cython" or "python").

The parser is event-based, like h11: ``feed(bytes)`` returns the list of events the bytes completed
(``Request``, ``bytes`` body pieces, ``EndOfMessage``, and at most one trailing ``HTTPProtocolError``).
It never does I/O and never raises. See ``reference.py`` for the full contract.
"""

from __future__ import annotations

from ..cores import load
from .errors import HTTPProtocolError

_active = load(__name__, "_parser", "reference")  # the switch: asgicy.cores
HTTPParser = _active.HTTPParser
Request = _active.Request
EndOfMessage = _active.EndOfMessage
IMPLEMENTATION: str = _active.IMPLEMENTATION

__all__ = ["HTTPParser", "Request", "EndOfMessage", "HTTPProtocolError", "IMPLEMENTATION"]
