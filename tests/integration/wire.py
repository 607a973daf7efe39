"""A raw-socket client for tests that need to see (or send) exact bytes on the wire."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    reason: bytes
    version: bytes
    headers: list = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False
    trailers: list = field(default_factory=list)

    def header(self, name: bytes):
        values = [v for k, v in self.headers if k.lower() == name]
        return values[0] if values else None

    def header_names(self) -> list:
        return [k.lower() for k, _ in self.headers]


class Wire:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, running) -> Wire:
        reader, writer = await asyncio.open_connection(running.host, running.port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, *, head: bool = False, timeout: float = 5) -> Response:
        return await asyncio.wait_for(self._response(head), timeout)

    async def _response(self, head: bool) -> Response:
        line = await self.reader.readuntil(b"\r\n")
        version, status, reason = line[:-2].split(b" ", 2)
        response = Response(int(status), reason, version)
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line[:-2].partition(b":")
            response.headers.append((name, value.strip()))
        if head or response.status < 200 or response.status in (204, 304):
            return response
        length = response.header(b"content-length")
        if response.header(b"transfer-encoding") == b"chunked":
            response.chunked = True
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                if size == 0:
                    while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                        name, _, value = line[:-2].partition(b":")
                        response.trailers.append((name, value.strip()))
                    break
                body += await self.reader.readexactly(size)
                assert await self.reader.readexactly(2) == b"\r\n"
            response.body = body
        elif length is not None:
            response.body = await self.reader.readexactly(int(length))
        else:
            response.body = await self.reader.read()
        return response

    async def closed(self, timeout: float = 5) -> bool:
        """True when the server closes the connection (EOF) without sending anything more."""
        data = await asyncio.wait_for(self.reader.read(), timeout)
        return data == b""

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass


class RecordingTransport:
    """A transport for a protocol driven without sockets: keeps every write (to count the pieces the
    responses went out in); ``fail=True`` makes writes raise."""

    def __init__(self, fail: bool = False) -> None:
        self.writes: list = []
        self.fail = fail
        self.aborted = False
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.fail:
            raise RuntimeError("this transport refuses writes")
        self.writes.append(bytes(data))

    def writelines(self, pieces) -> None:
        self.write(b"".join(pieces))

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass
