"""asgicy as a gunicorn worker: ``gunicorn -k asgicy.workers.AsgicyWorker module:app``.

gunicorn is the arbiter (it binds, forks, restarts dead or silent workers, rolls them on SIGHUP); each
worker process runs one asgicy ``Server`` on gunicorn's sockets. The settings gunicorn has that mean the
same as an asgicy option are carried over (keepalive, graceful_timeout, request line and field limits,
forwarded_allow_ips, proxy_protocol, backlog, TLS files, max_requests with its jitter, access log and its
format, whose atoms asgicy shares); the rest of asgicy's options keep their defaults, or are set in a
subclass's ``CONFIG_KWARGS``. The app may be ASGI or WSGI: ``--interface auto`` tells them apart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from gunicorn.workers.base import Worker

from .config import Config
from .errors import ConfigError
from .server.server import Server, StartupError, new_event_loop

WORKER_BOOT_ERROR = 3  # gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR: the arbiter stops instead of respawning


class AsgicyWorker(Worker):
    CONFIG_KWARGS: dict = {"loop": "auto"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._route_logs()
        self.options = self._options()

    def _route_logs(self) -> None:
        """asgicy's two loggers write through gunicorn's handlers, so --error-logfile and --access-logfile
        (and their formats) apply."""
        error = logging.getLogger("asgicy.error")
        error.handlers = list(self.log.error_log.handlers)
        error.setLevel(self.log.error_log.level)
        error.propagate = False
        access = logging.getLogger("asgicy.access")
        access.handlers = list(self.log.access_log.handlers)
        access.setLevel(logging.INFO if self.cfg.accesslog else logging.CRITICAL + 1)
        access.propagate = False

    def _options(self) -> dict:
        cfg = self.cfg
        # gunicorn up to 23 has proxy_protocol on/off; later ones off, v1, v2 or auto (asgicy reads both
        # versions whenever it is on) and a trust list of its own, which asgicy folds into its one list.
        proxy_protocol = cfg.proxy_protocol is True or (isinstance(cfg.proxy_protocol, str) and
                                                        cfg.proxy_protocol.lower() != "off")
        trusted = list(cfg.forwarded_allow_ips)
        if proxy_protocol:
            trusted += list(getattr(cfg, "proxy_allow_ips", None) or [])
        options = {
            "timeout_keep_alive": float(cfg.keepalive) or 5.0,
            "timeout_graceful_shutdown": float(cfg.graceful_timeout),
            "forwarded_allow_ips": ",".join(trusted),
            "proxy_protocol": proxy_protocol,
            "backlog": cfg.backlog,
            "access_log": bool(cfg.accesslog),
        }
        # gunicorn's 0 means "no limit", which asgicy does not offer: its own default stays then.
        if cfg.limit_request_line > 0:
            options["limit_request_line"] = cfg.limit_request_line + 2  # gunicorn counts without CRLF
        if cfg.limit_request_fields > 0:
            options["limit_request_headers"] = cfg.limit_request_fields
        if 0 < self.max_requests < sys.maxsize:
            options["limit_max_requests"] = self.max_requests  # gunicorn added its jitter already
        if cfg.is_ssl:
            options.update(ssl_certfile=cfg.certfile, ssl_keyfile=cfg.keyfile, ssl_ca_certs=cfg.ca_certs,
                           ssl_cert_reqs=int(cfg.cert_reqs), ssl_ciphers=cfg.ciphers)
        try:
            from .server.logs import AccessFormat
            AccessFormat(cfg.access_log_format)
            options["access_log_format"] = cfg.access_log_format
        except ConfigError as exc:
            self.log.warning("access_log_format is not usable by asgicy (%s); using asgicy's", exc)
        options.update(self.CONFIG_KWARGS)
        return options

    def init_signals(self) -> None:
        # The event loop installs the handlers that matter in run(); until then, the defaults.
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, lambda *_: self.log.reopen_files())

    def run(self) -> None:
        try:
            config = Config(app=self.wsgi, **self.options)
        except ConfigError as exc:
            self.log.error("asgicy: %s", exc)
            sys.exit(WORKER_BOOT_ERROR)
        server = Server(config)
        server.heartbeat = lambda: self._heartbeat(server)
        loop = new_event_loop(config.loop)
        asyncio.set_event_loop(loop)

        async def main():
            # SIGTERM: graceful (gunicorn's meaning); SIGINT/SIGQUIT: quick, so a second request_exit.
            loop.add_signal_handler(signal.SIGTERM, server.request_exit)
            for sig in (signal.SIGINT, signal.SIGQUIT):
                loop.add_signal_handler(sig, lambda: (server.request_exit(), server.request_exit()))
            loop.add_signal_handler(signal.SIGUSR1, self.log.reopen_files)
            await server.serve(sockets=[listener.sock for listener in self.sockets])

        try:
            loop.run_until_complete(main())
        except StartupError as exc:
            self.log.error("asgicy: %s", exc)
            sys.exit(WORKER_BOOT_ERROR)
        finally:
            asyncio.set_event_loop(None)
            loop.close()
        sys.exit(server.exit_code)

    def _heartbeat(self, server: Server) -> None:
        """Called by the server's ticker: tells the arbiter this worker's loop is alive, and stops when the
        arbiter is gone (as gunicorn's own workers do)."""
        self.notify()
        if self.ppid != os.getppid() and not server.should_exit:
            self.log.info("Parent changed, shutting down: %s", self)
            server.request_exit()
