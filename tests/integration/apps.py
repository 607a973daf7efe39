"""Small ASGI apps the integration tests serve."""

from __future__ import annotations

import json


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Hello, world!"})


def _jsonable(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


async def echo_scope(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    data = {k: _jsonable(v) for k, v in scope.items() if k != "state"}
    data["body"] = body.decode("latin-1")
    data["raw_path_type"] = type(scope["raw_path"]).__name__
    payload = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


async def echo_body(scope, receive, send):
    """Echoes the request body, streaming it back one received event at a time."""
    events = []
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while True:
        message = await receive()
        events.append(message)
        await send({"type": "http.response.body", "body": message["body"], "more_body": True})
        if not message.get("more_body"):
            break
    await send({"type": "http.response.body", "body": b"", "more_body": False})
