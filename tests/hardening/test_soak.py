"""Soak: a sustained mixed load for ASGICY_TEST_SOAK_SECONDS (60 by default), the server's memory sampled every
second; after warm-up it must not grow."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import pytest
import websockets

from .conftest import asgicy_args
from .memory import rss_kib

HERE = Path(__file__).parent
SECONDS = float(os.environ.get("ASGICY_TEST_SOAK_SECONDS", "60"))
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
ECHO = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" + b"e" * 65536


async def read_response(reader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return await reader.readexactly(length)


async def load(host: str, port: int, url: str, until: float, counts: dict) -> None:
    async def pipelined():  # keep-alive, 8 requests in flight
        reader, writer = await asyncio.open_connection(host, port)
        while time.monotonic() < until:
            writer.write(GET * 8)
            for _ in range(8):
                assert await read_response(reader) == b"hello"
            counts["pipelined"] += 8
        writer.close()

    async def echo():  # 64 KiB bodies both ways
        reader, writer = await asyncio.open_connection(host, port)
        while time.monotonic() < until:
            writer.write(ECHO)
            assert len(await read_response(reader)) == 65536
            counts["echo"] += 1
        writer.close()

    async def new_connections():
        while time.monotonic() < until:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert await read_response(reader) == b"hello"
            writer.close()
            counts["connections"] += 1

    async def websocket():
        while time.monotonic() < until:
            async with websockets.connect(url.replace("http", "ws")) as ws:
                for i in range(200):
                    await ws.send(f"message {i}")
                    assert await ws.recv() == f"message {i}"
                    counts["ws messages"] += 1

    tasks = [pipelined() for _ in range(4)] + [echo() for _ in range(2)] + [new_connections() for _ in range(2)] \
        + [websocket() for _ in range(2)]
    await asyncio.gather(*tasks)


@pytest.mark.timeout(SECONDS + 120)
def test_memory_does_not_grow_under_sustained_load(launch):
    server = launch(asgicy_args("apps:app", "--no-access-log"), cwd=HERE)
    url = server.wait_serving()
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    counts = {"pipelined": 0, "echo": 0, "connections": 0, "ws messages": 0}
    samples = []
    started = time.monotonic()
    until = started + SECONDS

    async def run():
        async def sample():
            while time.monotonic() < until:
                samples.append((time.monotonic() - started, rss_kib(server.proc.pid)))
                await asyncio.sleep(1)
        await asyncio.gather(load(host, int(port), url, until, counts), sample())
    asyncio.run(run())
    # Warm-up (allocator pools, caches) is the first quarter; compare the second quarter with the last.
    n = len(samples)
    early = statistics.median(rss for _, rss in samples[n // 4: n // 2])
    late = statistics.median(rss for _, rss in samples[3 * n // 4:])
    total = sum(counts.values())
    print(f"soak {SECONDS:.0f} s: {counts}; RSS {samples[0][1]} KiB at start, median {early:.0f} KiB in the "
          f"second quarter, {late:.0f} KiB in the last")
    assert total > 1000 and server.proc.poll() is None
    print("samples", [rss for _, rss in samples])
    # KiB: no growth beyond the allocator's. The resident size climbs for the first minute or so and then
    # stays flat: a 120 s run went from 30 MB to 50.7 MB by 70 s, then moved by less than 1 MB while it
    # served 4 million more requests, so the 60 s default still sees the end of that climb (2-4 MB
    # between the quarters). A leak is far larger: in the 30 s between the quarters the server answers
    # about 2 million requests and 50,000 connections, so a few bytes per request or one object per
    # connection would add tens of MB.
    assert late - early < 8192, samples
    assert server.stop() == 0
