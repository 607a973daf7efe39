"""Faults: clients that reset, apps that raise, hang or leak tasks, a full accept backlog. The server keeps
serving every other connection and logs each fault once."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time

import httpx
import pytest

from tests.integration.apps import hello


def reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0), as a crashed client or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture
def debug_log(caplog):
    caplog.set_level(logging.DEBUG, logger="asgicy.error")
    return caplog


def errors(caplog) -> list:
    return [r for r in caplog.records if r.name.startswith("asgicy") and r.levelno >= logging.WARNING]


async def test_resets_mid_request_and_mid_response(serve, debug_log):
    seen = []

    async def app(scope, receive, send):
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            try:
                while True:
                    await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
            except OSError as exc:  # ClientDisconnected (ASGI spec 2.4)
                seen.append(type(exc).__name__)
                raise  # and let it escape: the server knows it is its own and stays quiet
        while True:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                seen.append(message["type"])
                break
        await hello(scope, receive, send)

    async with serve(app) as running, httpx.AsyncClient() as client:
        loop = asyncio.get_running_loop()
        sock = socket.create_connection((running.host, running.port))
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        await asyncio.sleep(0.2)
        reset(sock)
        sock = socket.create_connection((running.host, running.port))
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        await loop.run_in_executor(None, sock.recv, 1000)
        reset(sock)
        await asyncio.sleep(0.3)
        assert (await client.get(running.url)).status_code == 200  # everyone else is served
    assert seen[:2] == ["http.disconnect", "ClientDisconnected"]
    lines = [r.getMessage() for r in debug_log.records if "went away" in r.getMessage()]
    assert len(lines) == 2 and "mid-request" in lines[0] and "mid-response" in lines[1]  # once each
    assert errors(debug_log) == []  # a client leaving is not a server error


async def test_apps_that_raise_are_logged_once_each_and_others_are_served(serve, error_log):
    async def app(scope, receive, send):
        if scope["path"].startswith("/fail"):
            raise RuntimeError(f"broken handler {scope['path']}")
        await hello(scope, receive, send)

    async with serve(app) as running, httpx.AsyncClient() as client:
        responses = await asyncio.gather(*(client.get(running.url + (f"/fail{i}" if i % 2 else "/ok"))
                                           for i in range(40)))
    assert [r.status_code for r in responses] == [500 if i % 2 else 200 for i in range(40)]
    failures = [r for r in error_log.records if r.exc_info and "broken handler" in str(r.exc_info[1])]
    assert sorted(str(r.exc_info[1]) for r in failures) == sorted(f"broken handler /fail{i}" for i in range(1, 40, 2))


async def test_a_hanging_app_does_not_hold_others_and_is_cancelled_at_shutdown(serve, error_log):
    cancelled = asyncio.Event()

    async def app(scope, receive, send):
        if scope["path"] == "/hang":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise
        await hello(scope, receive, send)

    started = None
    async with serve(app, timeout_graceful_shutdown=0.5) as running, httpx.AsyncClient(timeout=10) as client:
        hanging = asyncio.ensure_future(client.get(running.url + "/hang"))
        await asyncio.sleep(0.2)
        for _ in range(10):
            assert (await client.get(running.url)).status_code == 200
        started = time.monotonic()
    assert time.monotonic() - started < 3 and cancelled.is_set()
    assert sum("Graceful shutdown timed out" in r.getMessage() for r in error_log.records) == 1
    with pytest.raises(httpx.HTTPError):
        await hanging  # cut short: the client sees an error, never a complete-looking response


async def test_tasks_an_app_leaks_do_not_hold_the_server(serve):
    leaked = []

    async def app(scope, receive, send):
        leaked.append(asyncio.ensure_future(asyncio.sleep(3600)))  # never awaited, never cancelled by the app
        await hello(scope, receive, send)

    async with serve(app) as running, httpx.AsyncClient() as client:
        for _ in range(20):
            assert (await client.get(running.url)).status_code == 200
        started = time.monotonic()
    assert time.monotonic() - started < 2  # shutdown does not wait for the app's own tasks
    for task in leaked:
        task.cancel()


async def test_a_full_accept_backlog_does_not_stop_the_server(serve, error_log):
    async with serve(hello, backlog=1) as running, httpx.AsyncClient() as established:
        assert (await established.get(running.url)).status_code == 200

        async def exchange():
            reader, writer = await asyncio.open_connection(running.host, running.port)
            try:
                writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return await reader.read()
            finally:
                writer.close()

        async def one():
            return await asyncio.wait_for(exchange(), 5)  # a SYN the kernel dropped waits 1, 3, 7 s to retry

        # 300 connections at once against a backlog of 1: the kernel drops or resets what it cannot
        # queue (its business, and the clients'); the server accepts as fast as it can and goes on serving.
        burst = asyncio.ensure_future(asyncio.gather(*(one() for _ in range(300)), return_exceptions=True))
        latencies = [await timed_get(established, running.url) for _ in range(10)]
        answers = await asyncio.wait_for(burst, 30)
        await asyncio.sleep(0.5)
        after = [await one() for _ in range(20)]
    served = [a for a in answers if isinstance(a, bytes)]
    assert all(a.startswith(b"HTTP/1.1 200 OK") and a.endswith(b"Hello, world!") for a in served) and served
    print(f"{len(served)} of the 300 served within 5 s with a backlog of 1")
    assert all(isinstance(a, (bytes, ConnectionError, asyncio.TimeoutError)) for a in answers)
    assert max(latencies) < 1.0  # the established connection was served throughout
    assert all(a.endswith(b"Hello, world!") for a in after)  # and once the burst is over, everyone is
    assert [r for r in error_log.records if r.levelno >= logging.WARNING] == []


async def timed_get(client, url) -> float:
    started = time.monotonic()
    assert (await client.get(url)).status_code == 200
    return time.monotonic() - started
