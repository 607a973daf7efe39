"""Lesson 1: one HTTP request, as bytes on the wire and as ASGI events.

Run it: ``python tutorial/01_first_request.py``. It starts a real asgicy server on 127.0.0.1 (a free
port), sends one request over a plain socket, and prints what crossed the wire and what the app saw.
"""

import socket

from asgicy.recorder import EventRecorder
from asgicy.testing import serve_in_thread


async def app(scope, receive, send):
    """The smallest complete ASGI app: read the request, answer with a greeting."""
    if scope["type"] != "http":
        return
    request = await receive()  # {"type": "http.request", "body": ..., "more_body": False}
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})  # a list of [name, value] pairs
    await send({"type": "http.response.body", "body": b"Hello, " + (request["body"] or b"world") + b"!"})


recorder = EventRecorder(app)
with serve_in_thread(recorder, lifespan="off", date_header=False) as server:
    request = (b"POST /greet?lang=en HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n"
               b"Connection: close\r\n\r\nASGI")
    with socket.create_connection((server.host, server.port)) as sock:
        sock.sendall(request)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk

print("--- the request, on the wire")
print(request.decode())
print("\n--- the ASGI conversation")
for entry in recorder.conversations[0]:
    kind, event = entry[0], entry[1]
    if kind == "scope":
        shown = {k: event[k] for k in ("type", "http_version", "method", "path", "raw_path", "query_string",
                                       "headers")}
        print(f"scope   {shown}")
    else:
        print(f"{kind:<7} {event}")
print("\n--- the response, on the wire")
print(response.decode())
