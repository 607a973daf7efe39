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

import os

from .errors import HTTPProtocolError

PURE_PYTHON_REQUESTED = os.environ.get("ASGICY_PURE_PYTHON", "") not in ("", "0")

if PURE_PYTHON_REQUESTED:
    from .reference import IMPLEMENTATION, EndOfMessage, HTTPParser, Request
else:
    try:
        from ._parser import IMPLEMENTATION, EndOfMessage, HTTPParser, Request
    except ImportError:  # not built: the reference is correct, only slower
        from .reference import IMPLEMENTATION, EndOfMessage, HTTPParser, Request

__all__ = ["HTTPParser", "Request", "EndOfMessage", "HTTPProtocolError", "IMPLEMENTATION",
           "PURE_PYTHON_REQUESTED"]
