"""Server-level behaviour: lifespan, ASGI2 apps, limits, timeouts and graceful shutdown."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from asgicy.server.server import StartupError

from .apps import hello
from .wire import Wire

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def lifespan_app(log, *, fail_startup=None, state_value="db"):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                log.append(message["type"])
                if message["type"] == "lifespan.startup":
                    if fail_startup:
                        await send({"type": "lifespan.startup.failed", "message": fail_startup})
                        return
                    scope["state"]["resource"] = state_value
                    scope["state"]["counter"] = []
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        keys = sorted(scope["state"])  # before this request adds its own key
        scope["state"]["counter"].append(1)
        scope["state"]["mine"] = "request-local"
        body = f"{scope['state']['resource']} {len(scope['state']['counter'])} {keys}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body.encode()})
    return app


class TestLifespan:  # asgiref specs/lifespan.rst
    async def test_startup_state_and_shutdown(self, serve):
        log = []
        async with serve(lifespan_app(log), lifespan="on") as running, httpx.AsyncClient() as client:
            assert log == ["lifespan.startup"]
            first = (await client.get(running.url)).text
            second = (await client.get(running.url)).text
        assert log == ["lifespan.startup", "lifespan.shutdown"]
        # The state is copied shallowly: keys a request adds stay in its own scope; shared objects are shared.
        assert first == "db 1 ['counter', 'resource']" and second == "db 2 ['counter', 'resource']"

    async def test_startup_failed_stops_the_server(self, serve, error_log):
        with pytest.raises(StartupError, match="no database"):
            async with serve(lifespan_app([], fail_startup="no database"), lifespan="auto"):
                pass
        assert "no database" in error_log.text

    async def test_unsupported_lifespan_in_auto_mode_serves_on(self, serve, error_log):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                raise ValueError(f"unsupported scope {scope['type']}")
            await hello(scope, receive, send)

        async with serve(app, lifespan="auto") as running, httpx.AsyncClient() as client:
            assert (await client.get(running.url)).status_code == 200
        assert "lifespan' protocol appears unsupported" in error_log.text

    async def test_unsupported_lifespan_in_on_mode_fails(self, serve):
        async def app(scope, receive, send):
            raise ValueError("no lifespan here")

        with pytest.raises(StartupError, match="no lifespan here"):
            async with serve(app, lifespan="on"):
                pass

    async def test_invalid_lifespan_event_is_refused(self, serve):
        errors = []

        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                await receive()
                try:
                    await send({"type": "lifespan.shutdown.complete"})
                except TypeError as exc:
                    errors.append(str(exc))
                await send({"type": "lifespan.startup.complete"})
                await receive()
                await send({"type": "lifespan.shutdown.complete"})
                return
            await hello(scope, receive, send)

        async with serve(app, lifespan="on") as running, httpx.AsyncClient() as client:
            assert (await client.get(running.url)).status_code == 200
        assert "expected one of lifespan.startup.complete, lifespan.startup.failed" in errors[0]


class TestInterfaces:
    async def test_asgi2_double_callable(self, serve):
        class App:
            def __init__(self, scope):
                self.scope = scope

            async def __call__(self, receive, send):
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"asgi2 " + self.scope["path"].encode()})

        async with serve(App) as running, httpx.AsyncClient() as client:
            assert (await client.get(running.url + "/x")).text == "asgi2 /x"

    async def test_asgi3_callable_object(self, serve):
        class App:
            async def __call__(self, scope, receive, send):
                await hello(scope, receive, send)

        async with serve(App()) as running, httpx.AsyncClient() as client:
            assert (await client.get(running.url)).text == "Hello, world!"


class TestLimits:
    async def test_limit_concurrency_answers_503(self, serve):
        gate = asyncio.Event()

        async def app(scope, receive, send):
            await gate.wait()
            await hello(scope, receive, send)

        async with serve(app, limit_concurrency=1) as running, httpx.AsyncClient() as client:
            first = asyncio.ensure_future(client.get(running.url))
            await asyncio.sleep(0.1)
            second = await client.get(running.url)
            gate.set()
            assert (await first).status_code == 200
        assert second.status_code == 503


class TestTimeouts:
    async def test_idle_keep_alive_connection_is_closed(self, serve):
        async with serve(hello, timeout_keep_alive=0.3) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            await wire.response()
            assert await wire.closed(timeout=3)

    async def test_slow_head_gets_408(self, serve):
        loop = asyncio.get_running_loop()
        async with serve(hello, timeout_header_read=0.5) as running:
            sock = socket.create_connection((running.host, running.port))
            sock.setblocking(False)
            try:
                for byte in b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100:
                    # slowloris: a byte now and then must not reset the clock
                    await loop.sock_sendall(sock, bytes([byte]))
                    await asyncio.sleep(0.05)
            except ConnectionError:
                pass  # the server cut us off, as it should
            received = b""
            while chunk := await asyncio.wait_for(loop.sock_recv(sock, 4096), 3):
                received += chunk
            sock.close()
        assert received.startswith(b"HTTP/1.1 408 Request Timeout\r\n")

    async def test_silent_connection_is_closed_without_a_response(self, serve):
        async with serve(hello, timeout_header_read=0.3) as running:
            wire = await Wire.open(running)
            assert await wire.closed(timeout=3)

    async def test_head_timeout_does_not_cut_a_slow_app(self, serve):
        async def app(scope, receive, send):
            await asyncio.sleep(1.2)
            await hello(scope, receive, send)

        async with serve(app, timeout_header_read=0.3) as running, httpx.AsyncClient() as client:
            assert (await client.get(running.url)).status_code == 200


class TestGracefulShutdown:
    async def test_in_flight_request_finishes_and_idle_connections_close(self, serve):
        started = asyncio.Event()

        async def app(scope, receive, send):
            started.set()
            await asyncio.sleep(0.5)
            await hello(scope, receive, send)

        async with serve(app, timeout_keep_alive=1) as running:
            idle = await Wire.open(running)
            busy = await Wire.open(running)
            await busy.send(GET)
            await started.wait()
            running.server.request_exit()
            response = await busy.response()
            assert response.status == 200 and response.header(b"connection") == b"close"
            assert await busy.closed()
            # The idle connection is closed when its keep-alive timeout expires, not cut at once.
            assert await idle.closed(timeout=3)
            with pytest.raises(OSError):
                await asyncio.open_connection(running.host, running.port)

    async def test_a_request_on_an_idle_connection_during_shutdown_is_served(self, serve):
        async with serve(hello, timeout_keep_alive=2) as running:
            idle = await Wire.open(running)
            await idle.send(GET)
            assert (await idle.response()).header(b"connection") is None  # kept alive
            slow = await Wire.open(running)
            await slow.send(b"GET / HTTP/1.1\r\nhost: x\r\n")  # a head still arriving
            running.server.request_exit()
            await asyncio.sleep(0.3)
            # RFC 9112 9.3.1: a request the client sent as the server began to stop is answered, not lost.
            await idle.send(GET)
            response = await idle.response()
            assert response.status == 200 and response.header(b"connection") == b"close"
            assert await idle.closed()
            await slow.send(b"\r\n")
            response = await slow.response()
            assert response.status == 200 and response.header(b"connection") == b"close"

    async def test_graceful_timeout_cancels_stuck_apps(self, serve, error_log):
        cancelled = asyncio.Event()

        async def app(scope, receive, send):
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        async with serve(app, timeout_graceful_shutdown=0.3) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            await asyncio.sleep(0.1)
        assert cancelled.is_set() and "Graceful shutdown timed out" in error_log.text
