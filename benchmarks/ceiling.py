"""The ceiling: a bare uvloop Protocol that answers every request with a canned response.

No parsing beyond counting request ends, no ASGI, no app: the most a Python server on this event loop
can do, against which the real servers are measured. ``python benchmarks/ceiling.py PORT``.

A request that asks for a WebSocket (``Upgrade: websocket``, the load generator's fixed key) gets a canned
101 and then every frame echoed back: frame lengths read, the payload unmasked, no UTF-8 check, no
fragmentation, no close handshake. That is the WebSocket ceiling, the most an echo on this loop can do.
"""

import asyncio
import sys

import uvloop

RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n"
            b"date: Mon, 23 Nov 2026 00:00:00 GMT\r\nserver: ceiling\r\n\r\nHello, world!")


# RFC 6455 4.2.2: the accept value for loadgen's key "dGhlIHNhbXBsZSBub25jZQ==" (the RFC's own example).
SWITCH = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


def echo_frames(data: bytes) -> tuple:
    """The server frames echoing every whole masked client frame in ``data``, and the rest of ``data``."""
    out = []
    at = 0
    while len(data) - at >= 6:
        first, second = data[at], data[at + 1]
        length = second & 0x7F
        head = 2
        if length == 126:
            length = int.from_bytes(data[at + 2:at + 4], "big")
            head = 4
        elif length == 127:
            length = int.from_bytes(data[at + 2:at + 10], "big")
            head = 10
        end = at + head + 4 + length
        if end > len(data):
            break
        mask = data[at + head:at + head + 4]
        payload = data[at + head + 4:end]
        if mask != b"\0\0\0\0":
            key = int.from_bytes(mask * (length // 4 + 1), "little") & ((1 << (8 * length)) - 1)
            payload = (int.from_bytes(payload, "little") ^ key).to_bytes(length, "little")
        out.append(bytes([first, length if length < 126 else (126 if length < 65536 else 127)]))
        if 126 <= length < 65536:
            out.append(length.to_bytes(2, "big"))
        elif length >= 65536:
            out.append(length.to_bytes(8, "big"))
        out.append(payload)
        at = end
    return b"".join(out), data[at:]


class Canned(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.tail = b""
        self.websocket = False

    def data_received(self, data):
        data = self.tail + data
        if self.websocket:
            echo, self.tail = echo_frames(data)
            if echo:
                self.transport.write(echo)
            return
        if data.startswith(b"GET /ws") and b"\r\n\r\n" in data:
            self.websocket = True
            self.tail = b""
            self.transport.write(SWITCH)
            echo, self.tail = echo_frames(data[data.index(b"\r\n\r\n") + 4:])
            return
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
