"""Apps the production tests serve in real processes (workers import them by name)."""

import asyncio
import os
import time

startups = 0


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
