"""What every connection protocol shares: the transport, writing with backpressure, reading pauses,
the Date/Server header lines, and closing. ``HTTPProtocol`` and ``WebSocketProtocol`` build on it."""

from __future__ import annotations

import asyncio


class Connection(asyncio.Protocol):
    def __init__(self, state) -> None:
        self.state = state  # the ServerState shared by every connection
        self.config = state.config
        self.loop = state.loop
        self.transport = None
        self.client = None
        self.server = None
        self.scheme = "http"
        self.write_paused = False
        self.drain_waiters: list = []
        self.reading_paused = False
        self.closing = False  # graceful shutdown: finish what is in progress, then close
        self.closed = False

    # -- asyncio flow control -----------------------------------------------------------------------

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain_waiters()

    def _wake_drain_waiters(self) -> None:
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- for the ASGI cycles ------------------------------------------------------------------------

    def create_future(self):
        return self.loop.create_future()

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        if self.write_paused and not self.closed:
            waiter = self.loop.create_future()
            self.drain_waiters.append(waiter)
            await waiter

    def default_headers(self, has_date: bool, has_server: bool) -> bytes:
        state = self.state
        if has_date:
            return b"" if has_server else state.server_header
        return state.date_header if has_server else state.date_header + state.server_header

    # -- closing and reading ------------------------------------------------------------------------

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    def _pause_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "unix socket"
