"""The package's own errors that more than one layer raises. A leaf module: it imports nothing from asgicy,
so the options (config.py), the proxy parsers (proxy.py) and the server's log formats (server/logs.py) can
all raise the same error without importing each other."""

from __future__ import annotations


class ConfigError(ValueError):
    """An option has a value the server cannot use; the message says which, where from, and why."""
