"""Apps the hardening tests serve in real processes."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))  # served from here

from tests.conformance.echo_app import app as ws_echo  # noqa: E402

BIG = b"x" * (1024 * 1024)


async def app(scope, receive, send):
    """/ hello; /big 1 MiB; /echo the request body; /slow?S waits S seconds; WebSocket: echo."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "websocket":
        return await ws_echo(scope, receive, send)
    path = scope["path"]
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if path == "/slow":
        await asyncio.sleep(float(scope["query_string"] or 1))
    answer = BIG if path == "/big" else body if path == "/echo" else b"hello"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})
