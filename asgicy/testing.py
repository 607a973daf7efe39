"""Running an app on a real asgicy server for a test, a notebook or a script; or a cycle in memory.

``serving(app, **options)`` is an async context manager for code already inside an event loop (pytest-
asyncio tests); ``serve_in_thread(app, **options)`` runs the server on its own loop in a background
thread, for synchronous code and notebooks. Both bind 127.0.0.1 on a free port and yield a
:class:`Running` with the base URL; on exit the server shuts down gracefully.

``RecordingSink`` carries an ASGI cycle with no server at all (the sink contract, ``asgicy.asgi.sink``):
it keeps what the cycle wrote and what it said, as h11's tests drive a Connection without sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .asgi.http1 import HTTP1Sink, field_lines
from .asgi.sink import WebSocketSink
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
            except TimeoutError:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)


class RecordingSink(HTTP1Sink, WebSocketSink):
    """A sink that records: ``written`` holds every piece of bytes written (``data`` joins them: the response
    as HTTP/1.1, framed by ``HTTP1Sink``),
    ``calls`` every other thing it said, in order, as tuples (``("response_complete",)``, ``("body_consumed",
    5)``, ``("ws_accept", subprotocol, fields)``, ``("text", "hi")``...).

    Set ``write_paused`` to make the cycle wait in ``drain``; ``resume()`` lets it go on. Files live in
    memory: ``files`` maps a path to its content for ``http.response.pathsend``, and ``add_open_file``
    makes a descriptor number for ``http.response.zerocopysend``. Futures come from the running loop.
    """

    DATE = b"date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
    SERVER = b"server: asgicy\r\n"

    def __init__(self, files: dict | None = None) -> None:
        super().__init__()
        self.written: list = []
        self.calls: list = []
        self.files: dict = dict(files or {})
        self.open_files: dict = {}  # fd -> [content, position, regular]
        self._next_fd = 1000
        self._resumed: asyncio.Event | None = None

    @property
    def data(self) -> bytes:
        return b"".join(self.written)

    def said(self, name: str) -> list:
        """The recorded calls named ``name``."""
        return [call for call in self.calls if call[0] == name]

    # -- bytes out
    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def write_two(self, first: bytes, second: bytes) -> None:
        self.written.append(bytes(first))
        self.written.append(bytes(second))

    async def drain(self) -> None:
        self.calls.append(("drain",))
        while self.write_paused:
            if self._resumed is None:
                self._resumed = asyncio.Event()
            await self._resumed.wait()

    def resume(self) -> None:
        """The peer read everything: whoever waits in ``drain`` goes on."""
        self.write_paused = False
        if self._resumed is not None:
            self._resumed.set()
            self._resumed = None

    def default_headers(self, has_date: bool, has_server: bool) -> bytes:
        return (b"" if has_date else self.DATE) + (b"" if has_server else self.SERVER)

    # -- files
    def add_open_file(self, content: bytes, position: int = 0, regular: bool = True) -> int:
        """A descriptor number for ``content`` as if the app had opened it (``regular=False``: a pipe)."""
        fd = self._next_fd
        self._next_fd += 1
        self.open_files[fd] = [content, position, regular]
        return fd

    def open_file(self, path: str) -> int:
        if path not in self.files:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self.calls.append(("open_file", path))
        return self.add_open_file(self.files[path])

    def close_file(self, fd: int) -> None:
        self.calls.append(("close_file", fd))
        del self.open_files[fd]

    def file_size(self, fd: int) -> int:
        content, _, regular = self.open_files[fd]
        return len(content) if regular else -1

    def file_position(self, fd: int) -> int:
        return self.open_files[fd][1]

    def move_file_position(self, fd: int, position: int) -> None:
        self.open_files[fd][1] = position

    async def send_file(self, fd: int, offset: int, count: int) -> int:
        piece = self.open_files[fd][0][offset:offset + count]
        self.written.append(piece)
        return len(piece)

    # -- what the cycle says
    def create_future(self) -> Any:
        return asyncio.get_running_loop().create_future()

    def body_consumed(self, size: int) -> None:
        self.calls.append(("body_consumed", size))

    def response_complete(self, cycle: Any) -> None:
        self.calls.append(("response_complete",))

    def abort_response(self, cycle: Any) -> None:
        self.calls.append(("abort_response",))

    def app_finished(self, cycle: Any) -> None:
        self.calls.append(("app_finished",))

    def ws_accept(self, subprotocol: Any, fields: list, has_date: bool, has_server: bool) -> None:
        # Recorded as the header lines the 101 would carry (the server's Date and Server first).
        self.calls.append(("ws_accept", subprotocol, self.default_headers(has_date, has_server) + field_lines(fields)))

    def ws_close(self, code: int, reason: str) -> None:
        self.calls.append(("ws_close", code, reason))

    def send_text(self, text: str) -> None:
        self.calls.append(("text", text))

    def send_bytes(self, data: bytes) -> None:
        self.calls.append(("bytes", bytes(data)))

    def message_consumed(self, queued: int) -> None:
        self.calls.append(("message_consumed", queued))
