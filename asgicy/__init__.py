"""asgicy: a strict, fast ASGI server with a Cython HTTP/1.1 parser.

``asgicy.run(app, **options)`` serves an app until SIGINT/SIGTERM; ``Server(Config(app=...)).serve()``
is the async form for embedding. The options are those of :class:`asgicy.config.Config`.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .config import Config
from .errors import ConfigError
from .server.server import Server


def run(app: Any, **options: Any) -> int:
    """Serve ``app`` (an ASGI or WSGI app, or a 'module:attribute' string) until told to stop; returns the
    exit code. ``options`` are those of the command line; as there, ``ASGICY_*`` environment variables and a
    config file fill in what is not given. ``workers`` and ``reload`` need the app as a string."""
    from .cli import serve
    from .config import resolve
    from .importer import AppImportError, import_from_string

    config = resolve({"app": app, **options})
    if isinstance(config.app, str) and config.workers == 1 and not config.reload and config.limit_max_memory is None:
        try:
            config.app = import_from_string(config.app, config.app_dir, config.factory)
        except AppImportError as exc:
            raise ConfigError(str(exc)) from None
    return serve(config)


__all__ = ["__version__", "run", "Config", "ConfigError", "Server"]
