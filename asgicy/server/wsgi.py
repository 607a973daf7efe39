"""Running a WSGI app (PEP 3333) as an ASGI app: each request in a thread of a real pool.

``WSGIApp(wsgi_app, threads)`` is an ASGI 3 app. The WSGI app runs in a worker thread and talks to its
request through the ASGI ``receive``/``send`` of the one HTTP cycle, run on the event loop with
``run_coroutine_threadsafe``, so flow control, framing, keep-alive and every limit are the server's own.
What asgiref's ``WsgiToAsgi`` gets wrong (see ASGI-SPEC-NOTES) done right here:

- a pool of ``--wsgi-threads`` threads, not one shared thread;
- ``wsgi.input`` streams the body as the app reads it (bounded by the server's flow control), never
  buffering it whole first;
- the ``write()`` callable that ``start_response`` returns works, and the response head is sent only with
  the first non-empty piece of body (PEP 3333 "Buffering and Streaming"), so an error before it can still
  become a 500;
- the iterable's ``close()`` is always called, whether the response finished, the app raised, or the
  client went away;
- several Cookie fields are joined with "; " (RFC 6265 5.4), others with ", " (RFC 9110 5.3);
- SERVER_PORT and REMOTE_PORT are set; header names with '_' are dropped, since as ``HTTP_*`` keys they
  would be indistinguishable from the same names with '-' (the spoofing nginx and gunicorn also refuse).
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_to_bytes

from ..asgi.compat import asgi2_to_asgi3, is_asgi2, is_wsgi
from ..asgi.errors import ClientDisconnected

logger = logging.getLogger("asgicy.error")

_STATUS_CHARS = frozenset(b"0123456789")


class WSGIError(RuntimeError):
    """The WSGI app broke PEP 3333 (start_response misuse, a non-bytes body piece); the message says how."""


class WSGIApp:
    """An ASGI 3 app running ``wsgi_app`` in a pool of ``threads`` threads."""

    _asgi_single_callable = True

    def __init__(self, wsgi_app, threads: int = 10, multiprocess: bool = False) -> None:
        self.wsgi_app = wsgi_app
        self.threads = threads
        self.multiprocess = multiprocess
        self.executor: ThreadPoolExecutor | None = None

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.executor is None:
                self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="asgicy-wsgi")
            loop = asyncio.get_running_loop()
            exchange = WSGIExchange(self, loop, scope, receive, send)
            await loop.run_in_executor(self.executor, exchange.run)
        elif kind == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1000})  # a WSGI app has no WebSockets: 403
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    if self.executor is not None:
                        # Let threads still running finish; the server waited for their requests already.
                        await asyncio.get_running_loop().run_in_executor(None, self.executor.shutdown)
                        self.executor = None
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        else:
            raise ValueError(f"the WSGI adapter does not know the scope type {kind!r}")


class InputStream(io.RawIOBase):
    """The raw stream under ``wsgi.input``: the request body, taken from ASGI ``http.request`` events only
    as the app asks for it."""

    def __init__(self, exchange: WSGIExchange) -> None:
        self.exchange = exchange
        self.buffer = bytearray()
        self.more = True

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """One more piece of body into the buffer; False at its end."""
        if not self.more:
            return False
        message = self.exchange.call(self.exchange.receive())
        if message["type"] == "http.disconnect":
            self.more = False
            raise ClientDisconnected("the client disconnected before its request body ended")
        self.buffer += message.get("body", b"")
        self.more = message.get("more_body", False)
        return True

    def readinto(self, target) -> int:
        # A raw stream returns what it has (at least a byte, unless the body has ended); the BufferedReader
        # around it in wsgi.input makes read(n) wait for n bytes and gives readline().
        while not self.buffer and self._fill():
            pass
        size = min(len(target), len(self.buffer))
        target[:size] = self.buffer[:size]
        del self.buffer[:size]
        return size


class WSGIExchange:
    """One request's run of the WSGI app, in a worker thread."""

    def __init__(self, adapter: WSGIApp, loop, scope, receive, send) -> None:
        self.adapter = adapter
        self.loop = loop
        self.scope = scope
        self.receive = receive
        self.send = send
        self.status = None
        self.headers = None
        self.head_sent = False

    def call(self, coroutine):
        """Runs a coroutine (receive or send) on the event loop and waits for it here, in the thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def environ(self) -> dict:
        scope = self.scope
        # The ASGI spec: SCRIPT_NAME is root_path, PATH_INFO is path without it, both as PEP 3333's "bytes
        # in a str" (latin-1). The path's bytes come from raw_path when it agrees with path (asgicy's scope
        # always does, unless a middleware rewrote the path), so bytes that are not UTF-8 survive.
        root_path = scope["root_path"]
        path = scope["path"]
        if root_path and path.startswith(root_path):
            path = path[len(root_path):]
        raw_path = scope.get("raw_path")
        path_bytes = unquote_to_bytes(raw_path) if raw_path else b""
        if not raw_path or path_bytes.decode("utf-8", "replace") != path:
            path_bytes = path.encode("utf-8")
        path = path_bytes.decode("latin-1")
        script_name = root_path.encode("utf-8").decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        environ = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": script_name,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "RAW_URI": scope["raw_path"].decode("latin-1") + ("?" + query if query else ""),
            "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope["scheme"],
            "wsgi.input": io.BufferedReader(InputStream(self)),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": self.adapter.multiprocess,
            "wsgi.run_once": False,
            # wsgi.input ends where the body ends, chunked or not (the convention of gunicorn and werkzeug:
            # without it a chunked upload, which has no CONTENT_LENGTH, looks empty to the app).
            "wsgi.input_terminated": True,
            "asgi.scope": scope,
        }
        environ["REQUEST_URI"] = environ["RAW_URI"]
        fields: dict = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").upper()
            if "_" in key:
                continue  # see the module docstring
            text = value.decode("latin-1")
            if key == "CONTENT-TYPE":
                environ["CONTENT_TYPE"] = text
            elif key == "CONTENT-LENGTH":
                environ["CONTENT_LENGTH"] = text
            else:
                key = "HTTP_" + key.replace("-", "_")
                if key in fields:
                    fields[key] += ("; " if key == "HTTP_COOKIE" else ", ") + text
                else:
                    fields[key] = text
        environ.update(fields)
        server, client = scope.get("server"), scope.get("client")
        if server and server[1] is not None:
            environ["SERVER_NAME"], environ["SERVER_PORT"] = server[0], str(server[1])
        else:  # a unix socket: the name the client asked for
            host = fields.get("HTTP_HOST", "localhost")
            name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
            environ["SERVER_NAME"] = name or host
            environ["SERVER_PORT"] = port or ("443" if scope["scheme"] == "https" else "80")
        if client:
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
        return environ

    def start_response(self, status: str, headers: list, exc_info=None):
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])  # PEP 3333: too late to change the response
            finally:
                exc_info = None
        elif self.status is not None:
            raise WSGIError("start_response was called a second time without exc_info")
        if not isinstance(status, str) or len(status) < 4 or status[3] != " " or \
                not all(ord(c) in _STATUS_CHARS for c in status[:3]):
            raise WSGIError(f"start_response status must be a str like '200 OK', not {status!r}")
        encoded = []
        for pair in headers:
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise WSGIError(f"start_response headers must be (str, str) tuples, not {pair!r}")
            encoded.append((pair[0].lower().encode("latin-1"), pair[1].encode("latin-1")))
        self.status = int(status[:3])
        self.headers = encoded
        return self.write

    def _send_head(self) -> None:
        if self.status is None:
            raise WSGIError("the app sent body before calling start_response")
        self.head_sent = True
        self.call(self.send({"type": "http.response.start", "status": self.status, "headers": self.headers}))

    def write(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray)):
            raise WSGIError(f"WSGI body pieces must be bytes, not {type(data).__name__}")
        if not data:
            return
        if not self.head_sent:
            self._send_head()
        self.call(self.send({"type": "http.response.body", "body": bytes(data), "more_body": True}))

    def run(self) -> None:
        result = self.adapter.wsgi_app(self.environ(), self.start_response)
        try:
            if isinstance(result, (list, tuple)) and len(result) == 1 and not self.head_sent:
                # The common case (Flask, Django): one piece, sent with the head in one go.
                piece = result[0]
                if not isinstance(piece, (bytes, bytearray)):
                    raise WSGIError(f"WSGI body pieces must be bytes, not {type(piece).__name__}")
                self._send_head()
                self.call(self.send({"type": "http.response.body", "body": bytes(piece)}))
                return
            for piece in result:
                self.write(piece)
            if not self.head_sent:
                self._send_head()
            self.call(self.send({"type": "http.response.body", "body": b""}))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # PEP 3333: always, even when the client went away or the app raised


def as_asgi3(app, interface: str = "auto", wsgi_threads: int = 10, multiprocess: bool = False):
    """The app as a single callable, according to ``--interface``."""
    if interface == "wsgi" or (interface == "auto" and is_wsgi(app)):
        return WSGIApp(app, wsgi_threads, multiprocess)
    if interface == "asgi2" or (interface == "auto" and is_asgi2(app)):
        return asgi2_to_asgi3(app)
    return app
