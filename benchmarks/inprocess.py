"""The Python cost of one request through asgicy's HTTP protocol, without sockets.

    taskset -c 1 python benchmarks/inprocess.py [--batches 1,16] [--requests 600000] [--path /awaiting]
    taskset -c 1 python benchmarks/inprocess.py --path /ws [--batches 1] [--message-size 32]

An ``HTTPProtocol`` is given a do-nothing transport and fed ``GET /plaintext`` requests (``--path``: another
route of ``apps.py``, such as ``/awaiting``) from loop callbacks, ``batch`` requests per read (1:
keep-alive, one request per read; 16: pipelined), the next read once the last one's responses are written,
and answered by the benchmark app (``apps.py``). What it prints is microseconds per request: the parser, the
scope, the cycle, the app and the protocol's bookkeeping, plus (per read) a loop callback. What it leaves
out is what the kernel and the event loop cost for a real socket, the part ``run.py``'s ceiling server
measures. Use it to compare two versions of the server (run each a few times, pinned to one core); it is not
a comparison with other servers. ``--protocol ceiling`` feeds the same reads to the ceiling server's
protocol instead: the harness's own cost plus a canned answer, the floor below which asgicy's figure cannot
go.

A WebSocket route (``/ws``, ``/ws-awaiting``) upgrades the connection first, then feeds masked text
frames of ``--message-size`` bytes, ``batch`` per read, the next read once all are echoed: what it prints
is then microseconds per message (the framer, the cycle's receive and send, the app, a loop callback per
read). ``/ws-broadcast`` is not a closed loop on one connection and is not offered here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apps  # noqa: E402  (the benchmark app, beside this file)
import ceiling  # noqa: E402

from asgicy.config import Config  # noqa: E402
from asgicy.server.protocol import HTTPProtocol  # noqa: E402
from asgicy.server.server import ServerState  # noqa: E402

class NullTransport:
    """Takes the writes and counts the responses in them; says what a TCP transport from 127.0.0.1 says.
    ``on_responses(n)`` is called with each write that completes responses (the client's turn)."""

    def __init__(self, on_responses) -> None:
        self.on_responses = on_responses

    def write(self, data: bytes) -> None:
        answered = data.count(b"HTTP/1.1 ")
        if answered:
            self.on_responses(answered)

    def writelines(self, pieces) -> None:
        self.write(b"".join(pieces))

    def set_protocol(self, protocol) -> None:
        self.protocol = protocol

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class WebSocketTransport(NullTransport):
    """After the upgrade: counts the frames a write carries (the echo writes one frame per message)."""

    def write(self, data: bytes) -> None:
        if data.startswith(b"HTTP/1.1 101 "):
            self.on_responses(1)
            return
        count, at = 0, 0
        while at < len(data):  # walk the server's (unmasked) frame headers
            opcode = data[at]
            if opcode == 0x88:  # the close, when the run ends and the app is cancelled
                return
            if opcode != 0x81:  # FIN and text: the echo of the client's text frame
                raise SystemExit(f"not an echo of a text message: {data[at:at + 16]!r}")
            length = data[at + 1] & 0x7F
            header = 2 if length < 126 else 4 if length == 126 else 10
            if length >= 126:
                length = int.from_bytes(data[at + 2:at + header], "big")
            at += header + length
            count += 1
        self.on_responses(count)


def masked_text_frame(payload: bytes) -> bytes:
    """A client's text frame (RFC 6455 5.2): FIN, opcode 1, masked; up to 65535 bytes."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return b"\x81" + length + mask + body


class Client:
    """A closed-loop client on one connection: it sends ``batch`` requests in one read (a loop callback,
    as a socket's readiness would be) and the next read once all of their responses are written, until
    ``reads`` reads were answered (then ``done`` is set). An app that answers at once is answered within
    the read's callback; one that awaits is answered in later turns of the loop, as with a real socket."""

    def __init__(self, loop, protocol, request: bytes, batch: int, reads: int) -> None:
        self.loop = loop
        self.protocol = protocol
        self.data = request * batch
        self.batch = batch
        self.reads = reads
        self.outstanding = 0
        self.done = loop.create_future()

    def responses(self, count: int) -> None:
        self.outstanding -= count
        if self.outstanding == 0:
            self.reads -= 1
            if self.reads == 0:
                self.done.set_result(None)
            else:
                self.send()

    def send(self) -> None:
        self.outstanding = self.batch
        self.loop.call_soon(self.protocol.data_received, self.data)


async def upgrade(loop, protocol, transport, path: str):
    """Sends the WebSocket handshake and returns the protocol the transport was handed to."""
    answered = loop.create_future()
    transport.on_responses = lambda count: answered.done() or answered.set_result(None)
    # From a loop callback, as a socket's read would be (inside a task, the app could not run eagerly).
    loop.call_soon(protocol.data_received, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    await asyncio.wait_for(answered, 5)
    return transport.protocol


async def measure(batches: list[int], requests: int, which: str, metrics: bool = False,
                  path: str = "/plaintext", message_size: int = 32) -> None:
    loop = asyncio.get_running_loop()
    if which == "ceiling":
        protocol = ceiling.Canned()
    else:
        # --metrics: each response counted as with --metrics-port (the port itself is not opened here).
        config = Config(app=apps.app, access_log=False, lifespan="off", metrics_port=9 if metrics else None)
        state = ServerState(config, apps.app, loop)
        state.lifespan_state = {}
        protocol = HTTPProtocol(state)
    client = None
    websocket = path.startswith("/ws")
    transport = (WebSocketTransport if websocket else NullTransport)(lambda count: client.responses(count))
    protocol.connection_made(transport)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n".encode()
    if websocket:
        if which == "ceiling" or path == "/ws-broadcast":
            raise SystemExit("WebSocket here: asgicy's /ws or /ws-awaiting")
        protocol = await upgrade(loop, protocol, transport, path)
        transport.on_responses = lambda count: client.responses(count)
        request = masked_text_frame(b"x" * message_size)
    for batch in batches:
        client = Client(loop, protocol, request, batch, 1000)  # warm up
        client.send()
        await client.done
        reads = max(1, requests // batch)
        client = Client(loop, protocol, request, batch, reads)
        start = time.perf_counter()
        client.send()
        await client.done
        elapsed = time.perf_counter() - start
        unit = "message" if websocket else "request"
        print(f"batch {batch:>3}: {elapsed / (reads * batch) * 1e6:.2f} us per {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,16", help="requests per read, comma-separated")
    parser.add_argument("--requests", type=int, default=600_000)
    parser.add_argument("--protocol", choices=("asgicy", "ceiling"), default="asgicy")
    parser.add_argument("--metrics", action="store_true", help="count each response for the metrics")
    parser.add_argument("--path", default="/plaintext", help="the route of apps.py to request (/awaiting: one await)")
    parser.add_argument("--message-size", type=int, default=32, help="WebSocket routes: bytes per message")
    args = parser.parse_args()
    import uvloop

    batches = [int(b) for b in args.batches.split(",")]
    uvloop.run(measure(batches, args.requests, args.protocol, args.metrics, args.path, args.message_size))


if __name__ == "__main__":
    main()
