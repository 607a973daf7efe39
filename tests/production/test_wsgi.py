"""WSGI apps (PEP 3333) in asgicy's thread pool, with a real Flask app and with bare WSGI callables."""

from __future__ import annotations

import asyncio
import threading

import flask
import httpx
import pytest

from asgicy.asgi.compat import is_wsgi
from asgicy.server.wsgi import WSGIApp, as_asgi3
from tests.integration.wire import Wire


def make_flask_app():
    app = flask.Flask("asgicy_test")

    @app.get("/hello/<name>")
    def hello(name):
        return {"name": name, "q": flask.request.args.get("q"), "script_root": flask.request.script_root,
                "path": flask.request.path, "url": flask.request.url}

    @app.post("/upload")
    def upload():
        total = 0
        stream = flask.request.stream
        while chunk := stream.read(65536):
            total += len(chunk)
        return {"size": total}

    @app.post("/form")
    def form():
        upload = flask.request.files["doc"]
        return {"field": flask.request.form["field"], "doc": upload.read().decode(), "filename": upload.filename}

    @app.get("/stream")
    def stream():
        def generate():
            for i in range(3):
                yield f"part {i}\n"
        return flask.Response(generate(), mimetype="text/plain")

    @app.get("/environ")
    def environ():
        env = flask.request.environ
        keys = ("SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT", "HTTP_COOKIE", "SERVER_PROTOCOL",
                "wsgi.url_scheme", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "HTTP_X_TOKEN")
        return {key: env.get(key) for key in keys}

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    return app


@pytest.fixture
def flask_app():
    return make_flask_app()


def test_flask_is_detected_as_wsgi(flask_app):
    assert is_wsgi(flask_app) and isinstance(as_asgi3(flask_app), WSGIApp)


async def test_flask_routes_json_and_query(serve, flask_app):
    async with serve(flask_app) as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/hello/caf%C3%A9", params={"q": "x y"})
    assert response.status_code == 200 and response.json()["name"] == "café" and response.json()["q"] == "x y"
    assert response.headers["content-type"] == "application/json"


async def test_root_path_is_script_name(serve, flask_app):
    # As in uvicorn, --root-path is the prefix a proxy stripped: the request arrives as /hello/bob.
    async with serve(flask_app, root_path="/api") as running, httpx.AsyncClient() as client:
        data = (await client.get(running.url + "/hello/bob")).json()
    assert data["script_root"] == "/api" and data["path"] == "/hello/bob" and data["url"].endswith("/api/hello/bob")


async def test_path_info_keeps_bytes_that_are_not_utf8(serve):
    def app(environ, start_response):
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode("latin-1")]

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(b"GET /a%FFb/caf%C3%A9 HTTP/1.1\r\nhost: x\r\n\r\n")
        assert (await wire.response()).body == b"/a\xffb/caf\xc3\xa9"  # PEP 3333: the bytes, as latin-1
        await wire.close()


async def test_environ_ports_cookies_and_underscore_headers(serve, flask_app):
    async with serve(flask_app) as running:
        wire = await Wire.open(running)
        await wire.send(b"GET /environ?a=1 HTTP/1.1\r\nhost: example\r\ncookie: a=1\r\ncookie: b=2\r\n"
                        b"x-token: real\r\nx_token: spoofed\r\n\r\n")
        import json
        env = json.loads((await wire.response()).body)
        await wire.close()
    assert env["HTTP_COOKIE"] == "a=1; b=2"  # RFC 6265 5.4, not asgiref's ","
    assert env["HTTP_X_TOKEN"] == "real"  # x_token would have become the same key; it is dropped
    assert env["SERVER_NAME"] == "127.0.0.1" and env["SERVER_PORT"] == str(running.port)
    assert env["REMOTE_ADDR"] == "127.0.0.1" and int(env["REMOTE_PORT"]) > 0
    assert (env["SERVER_PROTOCOL"], env["wsgi.url_scheme"], env["SCRIPT_NAME"], env["PATH_INFO"],
            env["QUERY_STRING"]) == ("HTTP/1.1", "http", "", "/environ", "a=1")


async def test_large_upload_and_multipart_form(serve, flask_app):
    body = b"x" * (5 * 1024 * 1024 + 7)
    async with serve(flask_app) as running, httpx.AsyncClient(timeout=30) as client:
        assert (await client.post(running.url + "/upload", content=body)).json() == {"size": len(body)}

        async def chunks():
            for _ in range(10):
                yield b"y" * 100_000
        assert (await client.post(running.url + "/upload", content=chunks())).json() == {"size": 1_000_000}
        response = await client.post(running.url + "/form", data={"field": "v"},
                                     files={"doc": ("a.txt", b"line 1\nline 2\n")})
        assert response.json() == {"field": "v", "doc": "line 1\nline 2\n", "filename": "a.txt"}


async def test_streamed_response(serve, flask_app):
    async with serve(flask_app) as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/stream")
    assert response.text == "part 0\npart 1\npart 2\n" and response.headers["transfer-encoding"] == "chunked"


async def test_an_exception_is_a_500(serve, flask_app, error_log):
    async with serve(flask_app) as running, httpx.AsyncClient() as client:
        assert (await client.get(running.url + "/boom")).status_code == 500


async def test_the_body_is_streamed_to_the_app_not_buffered_first(serve):
    first_bytes = []

    def app(environ, start_response):
        first_bytes.append(environ["wsgi.input"].read(5))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"got " + first_bytes[0]]

    async with serve(app) as running:
        wire = await Wire.open(running)
        # Announce a 1 MiB body and send 5 bytes of it: a server that buffers the body would wait forever.
        await wire.send(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1048576\r\n\r\nhello")
        response = await wire.response(timeout=5)
    assert response.body == b"got hello"


async def test_write_callable_and_close_always_called(serve):
    closed = []

    class Body:
        def __init__(self, pieces):
            self.pieces = pieces

        def __iter__(self):
            return iter(self.pieces)

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return Body([b"and ", b"", b"iterated"])

    async with serve(app) as running, httpx.AsyncClient() as client:
        assert (await client.get(running.url)).text == "written and iterated"
    assert closed == [True]


async def test_close_is_called_when_the_client_goes_away(serve):
    closed = threading.Event()
    produced = []

    class Endless:
        def __iter__(self):
            while True:
                produced.append(1)
                yield b"x" * 65536

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [])
        return Endless()

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        await asyncio.sleep(0.3)
        await wire.close()
        assert await asyncio.get_running_loop().run_in_executor(None, closed.wait, 5)
    # Backpressure reached the thread: it did not keep producing into memory after the client stopped reading.
    assert len(produced) < 1000


async def test_close_is_called_when_the_app_raises_mid_iteration(serve, error_log):
    closed = []

    class Failing:
        def __iter__(self):
            yield b"first"
            raise ValueError("broken generator")

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Failing()

    async with serve(app) as running, httpx.AsyncClient() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(running.url)  # cut short: the client must not take it for the whole response
    assert closed == [True]


async def test_start_response_misuse_is_a_500(serve, error_log):
    def twice(environ, start_response):
        start_response("200 OK", [])
        start_response("200 OK", [])
        return [b""]

    def bad_status(environ, start_response):
        start_response(200, [])
        return [b""]

    def str_body(environ, start_response):
        start_response("200 OK", [])
        return ["text"]

    for app, message in ((twice, "second time without exc_info"), (bad_status, "status must be a str"),
                         (str_body, "must be bytes, not str")):
        async with serve(app) as running, httpx.AsyncClient() as client:
            assert (await client.get(running.url)).status_code == 500
        assert message in error_log.text


async def test_exc_info_replaces_the_response_before_the_head_is_sent(serve):
    def app(environ, start_response):
        start_response("200 OK", [("X-First", "1")])
        try:
            raise KeyError("x")
        except KeyError:
            import sys
            start_response("503 Service Unavailable", [("X-Second", "1")], sys.exc_info())
        return [b"sorry"]

    async with serve(app) as running, httpx.AsyncClient() as client:
        response = await client.get(running.url)
    assert response.status_code == 503 and "x-second" in response.headers and "x-first" not in response.headers


async def test_requests_run_in_parallel_threads(serve):
    barrier = threading.Barrier(4, timeout=10)

    def app(environ, start_response):
        barrier.wait()  # passes only when four requests are in the app at once
        start_response("200 OK", [])
        return [threading.current_thread().name.encode()]

    async with serve(app, wsgi_threads=4) as running, httpx.AsyncClient() as client:
        responses = await asyncio.gather(*(client.get(running.url) for _ in range(4)))
    names = {r.text for r in responses}
    assert all(r.status_code == 200 for r in responses) and len(names) == 4
    assert all(name.startswith("asgicy-wsgi") for name in names)


async def test_lifespan_and_websocket_with_a_wsgi_app(serve, flask_app):
    async with serve(flask_app, lifespan="on") as running, httpx.AsyncClient() as client:
        assert (await client.get(running.url + "/hello/x")).status_code == 200
        wire = await Wire.open(running)
        await wire.send(b"GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
                        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n")
        assert (await wire.response()).status == 403  # a WSGI app has no WebSocket: refused
