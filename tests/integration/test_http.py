"""The HTTP/1.1 server against real sockets: httpx for ordinary traffic, raw bytes where the wire matters."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from asgicy.asgi.errors import ASGIEventError, ClientDisconnected

from .apps import echo_body, echo_scope, hello
from .wire import Wire

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


class TestScope:  # ASGI HTTP spec, "HTTP Connection Scope"
    async def test_every_key(self, serve):
        async with serve(echo_scope, root_path="/api") as running, httpx.AsyncClient() as client:
            r = await client.get(running.url + "/a%20b/%E2%82%AC?x=1&y=%20", headers={"X-Multi": "1"})
            scope = r.json()
        assert scope["type"] == "http" and scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
        assert scope["http_version"] == "1.1" and scope["method"] == "GET" and scope["scheme"] == "http"
        assert scope["path"] == "/api/a b/\u20ac"  # path includes root_path, percent- and UTF-8-decoded
        assert scope["raw_path"] == "/a%20b/%E2%82%AC" and scope["raw_path_type"] == "bytes"
        assert scope["query_string"] == "x=1&y=%20" and scope["root_path"] == "/api"
        assert ["x-multi", "1"] in scope["headers"] and ["host", f"127.0.0.1:{running.port}"] in scope["headers"]
        assert scope["client"][0] == "127.0.0.1" and isinstance(scope["client"][1], int)
        assert scope["server"] == ["127.0.0.1", running.port]

    async def test_headers_keep_order_duplicates_and_lowercase(self, serve):
        async with serve(echo_scope) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nX-B: 2\r\nx-a: 3\r\n\r\n")
            scope = json.loads((await wire.response()).body)
            await wire.close()
        assert scope["headers"] == [["host", "t"], ["x-a", "1"], ["x-b", "2"], ["x-a", "3"]]

    async def test_http10_and_absolute_form(self, serve):
        async with serve(echo_scope) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET http://example.com/p?q=1 HTTP/1.0\r\n\r\n")
            response = await wire.response()
            scope = json.loads(response.body)
            assert await wire.closed()
        # RFC 9110 2.5, RFC 9112 2.3: the server answers with its own version, framed for an HTTP/1.0
        # client (a length, no chunked; the close ends the exchange); the scope says what the client spoke.
        assert response.version == b"HTTP/1.1" and response.header(b"connection") == b"close"
        assert (scope["http_version"], scope["path"], scope["query_string"]) == ("1.0", "/p", "q=1")

    async def test_unix_socket(self, serve, tmp_path):
        path = str(tmp_path / "asgicy.sock")
        async with serve(echo_scope, uds=path):
            async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=path)) as client:
                scope = (await client.get("http://localhost/x")).json()
        assert scope["server"] == [path, None] and scope["client"] is None


    async def test_inherited_file_descriptor(self, serve):
        import socket
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        try:
            async with serve(echo_scope, fd=sock.fileno()), httpx.AsyncClient() as client:
                scope = (await client.get(f"http://127.0.0.1:{port}/fd")).json()
        finally:
            sock.close()
        assert scope["path"] == "/fd" and scope["server"] == ["127.0.0.1", port]


class TestRequestBody:
    async def test_at_least_one_http_request_for_get(self, serve):
        seen = []

        async def app(scope, receive, send):
            seen.append(await receive())
            await hello(scope, receive, send)

        async with serve(app) as running, httpx.AsyncClient() as client:
            await client.get(running.url)
        assert seen == [{"type": "http.request", "body": b"", "more_body": False}]

    async def test_content_length_body(self, serve):
        async with serve(echo_scope) as running, httpx.AsyncClient() as client:
            r = await client.post(running.url, content=b"x" * 100_000)
        assert r.json()["body"] == "x" * 100_000

    async def test_chunked_upload_arrives_dechunked_in_order(self, serve):
        async def chunks():
            for i in range(20):
                yield b"%02d" % i
                await asyncio.sleep(0)

        async with serve(echo_body) as running, httpx.AsyncClient() as client:
            r = await client.post(running.url, content=chunks())
        assert r.content == b"".join(b"%02d" % i for i in range(20))

    async def test_more_body_sequence_on_the_wire(self, serve):
        received = []

        async def app(scope, receive, send):
            while True:
                message = await receive()
                received.append(message)
                if not message["more_body"]:
                    break
            await hello(scope, receive, send)

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
            await asyncio.sleep(0.1)
            await wire.send(b"2\r\nde\r\n0\r\n\r\n")
            assert (await wire.response()).status == 200
            await wire.close()
        assert b"".join(m["body"] for m in received) == b"abcde"
        assert [m["more_body"] for m in received][-1] is False and received[0]["more_body"] is True

    async def test_100_continue_only_when_the_app_reads(self, serve):
        async with serve(echo_body) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            interim = await wire.response()
            assert (interim.status, interim.reason) == (100, b"Continue")
            await wire.send(b"hello")
            final = await wire.response()
            assert (final.status, final.body) == (200, b"hello")
            await wire.close()

    async def test_unread_body_pauses_reading(self, serve):
        gate = asyncio.Event()

        async def app(scope, receive, send):
            await gate.wait()
            total = 0
            while True:
                message = await receive()
                total += len(message["body"])
                if not message["more_body"]:
                    break
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": str(total).encode()})

        async with serve(app) as running:
            wire = await Wire.open(running)
            size = 8 * 1024 * 1024
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
            wire.writer.write(b"x" * size)
            await asyncio.sleep(0.5)
            conn = next(iter(running.server.server_state.connections))
            assert conn.reading_paused and conn.buffered_body < 2 * 1024 * 1024
            gate.set()
            await wire.writer.drain()
            assert (await wire.response()).body == str(size).encode()
            await wire.close()


    async def test_unread_body_does_not_stall_the_next_upload(self, serve):
        async def app(scope, receive, send):
            total = 0
            if scope["path"] == "/read":
                while True:
                    message = await receive()
                    total += len(message["body"])
                    if not message["more_body"]:
                        break
            else:
                await asyncio.sleep(0.3)  # let the whole body arrive, then answer without reading it
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": str(total).encode()})

        async with serve(app) as running:
            wire = await Wire.open(running)
            # The first app ignores a body that has fully arrived; the connection stays open.
            await wire.send(b"POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 400000\r\n\r\n" + b"x" * 400000)
            await asyncio.sleep(0.2)
            assert (await wire.response()).body == b"0"
            size = 2 * 1024 * 1024
            await wire.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size + b"y" * size)
            assert (await wire.response(timeout=10)).body == str(size).encode()
            await wire.close()


    async def test_answered_before_the_body_arrived_then_the_rest_is_dropped(self, serve):
        # RFC 9112 9.3: the app answers at once; the body still on its way is read and dropped, and the
        # request after it is served on the same connection.
        seen = []

        async def app(scope, receive, send):
            seen.append(scope["path"])
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["path"].encode()})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
            assert (await wire.response()).body == b"/early"
            await wire.send(b"x" * 999000 + b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
            assert (await wire.response()).body == b"/next"
            await wire.close()
        assert seen == ["/early", "/next"]

    async def test_body_still_arriving_after_the_response_is_cut_off(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"early"})

        async with serve(app, timeout_keep_alive=1) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
            assert (await wire.response()).body == b"early"
            started = asyncio.get_running_loop().time()
            cut_off = False
            while not cut_off and asyncio.get_running_loop().time() - started < 6:
                # Trickling the body does not hold the connection open past the keep-alive timeout.
                try:
                    await wire.send(b"x" * 100)
                except (ConnectionError, RuntimeError):
                    # (uvloop raises RuntimeError for a write to a transport that the close already shut.)
                    cut_off = True
                cut_off = cut_off or wire.reader.at_eof()
                await asyncio.sleep(0.1)
            assert cut_off and asyncio.get_running_loop().time() - started < 4
            await wire.close()


async def refuse(scope, receive, send):
    """Answers without reading the body (an app that turns an upload down on its headers)."""
    await send({"type": "http.response.start", "status": 413, "headers": []})
    await send({"type": "http.response.body", "body": b"no"})


class TestExpectContinueRefused:  # RFC 9110 10.1.1: a final response before 100 Continue
    async def test_small_body_is_asked_for_and_dropped_keeping_the_connection(self, serve):
        async with serve(refuse) as running:
            wire = await Wire.open(running)
            for _ in range(2):
                await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                # The 100 settles what comes next on the wire: the body, which is read and dropped.
                interim = await wire.response()
                final = await wire.response()
                assert (interim.status, final.status, final.body) == (100, 413, b"no")
                assert final.header(b"connection") is None
                await wire.send(b"hello")
            await wire.send(GET)
            assert (await wire.response()).status == 413
            await wire.close()

    @pytest.mark.parametrize("framing", [b"Content-Length: 1000000", b"Transfer-Encoding: chunked"])
    async def test_other_bodies_are_refused_with_connection_close(self, serve, framing):
        async with serve(refuse) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n" + framing + b"\r\n\r\n")
            final = await wire.response()
            assert (final.status, final.header(b"connection")) == (413, b"close")
            assert await wire.closed()
            await wire.close()

    async def test_a_client_that_sends_the_body_anyway_reads_the_whole_response(self, serve):
        # Told `Connection: close`, a client may still send the body (it need not wait for a 100). The
        # server half-closes and drops what arrives, so the client never meets a reset.
        async with serve(refuse) as running:
            for _ in range(5):
                wire = await Wire.open(running)
                await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                                b"Content-Length: 1000000\r\n\r\n")
                final = await wire.response()
                assert (final.status, final.header(b"connection")) == (413, b"close")
                for _ in range(4):
                    await wire.send(b"x" * 200_000)  # would raise BrokenPipe/ConnectionReset after a close
                assert await wire.closed()
                await wire.close()

    async def test_an_app_waiting_on_receive_after_refusing_is_told_the_client_is_gone(self, serve):
        told = asyncio.get_running_loop().create_future()

        async def app(scope, receive, send):
            await refuse(scope, receive, send)
            told.set_result(await receive())  # the body will not be read now: this must not hang

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
            assert (await wire.response()).header(b"connection") == b"close"
            assert await asyncio.wait_for(told, 2) == {"type": "http.disconnect"}
            await wire.close()

    async def test_a_body_already_arriving_needs_no_100(self, serve):
        arrived = asyncio.Event()

        async def app(scope, receive, send):
            await arrived.wait()
            await refuse(scope, receive, send)

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\nhello")
            await asyncio.sleep(0.1)
            arrived.set()
            final = await wire.response()
            assert (final.status, final.header(b"connection")) == (413, None)
            await wire.send(b"world" + GET)
            assert (await wire.response()).status == 413
            await wire.close()

    async def test_http10_expectation_is_ignored(self, serve):
        async with serve(refuse) as running:
            wire = await Wire.open(running)
            await wire.send(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            final = await wire.response()
            assert (final.status, final.header(b"connection")) == (413, b"close")
            assert await wire.closed()


class TestResponse:
    async def test_content_length_date_server(self, serve):
        async with serve(hello) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            r = await wire.response()
            await wire.close()
        assert (r.status, r.body, r.header(b"content-length")) == (200, b"Hello, world!", b"13")
        assert r.header(b"server") == b"asgicy" and r.header(b"date").endswith(b" GMT")
        assert r.header(b"transfer-encoding") is None

    async def test_date_and_server_headers_switch_off(self, serve):
        async with serve(hello, date_header=False, server_header=False) as running, httpx.AsyncClient() as c:
            r = await c.get(running.url)
        assert "date" not in r.headers and "server" not in r.headers

    async def test_app_server_and_date_headers_win(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"Server", b"mine"), (b"date", b"yesterday")]})
            await send({"type": "http.response.body", "body": b""})

        async with serve(app) as running, httpx.AsyncClient() as c:
            r = await c.get(running.url)
        assert r.headers.get_list("server") == ["mine"] and r.headers.get_list("date") == ["yesterday"]

    async def test_events_may_be_dict_and_str_subclasses(self, serve):
        # ASGI events are dicts; a subclass (an OrderedDict, a framework's own) is one too, and so is a str
        # subclass for a type. The compiled cycle must not demand the exact built-in types.
        class Event(dict):
            pass

        class Kind(str):
            pass

        async def app(scope, receive, send):
            await receive()
            await send(Event(type=Kind("http.response.start"), status=200, headers=[(b"x-a", b"1")]))
            await send(Event(type=Kind("http.response.body"), body=b"sub", more_body=True))
            await send(Event(type="http.response.body", body=b"classes"))

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            r = await wire.response()
            await wire.close()
        assert (r.status, r.body, r.header(b"x-a")) == (200, b"subclasses", b"1")

    async def test_streaming_is_chunked_and_app_transfer_encoding_is_ignored(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"transfer-encoding", b"gzip")]})
            for part in (b"a", b"", b"bc"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b"d"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            r = await wire.response()
            await wire.close()
        assert r.chunked and r.body == b"abcd" and r.header_names().count(b"transfer-encoding") == 1

    async def test_http10_streaming_is_close_delimited(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await send({"type": "http.response.body", "body": b"b"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = await wire.response()
        assert r.body == b"ab" and r.header(b"connection") == b"close" and r.header(b"transfer-encoding") is None
        assert r.version == b"HTTP/1.1"  # our version; the framing is HTTP/1.0's

    async def test_head_has_no_body_but_the_length(self, serve):
        async with serve(hello) as running:
            wire = await Wire.open(running)
            await wire.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + GET)
            head = await wire.response(head=True)
            after = await wire.response()
            await wire.close()
        assert head.header(b"content-length") == b"13" and after.body == b"Hello, world!"

    @pytest.mark.parametrize("status", [204, 304])
    async def test_no_body_statuses(self, serve, status):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b"ignored"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET + GET)
            first = await wire.response()
            second = await wire.response()
            await wire.close()
        assert first.status == second.status == status
        assert b"content-length" not in first.header_names() and b"transfer-encoding" not in first.header_names()

    async def test_content_length_from_app_is_enforced(self, serve):
        errors = []

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
            try:
                await send({"type": "http.response.body", "body": b"abcd"})
            except ASGIEventError as exc:
                errors.append(str(exc))
            await send({"type": "http.response.body", "body": b"abc"})

        async with serve(app) as running, httpx.AsyncClient() as c:
            r = await c.get(running.url)
        assert r.content == b"abc" and "exceeds the Content-Length" in errors[0]

    async def test_app_content_length_is_written_once(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"Content-Length", b"5"), (b"content-length", b"5")]})
            await send({"type": "http.response.body", "body": b"hello"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET + GET)
            first, second = await wire.response(), await wire.response()
            await wire.close()
        assert first.header_names().count(b"content-length") == 1 and (first.body, second.body) == (b"hello",) * 2

    async def test_short_body_closes_the_connection(self, serve, error_log):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
            await send({"type": "http.response.body", "body": b"abc"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            data = await asyncio.wait_for(wire.reader.read(), 5)
        assert data.endswith(b"\r\n\r\nabc") and "3 of the 10 bytes" in error_log.text


class TestKeepAliveAndPipelining:  # RFC 9112 section 9
    async def test_keep_alive_reuses_the_connection(self, serve):
        async with serve(echo_scope) as running:
            wire = await Wire.open(running)
            ports = set()
            for _ in range(3):
                await wire.send(GET)
                ports.add(tuple(json.loads((await wire.response()).body)["client"]))
            await wire.close()
        assert len(ports) == 1

    async def test_pipelined_responses_come_in_order(self, serve):
        async def app(scope, receive, send):
            n = int(scope["path"][1:])
            await asyncio.sleep(0.05 * (3 - n))  # the first takes longest
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["path"].encode()})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(4)))
            bodies = [(await wire.response()).body for _ in range(4)]
            await wire.close()
        assert bodies == [b"/0", b"/1", b"/2", b"/3"]

    async def test_connection_close_is_honoured(self, serve):
        async with serve(hello) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + GET)
            r = await wire.response()
            assert r.header(b"connection") == b"close"
            assert await wire.closed()  # the pipelined second request is not answered

    async def test_http10_keep_alive(self, serve):
        async with serve(hello) as running:
            wire = await Wire.open(running)
            for _ in range(2):
                await wire.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                r = await wire.response()
                assert r.version == b"HTTP/1.1" and r.header(b"connection") == b"keep-alive"
            await wire.send(b"GET / HTTP/1.0\r\n\r\n")
            assert (await wire.response()).header(b"connection") == b"close"
            assert await wire.closed()

    async def test_app_connection_close_header(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"connection", b"close")]})
            await send({"type": "http.response.body", "body": b"bye"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            r = await wire.response()
            assert r.header_names().count(b"connection") == 1 and await wire.closed()

    async def test_declined_upgrade_goes_on_as_http(self, serve):
        async with serve(hello) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n" + GET)
            assert (await wire.response()).status == 200
            assert (await wire.response()).status == 200
            await wire.close()


class TestLargeBodiesInABatch:
    async def test_pipelined_large_and_small_responses_arrive_whole_and_in_order(self, serve):
        # Sixteen pipelined requests answered in one read: large bodies sit in the batch beside their heads
        # and the batch goes to the transport as pieces (writelines) rather than joined.
        async def app(scope, receive, send):
            size = int(scope["path"].strip("/"))
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": bytes([size % 251]) * size})

        sizes = [10, 20_000, 5, 70_000, 16_384, 1, 40_000, 3] * 2
        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % size for size in sizes))
            for size in sizes:
                r = await wire.response()
                assert r.body == bytes([size % 251]) * size, size
            await wire.close()


class TestDisconnect:  # ASGI HTTP spec 2.4
    async def test_disconnect_after_the_response(self, serve):
        messages = []

        async def app(scope, receive, send):
            messages.append(await receive())
            await hello(scope, receive, send)
            messages.append(await receive())

        async with serve(app) as running, httpx.AsyncClient() as c:
            await c.get(running.url)
            await asyncio.sleep(0.05)
        assert messages[1] == {"type": "http.disconnect"}

    async def test_long_poll_sees_the_client_leave_and_send_raises(self, serve, error_log):
        outcome = asyncio.get_running_loop().create_future()

        async def app(scope, receive, send):
            await receive()
            message = await receive()  # blocks until the client goes away
            try:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            except ClientDisconnected as exc:
                outcome.set_result((message, exc))
                raise  # the server must swallow it quietly

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            await asyncio.sleep(0.1)
            await wire.close()
            message, exc = await asyncio.wait_for(outcome, 5)
            await asyncio.sleep(0.05)
        assert message == {"type": "http.disconnect"} and isinstance(exc, OSError)
        assert "Exception in ASGI application" not in error_log.text


class TestBackpressure:
    async def test_send_waits_for_a_slow_reader(self, serve):
        progress = []
        chunk = b"x" * (1024 * 1024)

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for i in range(64):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                progress.append(i)
            await send({"type": "http.response.body", "body": b""})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(GET)
            await asyncio.sleep(0.5)
            stalled_at = len(progress)
            assert stalled_at < 40, "send() kept returning while nobody read the response"
            r = await wire.response(timeout=30)
            await wire.close()
        assert len(r.body) == 64 * len(chunk) and len(progress) == 64


class TestAccessLog:
    async def test_one_line_per_response(self, serve, caplog):
        import logging
        caplog.set_level(logging.INFO, logger="asgicy.access")
        async with serve(hello) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET /p?q=%1B[31m HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            received = await asyncio.wait_for(wire.reader.read(), 5)
        lines = [r.getMessage() for r in caplog.records if r.name == "asgicy.access"]
        assert len(lines) == 1
        assert lines[0].startswith("127.0.0.1:")
        assert lines[0].endswith(f'"GET /p?q=%1B[31m HTTP/1.1" 200 {len(received)}')


class TestPipelineAndAClientThatDoesNotRead:
    async def test_pipelined_responses_wait_for_the_client_to_read(self, serve):
        big = b"y" * (2 * 1024 * 1024)

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", str(len(big)).encode())]})
            await send({"type": "http.response.body", "body": big})

        async with serve(app) as running:
            import socket
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.connect((running.host, running.port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" * 5 + b"GET /bad HTTP/1.1\r\n\r\n")
            await asyncio.sleep(0.5)
            conn = next(iter(running.server.server_state.connections))
            # Not five responses in the buffer: once it is full the next ones wait until the client reads
            # (the kernel's socket buffers may have taken a response's worth before that).
            assert conn.transport.get_write_buffer_size() <= len(big) + 4096
            assert len(conn.pipeline) >= 2
            received = b""
            while True:
                piece = await asyncio.wait_for(reader.read(1 << 20), 5)
                if not piece:
                    break
                received += piece
            writer.close()
        # All five, in order, then the error for the request without Host, then the close.
        assert received.count(b"HTTP/1.1 200 OK") == 5 and len(received) > 5 * len(big)
        assert b"HTTP/1.1 400 Bad Request" in received[-300:]
