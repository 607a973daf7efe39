"""The package's own errors that more than one layer raises. A leaf module: it imports nothing from asgicy,
so the options (config.py), the proxy parsers (proxy.py) and the server's log formats (server/logs.py) can
all raise the same error without importing each other, and both protocol cores share one root error.

    ValueError
        ConfigError              an option's value (config.py and what it reads)
    Exception
        ProtocolError            a peer broke its protocol (what a sans-I/O core reports as an event)
            HTTPProtocolError        asgicy.http.errors: answered with ``status_hint``, then close
            WebSocketProtocolError   asgicy.ws.errors: closed with ``close_code``
"""

from __future__ import annotations


class ConfigError(ValueError):
    """An option has a value the server cannot use; the message says which, where from, and why."""


class ProtocolError(Exception):
    """A peer broke the rules of its protocol. A core never raises it past ``feed``: it is the last event.

    ``FIELDS`` names what a subclass carries; two errors are equal when those are (the differential tests
    compare the Cython and reference cores by this), and ``repr`` shows them."""

    FIELDS: tuple = ()

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.FIELDS)})"
