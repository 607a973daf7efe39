"""Which implementation of the protocol cores is in use: the one switch, read by asgicy.http and asgicy.ws.

Each core (the HTTP/1.1 parser, the WebSocket framer) has a Cython extension and a pure-Python reference
with the same API. The extension is used when it is built; ``ASGICY_PURE_PYTHON=1`` asks for the
references instead (to debug, or to compare). A leaf module: it imports nothing from the package, so both
cores can read it without reaching into each other.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

PURE_PYTHON_REQUESTED = os.environ.get("ASGICY_PURE_PYTHON", "") not in ("", "0")


def load(package: str, extension: str, reference: str) -> ModuleType:
    """The module to use for one core of ``package``: its ``extension`` unless the references were asked for
    or it is not built (then its ``reference``, which is correct, only slower)."""
    if not PURE_PYTHON_REQUESTED:
        try:
            return importlib.import_module(f"{package}.{extension}")
        except ImportError:
            pass
    return importlib.import_module(f"{package}.{reference}")


class ReferenceCore:
    """What the pure-Python cores (the HTTP parser, the WebSocket framer) share: the error latch.

    A core fed bytes that break its protocol reports one protocol error (an event, never an exception past
    ``feed``) and stops for good: it drops what it buffered, and every later ``feed`` returns that same
    error and parses nothing. A subclass sets ``ERROR`` (its error state's number) and ``PROTOCOL_ERROR``
    (what its ``_run`` raises), keeps ``_state``, ``_error`` and a bytearray ``_buf``, and parses in
    ``_run(events)``. (The Cython cores, two separate extensions, each write the same latch in C.)
    """

    __slots__ = ()
    ERROR: int
    CLOSED: int
    PROTOCOL_ERROR: type

    def feed(self, data: bytes) -> list:
        if self._state == self.ERROR:
            return [self._error]
        if self._state == self.CLOSED:
            return []
        self._buf += data
        return self._parse()

    def _parse(self) -> list:
        events: list = []
        try:
            self._run(events)
        except self.PROTOCOL_ERROR as exc:
            self._state = self.ERROR
            self._error = exc
            self._buf.clear()
            events.append(exc)
        return events
