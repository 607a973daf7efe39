"""The server: binds the socket, runs lifespan, accepts connections, keeps the clock, shuts down.

``Server(config).serve()`` is the async entry point for embedding; ``asgicy.run()`` and the command
line wrap it with an event loop. The per-connection work is in ``protocol.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import stat
import time
from collections.abc import Callable

from ..config import Config
from ..http import IMPLEMENTATION
from .connection import TICK, ServerState
from .lifespan import Lifespan
from .protocol import HTTPProtocol, ProxyProtocolHTTP
from .tls import TLSConfigError, TLSInfo, create_ssl_context
from .wsgi import as_asgi3

logger = logging.getLogger("asgicy.error")



class StartupError(Exception):
    """The server could not start (a bind failed, lifespan startup failed); the message says why."""


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.should_exit = False
        self.force_exit = False
        self.started = False
        self.exit_code = 0
        self.bound: list = []  # (host, port) pairs or unix paths actually listened on
        self._servers: list = []
        self._started_event: asyncio.Event | None = None
        self._exit_event: asyncio.Event | None = None
        self.server_state: ServerState | None = None
        # called by the ticker: a supervisor's proof that this event loop is alive
        self.heartbeat: Callable[[], None] | None = None
        self.on_ready: Callable[[], None] | None = None  # called once the server listens
        self.notifier = None  # a systemd.Notifier, when this process is the one systemd started
        self.metrics = None  # a metrics.Metrics, with --metrics-port
        self.endpoint = None  # the metrics port, when this process serves it (not a supervisor's worker)
        self.serve_metrics = True
        self._delay_handle = None
        self.max_requests = config.limit_max_requests
        if self.max_requests is not None and config.limit_max_requests_jitter:
            self.max_requests += random.randint(0, config.limit_max_requests_jitter)

    # -- entry points -------------------------------------------------------------------------------

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until ``should_exit`` (a signal, or ``request_exit()``); then shut down gracefully."""
        loop = asyncio.get_running_loop()
        self._exit_event = asyncio.Event()
        self._started_event = self._started_event or asyncio.Event()
        config = self.config
        app = as_asgi3(config.app, config.interface, config.wsgi_threads, config.workers > 1)
        ssl_context = tls_info = None
        if self.config.is_ssl:
            try:
                ssl_context = create_ssl_context(self.config)
            except TLSConfigError as exc:
                raise StartupError(str(exc)) from None
            tls_info = TLSInfo(ssl_context, self.config.ssl_certfile)
        self.server_state = state = ServerState(self.config, app, loop, ssl_context, tls_info)
        if config.metrics_port is not None:
            from .metrics import Metrics
            self.metrics = Metrics.for_server()
        lifespan = None
        if self.config.lifespan != "off":
            lifespan = Lifespan(app, self.config.lifespan)
            await lifespan.startup()
            if lifespan.failed:
                self.exit_code = 3
                raise StartupError(f"lifespan startup failed: {lifespan.error_message or 'no message'}")
            state.lifespan_state = lifespan.lifespan_state if lifespan.supported else {}
        else:
            state.lifespan_state = {}
        try:
            await self._bind(loop, state, sockets)
        except StartupError:
            if lifespan is not None:
                await lifespan.shutdown()
            raise
        if self.metrics is not None and self.serve_metrics:
            from .metrics import Endpoint, MetricsPortError, MultiprocessDirectory
            try:
                self.endpoint = Endpoint(config.metrics_host, config.metrics_port,
                                         multiprocess=MultiprocessDirectory.VARIABLE in os.environ)
            except MetricsPortError as exc:
                for server in self._servers:
                    server.close()
                if lifespan is not None:
                    await lifespan.shutdown()
                raise StartupError(str(exc)) from None
        ticker = loop.create_task(self._tick(state))
        self.started = True
        self._started_event.set()
        if self.on_ready is not None:
            self.on_ready()
        if self.notifier is not None:
            self.notifier.ready(f"serving on {', '.join(map(str, self.bound))}")
        try:
            await self._exit_event.wait()
        finally:
            await self._shutdown(state)
            ticker.cancel()
            if self.metrics is not None:
                self.metrics.flush(state)  # what the last requests counted
            if self.endpoint is not None:
                self.endpoint.close()
            if lifespan is not None:
                await lifespan.shutdown()
                if lifespan.failed:
                    self.exit_code = self.exit_code or 3
        logger.info("Finished server process [%d]", os.getpid())

    def request_exit(self, *_args: object) -> None:
        """Starts a graceful shutdown (as SIGINT/SIGTERM do), after --shutdown-delay seconds of draining if
        one is set. A second call cuts the delay short, a third stops waiting for requests in progress."""
        draining = self.server_state is not None and self.server_state.draining  # in --shutdown-delay
        if self.notifier is not None and not self.should_exit and not draining:
            self.notifier.stopping()
        if draining and not self.should_exit:
            logger.info("Second stop signal: the shutdown delay is cut short")
            self._begin_shutdown()
            return
        delay = self.config.shutdown_delay
        if delay and self.started and not self.should_exit:
            self._start_draining(delay)
            return
        self._begin_shutdown()

    def _start_draining(self, delay: float) -> None:
        """--shutdown-delay: keep serving, but every response closes its connection and the readiness path
        says 503, so that load balancers take the instance out before it stops accepting."""
        state = self.server_state
        state.draining = True
        logger.info("Shutdown requested: serving %.3g s more before shutting down (shutdown-delay)%s", delay,
                    f"; {self.config.readiness_path} answers 503" if self.config.readiness_path else "")
        for conn in list(state.connections):
            conn.start_draining()
        self._delay_handle = state.loop.call_later(delay, self._begin_shutdown)

    def _begin_shutdown(self) -> None:
        if self._delay_handle is not None:
            self._delay_handle.cancel()
            self._delay_handle = None
        if self.should_exit:
            self.force_exit = True  # a second Ctrl+C: stop waiting for requests in progress
        self.should_exit = True
        if self._exit_event is not None:
            self._exit_event.set()

    async def wait_started(self) -> None:
        if self._started_event is None:
            self._started_event = asyncio.Event()
        await self._started_event.wait()

    # -- binding ------------------------------------------------------------------------------------

    async def _bind(self, loop, state: ServerState, sockets) -> None:
        config = self.config

        protocol_class = ProxyProtocolHTTP if config.proxy_protocol else HTTPProtocol
        ssl_context = state.ssl_context

        def factory():
            return protocol_class(state)

        self._factory = factory

        try:
            if sockets:
                for sock in sockets:
                    self._servers.append(await loop.create_server(factory, sock=sock, backlog=config.backlog,
                                                                     ssl=ssl_context))
            elif config.fd is not None:
                # A duplicate: the server may close its socket without closing the descriptor it was given.
                sock = socket.socket(fileno=os.dup(config.fd))
                self._servers.append(await loop.create_server(factory, sock=sock, backlog=config.backlog,
                                                                     ssl=ssl_context))
            elif config.uds is not None:
                path = config.uds
                if os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode):
                    os.unlink(path)  # a stale socket from an earlier run
                self._servers.append(await loop.create_unix_server(factory, path=path, backlog=config.backlog,
                                                                   ssl=ssl_context))
                os.chmod(path, 0o666)
            else:
                self._servers.append(await loop.create_server(
                    factory, host=config.host, port=config.port, backlog=config.backlog, reuse_address=True,
                    ssl=ssl_context))
        except OSError as exc:
            where = config.uds or (f"fd {config.fd}" if config.fd is not None else f"{config.host}:{config.port}")
            raise StartupError(f"could not listen on {where}: {exc.strerror or exc}") from None
        for server in self._servers:
            for sock in server.sockets:
                name = sock.getsockname()
                self.bound.append(tuple(name[:2]) if isinstance(name, tuple) else name)
        if not sockets:  # sockets given by a supervisor were announced by it
            for line in describe_bound([sock for server in self._servers for sock in server.sockets], ssl_context):
                logger.info("%s", line)

    async def _accept_pending(self, state: ServerState, listeners: list) -> None:
        for listener in listeners:
            try:
                listener.setblocking(False)
                while True:
                    try:
                        conn, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    await state.loop.connect_accepted_socket(self._factory, conn, ssl=state.ssl_context)
            except OSError as exc:  # pragma: no cover - best effort
                logger.debug("accepting pending connections at shutdown: %s", exc)
            finally:
                listener.close()

    # -- the clock ----------------------------------------------------------------------------------

    async def _tick(self, state: ServerState) -> None:
        while True:
            await asyncio.sleep(TICK)
            state.refresh_date()
            state.runner.trim()
            now = state.loop.time()
            for conn in list(state.connections):
                conn.check_timeouts(now)
            if self.heartbeat is not None:
                self.heartbeat()
            if self.notifier is not None:
                self.notifier.watchdog()
            if self.metrics is not None:
                self.metrics.flush(state)
            if self.max_requests is not None and state.requests >= self.max_requests and not self.should_exit:
                logger.info("Served %d requests (limit-max-requests): shutting down", state.requests)
                self._begin_shutdown()

    # -- shutdown -----------------------------------------------------------------------------------

    async def _shutdown(self, state: ServerState) -> None:
        logger.info("Shutting down")
        # Connections the kernel has completed but the loop has not accepted yet were taken before the
        # stop: they are accepted and served (with Connection: close) instead of being reset when the
        # listening socket closes. A duplicate of each listening socket outlives the server's own.
        pending = []
        for server in self._servers:
            for sock in server.sockets:
                try:
                    pending.append(socket.socket(fileno=os.dup(sock.fileno())))
                except OSError:  # pragma: no cover - the socket is already gone
                    pass
        for server in self._servers:
            server.close()  # stop accepting
        # A connection the loop accepted in its last turn has its connection_made still scheduled (asyncio
        # and uvloop both call it soon, not at once): one turn lets it join state.connections, so the
        # shutdown serves it rather than missing it and closing its transport with the loop.
        await asyncio.sleep(0)
        await self._accept_pending(state, pending)
        for conn in list(state.connections):
            conn.shutdown()
        timeout = self.config.timeout_graceful_shutdown
        deadline = None if timeout is None else time.monotonic() + timeout
        if state.cycles:
            logger.info("Waiting for %d request(s) in progress to finish", len(state.cycles))
        # Connections close themselves: after their response in progress, or (idle) when their keep-alive
        # timeout expires; see HTTPProtocol.shutdown for why idle ones are not cut at once. An app still
        # running after its client left is waited for too, up to the same timeout.
        while (state.connections or state.cycles) and not self.force_exit:
            if deadline is not None and time.monotonic() >= deadline:
                if state.cycles:
                    logger.warning("Graceful shutdown timed out; cancelling %d request(s)", len(state.cycles))
                break
            await asyncio.sleep(0.05)
        for task in list(state.tasks):
            task.cancel()
        if state.tasks:
            await asyncio.wait(list(state.tasks), timeout=5)
        for conn in list(state.connections):
            conn.shutdown()
            if conn.transport is not None:
                conn.flush_batch()  # what a read wrote this turn goes before the close
                conn.transport.close()
        for server in self._servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 1)
            except (TimeoutError, Exception):  # pragma: no cover - best effort
                pass
        if self.config.uds and os.path.exists(self.config.uds):
            os.unlink(self.config.uds)


def describe_bound(sockets, tls) -> list:
    """The 'running on' lines for the listening sockets (tests and users read the URL from them)."""
    lines = []
    for sock in sockets:
        name = sock.getsockname()
        if isinstance(name, tuple):
            host = f"[{name[0]}]" if ":" in name[0] else name[0]
            lines.append(f"asgicy running on {'https' if tls else 'http'}://{host}:{name[1]} (Press CTRL+C to quit)")
        else:
            lines.append(f"asgicy running on unix socket {name} (Press CTRL+C to quit)")
    return lines


def bind_sockets(config: Config) -> list:
    """Listening sockets for a supervisor to share with its workers: --fd, --uds, or every address of
    --host (as loop.create_server would bind)."""
    try:
        if config.fd is not None:
            sock = socket.socket(fileno=os.dup(config.fd))
            sock.listen(config.backlog)
            return [sock]
        if config.uds is not None:
            path = config.uds
            if os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode):
                os.unlink(path)  # a stale socket from an earlier run
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            os.chmod(path, 0o666)
            sock.listen(config.backlog)
            return [sock]
        sockets = []
        infos = socket.getaddrinfo(config.host or None, config.port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        port = config.port
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and sockets:  # port 0 on several addresses: the same free port on each
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(config.backlog)
            sockets.append(sock)
        return sockets
    except OSError as exc:
        where = config.uds or (f"fd {config.fd}" if config.fd is not None else f"{config.host}:{config.port}")
        raise StartupError(f"could not listen on {where}: {exc.strerror or exc}") from None


def install_signal_handlers(server: Server) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, server.request_exit)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not the main thread / Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(server.request_exit))


def new_event_loop(kind: str):
    """The event loop for ``--loop``: uvloop if asked for or (auto) installed, else asyncio's."""
    if kind in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise StartupError("--loop uvloop was asked for, but uvloop is not installed "
                                   "(pip install 'asgicy[standard]')") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def describe_loop() -> str:
    """The event loop ``--loop auto`` runs on here. The default install has no uvloop (it comes with
    ``asgicy[standard]``), and the benchmarks run on it: a user comparing figures needs to know which."""
    try:
        import uvloop
    except ImportError:
        return "event loop: asyncio (uvloop is not installed: pip install 'asgicy[standard]')"
    return f"event loop: uvloop {uvloop.__version__}"


def describe_implementation() -> str:
    from ..cores import PURE_PYTHON_REQUESTED
    if IMPLEMENTATION == "cython":
        return "HTTP parser: cython"
    why = "ASGICY_PURE_PYTHON is set" if PURE_PYTHON_REQUESTED else "the Cython extension is not built"
    return f"HTTP parser: pure-Python reference ({why})"


def run_server(config: Config, sockets=None, on_ready=None, heartbeat=None, notifier=None,
               serve_metrics: bool = True) -> int:
    """Runs a server until it is told to stop; returns the process exit code. A supervisor's worker passes
    the shared ``sockets`` and its ``on_ready`` and ``heartbeat`` callbacks (and leaves the metrics port to
    the supervisor); a server systemd started, the sockets it passed and a ``notifier``."""
    if IMPLEMENTATION != "cython":
        logger.warning("Using the pure-Python HTTP parser: %s. It is correct but slower.",
                       describe_implementation().split("(")[1].rstrip(")"))
    server = Server(config)
    server.on_ready, server.heartbeat = on_ready, heartbeat
    server.notifier, server.serve_metrics = notifier, serve_metrics
    loop = new_event_loop(config.loop)
    asyncio.set_event_loop(loop)

    async def main():
        install_signal_handlers(server)
        logger.info("Started server process [%d] (%s, %s loop)", os.getpid(), describe_implementation(),
                    type(loop).__module__.split(".")[0])
        await server.serve(sockets)

    try:
        loop.run_until_complete(main())
    except StartupError as exc:
        logger.error("%s", exc)
        return server.exit_code or 1
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
    return server.exit_code
