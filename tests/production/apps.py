"""Apps the production tests serve in real processes (workers import them by name)."""

import asyncio
import os
import time

startups = 0
held: list = []  # what /grow keeps alive (ops)


async def app(scope, receive, send):
    """Answers '<pid> <lifespan startups in this process>'; /slow?S waits S seconds, /hang blocks the loop."""
    global startups
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                startups += 1
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        client = scope["client"]
        await send({"type": "websocket.send", "text": f"{message.get('text')} {scope['scheme']} "
                                                      f"{client[0] if client else None}"})
        await send({"type": "websocket.close"})
        return
    path = scope["path"]
    if path == "/hang":
        time.sleep(600)  # a stuck event loop: the supervisor must notice
    if path == "/slow":
        await asyncio.sleep(float(scope["query_string"] or 1))
    if path == "/scope":
        client = scope["client"]
        body = f"{client[0] if client else None} {client[1] if client else None} {scope['scheme']}".encode()
        tls = scope["extensions"].get("tls")
        if tls is not None:
            body += f" tls={tls['tls_version']:#06x}".encode()
    else:
        body = f"{os.getpid()} {startups}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def failing_startup(scope, receive, send):
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no database"})


async def greeting(scope, receive, send):
    """Answers with $APP_GREETING: the env file reaches the app's environment."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": os.environ.get("APP_GREETING", "unset").encode()})


def wsgi_hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"wsgi {environ['SERVER_PROTOCOL']} {environ['wsgi.url_scheme']}".encode()]


async def ops(scope, receive, send):
    """For the operations tests. HTTP: /grow?MB holds MB more memory, /status?N answers N, /boom raises,
    /rid answers the request id (and sets x-request-id itself when asked: /rid?own), /slow?S waits S seconds;
    any other path answers the pid; a body is read and counted. WebSocket: echoes text until closed."""
    if scope["type"] == "lifespan":
        return await app(scope, receive, send)
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message["text"]})
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    path, query = scope["path"], scope["query_string"].decode()
    status, headers, body = 200, [(b"content-type", b"text/plain")], f"{os.getpid()} {size}"
    if path == "/grow":
        held.append(b"\x01" * (int(query) << 20))  # written, so resident
    elif path == "/status":
        status = int(query)
    elif path == "/boom":
        raise RuntimeError("the app failed on purpose")
    elif path == "/slow":
        await asyncio.sleep(float(query))
    elif path == "/rid":
        body = scope["state"]["request_id"]
        if query == "own":
            headers.append((b"x-request-id", b"set-by-the-app"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})
