"""Real frameworks on asgicy: what their users meet, on every Python the suite runs on.

Starlette and FastAPI are what most ASGI apps are written in; their own ways of handling a client that
leaves (spec 2.4's ClientDisconnected becomes Starlette's ClientDisconnect) must not read as server errors.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from .wire import Wire

starlette = pytest.importorskip("starlette", reason="starlette is in the test extras")
fastapi = pytest.importorskip("fastapi", reason="fastapi is in the test extras")

from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

ERROR_LINE = "Exception in ASGI application"


@pytest.fixture
def debug_log(caplog):
    caplog.set_level(logging.DEBUG, logger="asgicy.error")
    return caplog


async def _records_about(caplog, text: str, timeout: float = 5.0) -> list:
    """The log records whose message holds ``text``, once there is one (or after ``timeout``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = [r for r in caplog.records if text in r.getMessage()]
        if found:
            await asyncio.sleep(0.1)  # a second line would come now, if there were one
            return [r for r in caplog.records if text in r.getMessage()]
        await asyncio.sleep(0.02)
    return []


async def _send_and_leave(running, request: bytes) -> None:
    """A client that sends ``request`` and goes away a moment later, without reading."""
    wire = await Wire.open(running)
    await wire.send(request)
    await asyncio.sleep(0.1)
    await wire.close()


def _streaming_app() -> Starlette:
    async def ticks():
        for n in range(10_000):
            yield f"tick {n}\n".encode()
            await asyncio.sleep(0.005)

    async def stream(request):
        return StreamingResponse(ticks(), media_type="text/plain")

    async def upload(request: Request):
        body = await request.body()  # Starlette raises its ClientDisconnect if http.disconnect comes first
        return PlainTextResponse(str(len(body)))

    return Starlette(routes=[Route("/stream", stream), Route("/upload", upload, methods=["POST"])])


class TestStarletteClientLeaves:
    async def test_leaving_a_stream_logs_one_debug_line_and_no_error(self, serve, debug_log):
        async with serve(_streaming_app()) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            head = await wire.response(head=True)
            assert head.status == 200
            await wire.reader.readuntil(b"tick 3")
            port = wire.writer.get_extra_info("sockname")[1]
            await wire.close()
            records = await _records_about(debug_log, "after 127.0.0.1:%d disconnected" % port)
        assert [r.levelno for r in records] == [logging.DEBUG]
        assert "ClientDisconnect" in records[0].getMessage() and records[0].exc_info is not None
        assert not [r for r in debug_log.records if r.levelno >= logging.ERROR]
        assert ERROR_LINE not in debug_log.text

    async def test_leaving_mid_upload_logs_no_error(self, serve, debug_log):
        async with serve(_streaming_app()) as running:
            await _send_and_leave(running, b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npart")
            records = await _records_about(debug_log, "disconnected (/upload)")
        assert [r.levelno for r in records] == [logging.DEBUG]
        assert not [r for r in debug_log.records if r.levelno >= logging.ERROR]


class TestWhatStaysAnError:  # an exception the disconnect did not cause
    async def test_a_bug_while_the_client_happens_to_leave(self, serve, debug_log):
        left = asyncio.Event()

        async def app(scope, receive, send):
            await receive()
            await left.wait()  # the client is gone now, but nothing has told the app so
            raise ValueError("a bug of the app's own")

        async with serve(app) as running:
            await _send_and_leave(running, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            await asyncio.sleep(0.1)
            left.set()
            records = await _records_about(debug_log, ERROR_LINE)
        assert [r.levelno for r in records] == [logging.ERROR]
        assert isinstance(records[0].exc_info[1], ValueError)

    async def test_an_exception_after_being_told_is_the_apps_reaction(self, serve, debug_log):
        async def app(scope, receive, send):
            await receive()
            message = await receive()
            assert message == {"type": "http.disconnect"}
            raise RuntimeError("the client went away")  # a framework's own way of saying it

        async with serve(app) as running:
            await _send_and_leave(running, b"GET /told HTTP/1.1\r\nHost: t\r\n\r\n")
            records = await _records_about(debug_log, "disconnected (/told)")
        assert [r.levelno for r in records] == [logging.DEBUG]
        assert "RuntimeError" in records[0].getMessage()
        assert ERROR_LINE not in debug_log.text

    async def test_websocket_reaction_to_a_close_is_not_an_error(self, serve, debug_log):
        import websockets

        async def app(scope, receive, send):
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept"})
            while (await receive())["type"] != "websocket.disconnect":
                pass
            raise ConnectionResetError("peer gone")  # e.g. a framework's WebSocketDisconnect

        async with serve(app) as running:
            async with websockets.connect(running.url.replace("http", "ws") + "/ws") as ws:
                await ws.send("hi")
            records = await _records_about(debug_log, "disconnected (/ws)")
        assert [r.levelno for r in records] == [logging.DEBUG]
        assert ERROR_LINE not in debug_log.text


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def _fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read(item_id: int, q: str | None = None) -> dict:
        return {"item_id": item_id, "q": q}

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    return app


class TestFastAPI:
    async def test_path_query_and_a_validated_body(self, serve):
        async with serve(_fastapi_app()) as running, httpx.AsyncClient(base_url=running.url) as client:
            got = await client.get("/items/7", params={"q": "x"})
            made = await client.post("/items", json={"name": "pen", "price": 1.5, "tags": ["a"]})
            bad = await client.post("/items", json={"name": "pen"})
            missing = await client.get("/nowhere")
        assert (got.status_code, got.json()) == (200, {"item_id": 7, "q": "x"})
        assert (made.status_code, made.json()) == (201, {"name": "pen", "price": 1.5, "tags": ["a"]})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "price"]
        assert missing.status_code == 404
