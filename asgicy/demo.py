"""The built-in demo app, served by ``python -m asgicy`` when no app is named.

It answers every request with a page that shows the visitor the ASGI conversation of their own request:
the scope the server built, each event the app received, and the events it sends back.
"""

from __future__ import annotations

import html

from .recorder import format_event

# What `python -m asgicy` serves when no app is named (the CLI and each worker process import it by this).
DEMO_APP = "asgicy.demo:demo_app"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>asgicy: your request, as ASGI events</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
pre{{background:#f4f4f4;padding:1rem;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;
font-size:0.85rem}}h2{{margin-top:2rem}}code{{font-size:0.95em}}</style></head>
<body><h1>Your request, as ASGI events</h1>
<p>asgicy is serving its built-in demo app. Run <code>python -m asgicy module:app</code> to serve your own.
This is what the server and this app said to each other to answer you, written as Python values, as the
app sees them: bytes are <code>b'...'</code>, text is <code>'...'</code>.</p>
<h2>1. The scope: <code>app(scope, receive, send)</code></h2><pre>{scope}</pre>
<h2>2. What <code>await receive()</code> returned</h2><pre>{received}</pre>
<h2>3. What the app passes to <code>await send(...)</code></h2><pre>{sent}</pre>
<h2>Learn ASGI event by event</h2>
<p>The asgicy tutorial takes these events one at a time, against a real server: bodies, streaming,
disconnects, WebSockets, lifespan, concurrency inside a connection, TLS. It is in the
<code>tutorial/</code> folder of the asgicy repository; build the site with
<code>python -m pip install -e '.[docs]' &amp;&amp; python -m sphinx -W -n -b html docs docs/_build/html</code>
and open <code>docs/_build/html/tutorial/index.html</code>.</p>
</body></html>
"""
# Bodies longer than this are cut in the page (the page is about the events, not the upload).
SHOWN_BODY = 256


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
        if len(shown.get("body", b"")) > SHOWN_BODY:
            shown["body"] = shown["body"][:SHOWN_BODY] + b"..."
        received.append(shown)
        if not message.get("more_body"):
            break
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"text/html; charset=utf-8")]}
    body_event = {"type": "http.response.body", "body": b"(this page)", "more_body": False}
    scope_shown = {key: value for key, value in scope.items() if key != "state"}

    def show(kind: str, events: list) -> str:
        return html.escape("\n".join(format_event(kind, event) for event in events))

    page = PAGE.format(scope=show("scope", [scope_shown]), received=show("receive", received),
                       sent=show("send", [start, body_event]))
    await send(start)
    await send({"type": "http.response.body", "body": page.encode("utf-8")})
