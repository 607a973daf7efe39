"""Checks an installed asgicy as a user gets it: the compiled extensions are the ones in use, and a request
is served. Run by cibuildwheel against every wheel it builds, and by tests/distribution/test_packaging.py
against a wheel installed in a fresh venv. Standard library only, run from outside the source tree."""

from __future__ import annotations

import importlib
import sys
import urllib.request
from importlib.machinery import EXTENSION_SUFFIXES

COMPILED = ["asgicy._cores", "asgicy.http._parser", "asgicy.ws._framer", "asgicy.h2._hpack", "asgicy.h2._core",
            "asgicy.asgi.events", "asgicy.asgi.sink", "asgicy.asgi.http", "asgicy.asgi.http1",
            "asgicy.server.connection", "asgicy.server.protocol", "asgicy.server.eager", "asgicy.server.h2",
            "asgicy.server._coroutines"]


async def app(scope, receive, send):
    if scope["type"] != "http":
        raise ValueError(f"this app serves http only, not {scope['type']!r}")
    await receive()
    body = f"{scope['method']} {scope['path']} over HTTP/{scope['http_version']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def main() -> int:
    import asgicy
    from asgicy.http import IMPLEMENTATION
    from asgicy.testing import serve_in_thread

    for name in COMPILED:
        module = importlib.import_module(name)
        if not module.__file__.endswith(tuple(EXTENSION_SUFFIXES)):
            print(f"FAIL: {name} runs from {module.__file__}, not a built extension")
            return 1
    if IMPLEMENTATION != "cython":
        print(f"FAIL: the HTTP parser in use is {IMPLEMENTATION!r}, not the compiled one")
        return 1
    with serve_in_thread(app, lifespan="off", access_log=False) as running:
        with urllib.request.urlopen(running.url + "/smoke?x=1", timeout=10) as response:
            text = response.read().decode()
    if text != "GET /smoke over HTTP/1.1":
        print(f"FAIL: unexpected response {text!r}")
        return 1
    print(f"ok: asgicy {asgicy.__version__} from {asgicy.__file__}, parser {IMPLEMENTATION}, served {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
