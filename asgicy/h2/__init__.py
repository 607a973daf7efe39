"""The sans-I/O HTTP/2 core (RFC 9113, HPACK RFC 7541): the server side of a connection, frames and streams.

``H2Connection`` takes the client's bytes and gives events (``events.py``) and bytes to send; see
``reference.py`` for the API. As for the other cores, the Cython ``_core`` (with the ``_hpack`` codec) is in
use when built, and the pure-Python ``reference`` (with ``hpack``) otherwise or with ``ASGICY_PURE_PYTHON=1``;
``IMPLEMENTATION`` says which.
"""

from __future__ import annotations

from ..cores import load
from .errors import H2ProtocolError

_active = load(__name__, "_core", "reference")  # the switch: asgicy.cores
H2Connection = _active.H2Connection
IMPLEMENTATION: str = _active.IMPLEMENTATION

__all__ = ["H2Connection", "H2ProtocolError", "IMPLEMENTATION"]
