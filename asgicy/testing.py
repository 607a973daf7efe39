"""Running an app on a real asgicy server for a test, a notebook or a script.

``serving(app, **options)`` is an async context manager for code already inside an event loop (pytest-
asyncio tests); ``serve_in_thread(app, **options)`` runs the server on its own loop in a background
thread, for synchronous code and notebooks. Both bind 127.0.0.1 on a free port and yield a
:class:`Running` with the base URL; on exit the server shuts down gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .config import Config
from .server.server import Server


class Running:
    """A server started by ``serving`` or ``serve_in_thread``: ``host``, ``port``, ``url`` (the
    base ``http://`` URL) and ``server``, the :class:`asgicy.Server` itself."""

    def __init__(self, server: Server) -> None:
        self.server = server
        host, port = server.bound[0][:2]
        self.host: str = host
        self.port: int = port
        self.url: str = f"{'https' if server.config.is_ssl else 'http'}://{host}:{port}"


@contextlib.asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[Running]:
    """Runs ``app`` on a real server (127.0.0.1, a free port) inside the running loop; yields a ``Running``."""
    options.setdefault("host", "127.0.0.1")
    options.setdefault("port", 0)
    server = Server(Config.from_kwargs(app=app, **options))
    task = asyncio.get_running_loop().create_task(server.serve())
    started = asyncio.ensure_future(server.wait_started())
    await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
    if not server.started:
        started.cancel()
        await task  # raises the StartupError
    try:
        yield Running(server)
    finally:
        server.request_exit()
        await task


@contextlib.contextmanager
def serve_in_thread(app: Any, **options: Any) -> Iterator[Running]:
    """Runs ``app`` on a real server on its own loop in a background thread; yields a ``Running``."""
    ready = threading.Event()
    stop: list = []
    holder: dict = {}

    def main() -> None:
        async def run() -> None:
            try:
                async with serving(app, **options) as running:
                    holder["running"] = running
                    loop = asyncio.get_running_loop()
                    done = loop.create_future()
                    stop.append(lambda: loop.call_soon_threadsafe(done.set_result, None))
                    ready.set()
                    await done
            except BaseException as exc:
                holder["error"] = exc
                ready.set()

        asyncio.run(run())

    thread = threading.Thread(target=main, name="asgicy-test-server", daemon=True)
    thread.start()
    ready.wait()
    if "error" in holder:
        raise holder["error"]
    try:
        yield holder["running"]
    finally:
        stop[0]()
        thread.join(30)


def send_raw(running: Running, *pieces: bytes, pause: float = 0.0, quiet: float = 0.5,
             timeout: float = 10.0) -> bytes:
    """Sends ``pieces`` over a new TCP connection (``pause`` seconds apart) and returns every byte the
    server sent back, until it closed the connection or sent nothing for ``quiet`` seconds.

    For showing exact bytes on the wire (a notebook, a test); it never parses what it reads."""
    received = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection((running.host, running.port), timeout=timeout) as sock:
        for index, piece in enumerate(pieces):
            if index and pause:
                time.sleep(pause)
            sock.sendall(piece)
        sock.settimeout(quiet)
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)
