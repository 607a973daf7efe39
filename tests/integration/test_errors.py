"""What the server does with bad requests and misbehaving apps: the right status, one log line, the
connection closed where it must be, and nothing else disturbed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from asgicy.asgi.errors import ASGIEventError
from asgicy.http import errors as E

from .apps import hello
from .wire import Wire

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


class TestInvalidRequests:  # each refusal of the parser, on the wire: status, message, close
    @pytest.mark.parametrize("request_bytes, status, message", [
        (b"GET / HTTP/1.1\r\n\r\n", 400, E.HOST_REQUIRED),
        (b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400, E.MALFORMED_VERSION),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, E.UNSUPPORTED_VERSION),
        (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400, E.WHITESPACE_BEFORE_COLON),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n", 400, E.invalid_value_byte(0)),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400, E.OBS_FOLD),
        (b"GET / HTTP/1.1\nHost: t\r\n\r\n", 400, E.BARE_LF),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
         E.CONFLICTING_CONTENT_LENGTH),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, E.TE_WITH_CL),
        (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, E.UNSUPPORTED_TE),
        (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, E.CHUNKED_NOT_LAST),
        (b"GET / HTTP/1.1\r\nHost: t\r\nExpect: x\r\n\r\n", 417, E.UNSUPPORTED_EXPECT),
        (b"CONNECT a:1 HTTP/1.1\r\nHost: t\r\n\r\n", 501, E.CONNECT_UNSUPPORTED),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, E.REQUEST_LINE_TOO_LONG),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, E.HEADERS_TOO_LARGE),
        (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X: a\r\n" * 100 + b"\r\n", 431, E.TOO_MANY_HEADERS),
    ])
    async def test_refused_with_status_and_closed(self, serve, error_log, request_bytes, status, message):
        calls = []

        async def app(scope, receive, send):
            calls.append(scope)
            await hello(scope, receive, send)

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(request_bytes)
            response = await wire.response()
            assert await wire.closed()
        assert response.status == status and message.encode() in response.body
        assert response.header(b"connection") == b"close"
        assert calls == [] and message in error_log.text

    async def test_body_limit_is_413(self, serve):
        async with serve(hello, limit_request_body=10) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
            assert (await wire.response()).status == 413
            assert await wire.closed()

    async def test_good_pipelined_request_is_answered_before_the_bad_one(self, serve):
        async with serve(hello) as running:
            wire = await Wire.open(running)
            await wire.send(GET + b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n" + GET)
            first = await wire.response()
            second = await wire.response()
            assert (first.status, second.status) == (200, 400) and await wire.closed()

    async def test_broken_chunked_body_disconnects_the_app_and_answers_400(self, serve):
        seen = []

        async def app(scope, receive, send):
            while True:
                message = await receive()
                seen.append(message)
                if message["type"] == "http.disconnect" or not message["more_body"]:
                    break
            if seen[-1]["type"] == "http.request":
                await hello(scope, receive, send)

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
            await asyncio.sleep(0.1)
            await wire.send(b"zz\r\n")
            response = await wire.response()
            assert response.status == 400 and E.INVALID_CHUNK_SIZE.encode() in response.body
            assert await wire.closed()
        assert seen[0] == {"type": "http.request", "body": b"abc", "more_body": True}
        assert seen[-1] == {"type": "http.disconnect"}

    async def test_other_connections_are_unaffected(self, serve):
        async with serve(hello) as running, httpx.AsyncClient() as client:
            wire = await Wire.open(running)
            await wire.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a TLS ClientHello
            assert (await wire.response()).status == 400
            assert (await client.get(running.url)).status_code == 200


class TestAppErrors:  # ASGI spec: app exceptions, and returning without a response
    async def test_raise_before_start_is_500(self, serve, error_log):
        async def app(scope, receive, send):
            raise ValueError("boom")

        async with serve(app) as running, httpx.AsyncClient() as client:
            r = await client.get(running.url)
            assert (await client.get(running.url)).status_code == 500  # the server keeps serving
        assert r.status_code == 500 and r.text == "Internal Server Error"
        assert error_log.text.count("Exception in ASGI application") == 2 and "ValueError: boom" in error_log.text

    async def test_raise_after_start_before_body_is_still_500(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
            raise ValueError("boom")

        async with serve(app) as running, httpx.AsyncClient() as client:
            r = await client.get(running.url)
        assert r.status_code == 500 and "x-a" not in r.headers

    async def test_raise_after_body_started_aborts_the_connection(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            raise ValueError("boom")

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            with pytest.raises(asyncio.IncompleteReadError):
                await wire.response()  # the chunked body never ends: the client knows it is incomplete

    @pytest.mark.parametrize("started, message", [(False, "without starting a response"),
                                                  (True, "without completing the response")])
    async def test_return_without_response(self, serve, error_log, started, message):
        async def app(scope, receive, send):
            if started:
                await send({"type": "http.response.start", "status": 200, "headers": []})

        async with serve(app) as running, httpx.AsyncClient() as client:
            r = await client.get(running.url)
        assert r.status_code == 500 and message in error_log.text


class TestInvalidEvents:  # ASGI spec: an invalid event raises from send, naming event, problem and rule
    @pytest.mark.parametrize("event, text", [
        ({"type": "http.response.body", "body": b"x"}, "expected 'http.response.start' first"),
        ({"type": "http.response.start"}, "missing required key 'status'"),
        ({"type": "http.response.start", "status": "200"}, "'status' must be an int"),
        ({"type": "http.response.start", "status": 99}, "not a final status code"),
        ({"type": "http.response.start", "status": 200, "headers": [b"X-Header", b"Amazing Value"]},
         "not a [name, value] pair"),
        ({"type": "http.response.start", "status": 200, "headers": [("x", "y")]}, "name must be bytes, not str"),
        ({"type": "http.response.start", "status": 200, "headers": [(b"x", b"a\r\nSet-Cookie: evil=1")]},
         "control byte 0x0d"),
        ({"type": "http.response.start", "status": 200, "headers": [(b"x\r\ny", b"1")]}, "is not an HTTP token"),
        ({"type": "http.response.start", "status": 200, "headers": [(b"x", b"a\x00")]}, "control byte 0x00"),
        ({"type": "http.respnose.start", "status": 200}, "expected 'http.response.start' first"),
        ("not a dict", "an event must be a dict"),
        ({"status": 200}, "no 'type' string"),
    ])
    async def test_refused_send_changes_nothing(self, serve, event, text):
        errors = []

        async def app(scope, receive, send):
            try:
                await send(event)
            except ASGIEventError as exc:
                errors.append(str(exc))
            # The refused send left the cycle as it was: a correct response still works.
            await send({"type": "http.response.start", "status": 201, "headers": [], "unknown-key": 1})
            await send({"type": "http.response.body", "body": b"ok", "also-unknown": True})

        async with serve(app) as running, httpx.AsyncClient() as client:
            r = await client.get(running.url)
        assert (r.status_code, r.content) == (201, b"ok")
        assert len(errors) == 1 and text in errors[0]

    async def test_body_event_errors(self, serve):
        errors = []

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for bad in ({"type": "http.response.body", "body": "text"},
                        {"type": "http.response.body", "more_body": 1},
                        {"type": "http.response.start", "status": 200}):
                try:
                    await send(bad)
                except ASGIEventError as exc:
                    errors.append(str(exc))
            await send({"type": "http.response.body", "body": b"fine"})
            await send({"type": "http.response.body", "body": b"ignored after completion"})

        async with serve(app) as running, httpx.AsyncClient() as client:
            r = await client.get(running.url)
        assert r.content == b"fine"
        assert "'body' must be bytes, not str" in errors[0] and "'more_body' must be a bool" in errors[1]
        assert "unexpected 'http.response.start'" in errors[2]
