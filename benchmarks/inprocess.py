"""The Python cost of one request through asgicy's HTTP protocol, without sockets.

    taskset -c 1 python benchmarks/inprocess.py [--batches 1,16] [--requests 600000]

An ``HTTPProtocol`` is given a do-nothing transport and fed ``GET /plaintext`` requests from loop callbacks,
``batch`` requests per read (1: keep-alive, one request per read; 16: pipelined), and answered by the
benchmark app (``apps.py``). What it prints is microseconds per request: the parser, the scope, the cycle,
the app and the protocol's bookkeeping, plus (per read) a loop callback. What it leaves out is what the
kernel and the event loop cost for a real socket, the part ``run.py``'s ceiling server measures. Use it to
compare two versions of the server (run each a few times, pinned to one core); it is not a comparison
with other servers. ``--protocol ceiling`` feeds the same reads to the ceiling server's protocol instead:
the harness's own cost plus a canned answer, the floor below which asgicy's figure cannot go.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apps  # noqa: E402  (the benchmark app, beside this file)
import ceiling  # noqa: E402

from asgicy.config import Config  # noqa: E402
from asgicy.server.protocol import HTTPProtocol  # noqa: E402
from asgicy.server.server import ServerState  # noqa: E402

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"


class NullTransport:
    """Takes the writes and forgets them; says what a TCP transport from 127.0.0.1 says."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def writelines(self, pieces) -> None:
        self.writes += 1

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


async def measure(batches: list[int], requests: int, which: str, metrics: bool = False) -> None:
    loop = asyncio.get_running_loop()
    if which == "ceiling":
        protocol = ceiling.Canned()
    else:
        # --metrics: each response counted as with --metrics-port (the port itself is not opened here).
        config = Config(app=apps.app, access_log=False, lifespan="off", metrics_port=9 if metrics else None)
        state = ServerState(config, apps.app, loop)
        state.lifespan_state = {}
        protocol = HTTPProtocol(state)
    transport = NullTransport()
    protocol.connection_made(transport)
    for batch in batches:
        data = REQUEST * batch
        reads = max(1, requests // batch)
        for _ in range(1000):  # warm up
            loop.call_soon(protocol.data_received, data)
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # the last read's response goes out at the end of the loop's turn
        answered = transport.writes
        start = time.perf_counter()
        for _ in range(reads):
            loop.call_soon(protocol.data_received, data)
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # the last read's response goes out at the end of the loop's turn
        elapsed = time.perf_counter() - start
        if transport.writes - answered != reads:  # one write per read: every request was answered
            raise SystemExit(f"expected {reads} writes, saw {transport.writes - answered}")
        print(f"batch {batch:>3}: {elapsed / (reads * batch) * 1e6:.2f} us per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,16", help="requests per read, comma-separated")
    parser.add_argument("--requests", type=int, default=600_000)
    parser.add_argument("--protocol", choices=("asgicy", "ceiling"), default="asgicy")
    parser.add_argument("--metrics", action="store_true", help="count each response for the metrics")
    args = parser.parse_args()
    import uvloop

    uvloop.run(measure([int(b) for b in args.batches.split(",")], args.requests, args.protocol, args.metrics))


if __name__ == "__main__":
    main()
