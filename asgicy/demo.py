"""The built-in demo app, served by ``python -m asgicy`` when no app is named.

It answers every request with a page that shows the visitor the ASGI conversation of their own request:
the scope the server built, each event the app received, and the events it sends back.
"""

from __future__ import annotations

import html
import json


def _plain(value):
    """Scope values as JSON-able data: bytes shown as Python bytes literals."""
    if isinstance(value, bytes):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>asgicy: your request, as ASGI events</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
pre{{background:#f4f4f4;padding:1rem;overflow-x:auto;border-radius:4px}}h2{{margin-top:2rem}}</style></head>
<body><h1>Your request, as ASGI events</h1>
<p>asgicy is serving its built-in demo app. Run <code>python -m asgicy module:app</code> to serve your own.
This is what the server and this app said to each other to answer you.</p>
<h2>1. The scope: <code>app(scope, receive, send)</code></h2><pre>{scope}</pre>
<h2>2. What <code>await receive()</code> returned</h2><pre>{received}</pre>
<h2>3. What the app passes to <code>await send(...)</code></h2><pre>{sent}</pre>
</body></html>
"""


async def demo_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        raise ValueError(f"the demo app serves http, not {scope['type']!r}")
    received = []
    while True:
        message = await receive()
        shown = dict(message)
        if len(shown.get("body", b"")) > 256:
            shown["body"] = shown["body"][:256] + b"..."
        received.append(shown)
        if not message.get("more_body"):
            break
    start = {"type": "http.response.start", "status": 200,
             "headers": [[b"content-type", b"text/html; charset=utf-8"]]}
    body_event = {"type": "http.response.body", "body": b"(this page)", "more_body": False}

    def show(obj):
        return html.escape(json.dumps(_plain(obj), indent=2))

    page = PAGE.format(scope=show(scope), received=show(received), sent=show([start, body_event]))
    await send(start)
    await send({"type": "http.response.body", "body": page.encode("utf-8")})
