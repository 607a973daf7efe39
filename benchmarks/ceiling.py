"""The ceiling: a bare uvloop Protocol that answers every request with a canned response.

No parsing beyond counting request ends, no ASGI, no app: the most a Python server on this event loop
can do, against which the real servers are measured. ``python benchmarks/ceiling.py PORT``.
"""

import asyncio
import sys

import uvloop

RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n"
            b"date: Mon, 23 Nov 2026 00:00:00 GMT\r\nserver: ceiling\r\n\r\nHello, world!")


class Canned(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.tail = b""

    def data_received(self, data):
        data = self.tail + data
        count = data.count(b"\r\n\r\n")
        self.tail = data[data.rfind(b"\r\n\r\n") + 4:] if count else data
        if count:
            self.transport.write(RESPONSE * count)


async def main(port):
    server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", port, backlog=2048)
    print(f"ceiling running on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
