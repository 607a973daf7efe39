"""asgicy: a strict, fast ASGI server with a Cython HTTP/1.1 parser.

``asgicy.run(app, **options)`` serves an app until SIGINT/SIGTERM; ``Server(Config(app=...)).serve()``
is the async form for embedding. The options are those of :class:`asgicy.config.Config`.
"""

from __future__ import annotations

from ._version import __version__
from .config import Config, ConfigError
from .server.server import Server


def run(app, **options) -> int:
    """Serve ``app`` (an ASGI app, or a 'module:attribute' string) until told to stop; returns the exit code."""
    from .importer import import_from_string
    from .server.logs import configure_logging
    from .server.server import run_server

    config = Config.from_kwargs(app=app, **options)
    if isinstance(config.app, str):
        config.app = import_from_string(config.app, config.app_dir, config.factory)
    configure_logging(config.log_level, config.access_log)
    return run_server(config)


__all__ = ["__version__", "run", "Config", "ConfigError", "Server"]
