"""The ASGI app every server in the comparison serves, one route per workload.

    /plaintext  13 bytes of text            /json    a small JSON object
    /awaiting   /plaintext after one ``await asyncio.sleep(0)``: an app that awaits something first, as
                real apps do (a database, a cache), which no server can answer in the read that brought it
    /echo       the request body back (POST) /stream  a chunked response: 16 pieces of 4 KiB
    /file       a 1 MiB file: through http.response.pathsend where the server offers it (asgicy, granian),
                otherwise read and sent as one body event, as an app on uvicorn has to
    /ws         a WebSocket echo             /ws-awaiting  the same, one ``await asyncio.sleep(0)`` per message
    /ws-broadcast  a WebSocket room: each message goes to every connection in it (the sender too)
    /starlette/..., /fastapi/...   the framework apps of ``frameworks.py``
    /db, /queries, /fortunes       TechEmpower's database tests, ``techempower.py`` (PostgreSQL, asyncpg)
    (any other path is 404)
"""

import asyncio
import json
import os
from pathlib import Path

PLAINTEXT = b"Hello, world!"
STREAM_PIECE = b"x" * 4096
TEXT_HEADERS = [(b"content-type", b"text/plain")]
# Every fixed response says its length, so no server has to choose its framing (and loadgen can count).
PLAINTEXT_HEADERS = TEXT_HEADERS + [(b"content-length", b"13")]
FILE = Path(__file__).resolve().parent / ".build" / "file-1m.bin"
FILE_SIZE = 1024 * 1024
FILE_HEADERS = [(b"content-type", b"application/octet-stream"), (b"content-length", str(FILE_SIZE).encode())]
if not FILE.exists() or FILE.stat().st_size != FILE_SIZE:
    FILE.parent.mkdir(exist_ok=True)
    FILE.write_bytes(os.urandom(FILE_SIZE))



# Every open /ws-broadcast connection's send.
ROOM: set = set()
DB_PATHS = {"/db", "/queries", "/fortunes"}
_delegates: dict = {}


def delegate(name: str):
    """The app that serves a framework or database path, imported at its first request."""
    if name not in _delegates:
        if name == "db":
            import techempower
            _delegates[name] = techempower.app
        else:
            import frameworks
            _delegates["starlette"] = frameworks.starlette_app
            _delegates["fastapi"] = frameworks.fastapi_app
    return _delegates[name]


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        path = scope["path"]
        if path == "/plaintext":
            await send({"type": "http.response.start", "status": 200, "headers": PLAINTEXT_HEADERS})
            await send({"type": "http.response.body", "body": PLAINTEXT})
        elif path == "/awaiting":
            await asyncio.sleep(0)
            await send({"type": "http.response.start", "status": 200, "headers": PLAINTEXT_HEADERS})
            await send({"type": "http.response.body", "body": PLAINTEXT})
        elif path == "/json":
            body = json.dumps({"message": "Hello, world!"}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif path == "/echo":
            chunks = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            headers = TEXT_HEADERS + [(b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif path == "/file":
            await send({"type": "http.response.start", "status": 200, "headers": FILE_HEADERS})
            if "http.response.pathsend" in (scope.get("extensions") or {}):
                await send({"type": "http.response.pathsend", "path": str(FILE)})
            else:
                await send({"type": "http.response.body", "body": FILE.read_bytes()})
        elif path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": TEXT_HEADERS})
            for _ in range(16):
                await send({"type": "http.response.body", "body": STREAM_PIECE, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif path in DB_PATHS:
            await delegate("db")(scope, receive, send)
        elif path.startswith("/starlette/"):
            await delegate("starlette")(scope, receive, send)
        elif path.startswith("/fastapi/"):
            await delegate("fastapi")(scope, receive, send)
        else:
            await send({"type": "http.response.start", "status": 404, "headers": TEXT_HEADERS})
            await send({"type": "http.response.body", "body": b"not found"})
    elif kind == "websocket" and scope["path"] == "/ws-broadcast":
        await receive()
        await send({"type": "websocket.accept"})
        ROOM.add(send)
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                out = {"type": "websocket.send", "bytes": message.get("bytes"), "text": message.get("text")}
                for peer in list(ROOM):
                    try:
                        await peer(out)
                    except Exception:  # a peer that left meanwhile (its own loop removes it)
                        ROOM.discard(peer)
        finally:
            ROOM.discard(send)
    elif kind == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        awaiting = scope["path"] == "/ws-awaiting"
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if awaiting:
                await asyncio.sleep(0)
            await send({"type": "websocket.send", "bytes": message.get("bytes"), "text": message.get("text")})
    elif kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
