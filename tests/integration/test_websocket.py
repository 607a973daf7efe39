"""WebSockets against real sockets: the `websockets` client library for ordinary traffic, raw bytes where
the handshake or the frames themselves are under test."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from asgicy.asgi.errors import ASGIEventError, ClientDisconnected

from .wire import Wire


def ws_url(running, path="/ws"):
    return f"ws://{running.host}:{running.port}{path}"


def client(running, path="/ws", **kw):
    kw.setdefault("proxy", None)
    return connect(ws_url(running, path), **kw)


async def echo(scope, receive, send):
    assert scope["type"] == "websocket"
    assert await receive() == {"type": "websocket.connect"}
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "bytes": message["bytes"], "text": message["text"]})


def handshake_request(path=b"/ws", extra=b"", version=b"13", key=None):
    key = key if key is not None else base64.b64encode(os.urandom(16))
    return (b"GET " + path + b" HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: " + version + b"\r\n" + extra + b"\r\n")


class TestMessages:  # RFC 6455 5.6, ASGI websocket.receive / websocket.send
    @pytest.mark.parametrize("compression", ["deflate", None])
    async def test_text_binary_large_and_empty(self, serve, compression):
        async with serve(echo) as running, client(running, compression=compression, max_size=None) as ws:
            negotiated = ws.response.headers.get("sec-websocket-extensions")
            assert (negotiated == "permessage-deflate") if compression else negotiated is None
            for message in ("hello ✓", b"\x00\x01\xff", "", b"", "x" * 300_000, os.urandom(1 << 20)):
                await ws.send(message)
                assert await ws.recv() == message

    async def test_fragmented_message_is_delivered_whole(self, serve):
        received = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            received.append(await receive())
            await send({"type": "websocket.close"})

        async with serve(app) as running, client(running) as ws:
            await ws.send(["frag", "ment", "ed ✓"])
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert received == [{"type": "websocket.receive", "bytes": None, "text": "fragmented ✓"}]

    async def test_ping_is_answered(self, serve):
        async with serve(echo) as running, client(running) as ws:
            latency = await asyncio.wait_for(await ws.ping(b"are you there"), 5)
            assert latency >= 0

    async def test_message_over_the_limit_closes_1009(self, serve):
        async with serve(echo, ws_max_size=1000) as running, client(running, compression=None) as ws:
            await ws.send("x" * 1000)
            assert await ws.recv() == "x" * 1000
            await ws.send("x" * 1001)
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd.code == 1009

    async def test_compressed_bomb_closes_1009(self, serve):
        async with serve(echo, ws_max_size=100_000) as running, client(running, max_size=None) as ws:
            await ws.send(b"\x00" * 10_000_000)  # compresses to about 10 KB
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd.code == 1009


class TestScope:  # ASGI WebSocket spec, "Connection Scope"
    async def test_keys(self, serve):
        scopes = []

        async def app(scope, receive, send):
            scopes.append(scope)
            await receive()
            await send({"type": "websocket.accept", "subprotocol": "chat.v2"})
            await send({"type": "websocket.close"})

        async with serve(app, root_path="/r") as running:
            async with client(running, "/p%20q?x=1", subprotocols=["chat.v1", "chat.v2"]) as ws:
                assert ws.subprotocol == "chat.v2"
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
        scope = scopes[0]
        assert scope["type"] == "websocket" and scope["asgi"] == {"version": "3.0", "spec_version": "2.5"}
        assert scope["scheme"] == "ws" and scope["http_version"] == "1.1" and "method" not in scope
        assert (scope["path"], scope["raw_path"], scope["query_string"]) == ("/r/p q", b"/p%20q", b"x=1")
        assert scope["subprotocols"] == ["chat.v1", "chat.v2"]
        assert scope["extensions"] == {"websocket.http.response": {}}
        assert (b"sec-websocket-protocol", b"chat.v1, chat.v2") in scope["headers"]
        assert scope["client"][0] == "127.0.0.1" and scope["server"] == ["127.0.0.1", running.port]


class TestAccept:
    async def test_accept_headers(self, serve):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept", "headers": [(b"x-accepted", b"yes")]})
            await send({"type": "websocket.close"})

        async with serve(app) as running, client(running) as ws:
            assert ws.response.headers["x-accepted"] == "yes" and ws.response.headers["server"] == "asgicy"

    @pytest.mark.parametrize("event, text", [
        ({"type": "websocket.accept", "subprotocol": "never-offered"}, "was not offered by the client"),
        ({"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"x")]}, "use 'subprotocol'"),
        ({"type": "websocket.accept", "headers": [(b"x", b"a\r\nb")]}, "control byte 0x0d"),
        ({"type": "websocket.send", "text": "too early"}, "expected websocket.accept, websocket.close"),
        ({"type": "websocket.accept", "subprotocol": 1}, "'subprotocol' must be a str"),
    ])
    async def test_refused_accept_changes_nothing(self, serve, event, text):
        errors = []

        async def app(scope, receive, send):
            await receive()
            try:
                await send(event)
            except ASGIEventError as exc:
                errors.append(str(exc))
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": "accepted after all"})

        async with serve(app) as running, client(running) as ws:
            assert await ws.recv() == "accepted after all"
        assert len(errors) == 1 and text in errors[0]


class TestClose:  # RFC 6455 7, ASGI websocket.close / websocket.disconnect
    async def test_app_closes_with_code_and_reason(self, serve):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 4000, "reason": "bye ✓"})
            with pytest.raises(ClientDisconnected):
                await send({"type": "websocket.send", "text": "after close"})

        async with serve(app) as running, client(running) as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "bye ✓")

    async def test_client_close_reaches_the_app(self, serve):
        seen = asyncio.get_running_loop().create_future()

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            seen.set_result(await receive())

        async with serve(app) as running:
            async with client(running) as ws:
                await ws.close(4001, "ciao")
            assert await asyncio.wait_for(seen, 5) == {"type": "websocket.disconnect", "code": 4001,
                                                        "reason": "ciao"}

    async def test_lost_connection_is_1006_and_send_raises_quietly(self, serve, error_log):
        outcome = asyncio.get_running_loop().create_future()

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            message = await receive()
            try:
                await send({"type": "websocket.send", "text": "anyone?"})
            except OSError as exc:
                outcome.set_result((message, exc))
                raise

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            assert (await wire.response(head=True)).status == 101
            wire.writer.transport.abort()
            message, exc = await asyncio.wait_for(outcome, 5)
            await asyncio.sleep(0.05)
        assert message["code"] == 1006 and isinstance(exc, ClientDisconnected)
        assert "Exception in ASGI application" not in error_log.text

    @pytest.mark.parametrize("event, text", [
        ({"type": "websocket.close", "code": 1005}, "close code 1005 cannot be sent"),
        ({"type": "websocket.close", "code": 1006}, "close code 1006 cannot be sent"),
        ({"type": "websocket.close", "code": 1015}, "close code 1015 cannot be sent"),
        ({"type": "websocket.close", "code": 999}, "close code 999 cannot be sent"),
        ({"type": "websocket.close", "code": "1000"}, "'code' must be an int"),
        ({"type": "websocket.close", "reason": "é" * 62}, "124 bytes in UTF-8"),
        ({"type": "websocket.send", "text": "a", "bytes": b"a"}, "exactly one of 'bytes' and 'text'"),
        ({"type": "websocket.send"}, "exactly one of 'bytes' and 'text'"),
        ({"type": "websocket.send", "text": b"bytes"}, "'text' must be a str"),
        ({"type": "websocket.send", "bytes": "text"}, "'bytes' must be bytes"),
        ({"type": "websocket.accept"}, "expected websocket.send or websocket.close after accept"),
    ])
    async def test_invalid_events_after_accept(self, serve, event, text):
        errors = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            try:
                await send(event)
            except ASGIEventError as exc:
                errors.append(str(exc))
            await send({"type": "websocket.close", "code": 1000, "reason": "é" * 61})

        async with serve(app) as running, client(running) as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert len(errors) == 1 and text in errors[0] and info.value.rcvd.reason == "é" * 61


class TestRefusingTheHandshake:
    async def test_close_before_accept_is_403(self, serve):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.close"})

        async with serve(app) as running:
            with pytest.raises(InvalidStatus) as info:
                async with client(running):
                    pass
        assert info.value.response.status_code == 403

    async def test_denial_response_streams_status_headers_and_body(self, serve):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.http.response.start", "status": 401,
                        "headers": [(b"www-authenticate", b"Bearer")]})
            await send({"type": "websocket.http.response.body", "body": b"log in ", "more_body": True})
            await send({"type": "websocket.http.response.body", "body": b"first"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            response = await wire.response()
            assert await wire.closed()
        assert (response.status, response.body) == (401, b"log in first")
        assert response.header(b"www-authenticate") == b"Bearer" and response.chunked

    async def test_invalid_denial_event(self, serve):
        errors = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
            try:
                await send({"type": "websocket.send", "text": "no"})
            except ASGIEventError as exc:
                errors.append(str(exc))
            await send({"type": "websocket.http.response.body", "body": b"gone"})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            assert (await wire.response()).body == b"gone"
        assert "expected 'websocket.http.response.body'" in errors[0]

    @pytest.mark.parametrize("when, status_or_code", [("before", 500), ("after", 1011)])
    async def test_app_exception(self, serve, error_log, when, status_or_code):
        async def app(scope, receive, send):
            await receive()
            if when == "after":
                await send({"type": "websocket.accept"})
            raise RuntimeError("the app broke")

        async with serve(app) as running:
            if when == "before":
                with pytest.raises(InvalidStatus) as info:
                    async with client(running):
                        pass
                assert info.value.response.status_code == status_or_code
            else:
                async with client(running) as ws:
                    with pytest.raises(ConnectionClosed) as closed:
                        await ws.recv()
                assert closed.value.rcvd.code == status_or_code
        assert "Exception in ASGI application" in error_log.text and "the app broke" in error_log.text

    async def test_app_returning_early(self, serve, error_log):
        async def silent(scope, receive, send):
            await receive()

        async def accepts_and_leaves(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})

        async with serve(silent) as running:
            with pytest.raises(InvalidStatus) as info:
                async with client(running):
                    pass
        assert info.value.response.status_code == 500
        assert "returned without accepting or closing" in error_log.text
        async with serve(accepts_and_leaves) as running, client(running) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == 1000


class TestHandshake:  # RFC 6455 4.2
    @pytest.mark.parametrize("request_bytes, status, text", [
        (handshake_request(version=b"8"), 426, b"unsupported Sec-WebSocket-Version"),
        (handshake_request(key=b"short"), 400, b"not 16 bytes in base64"),
        (handshake_request(key=b"!!!!notbase64!!!!!!!!!=="), 400, b"not 16 bytes in base64"),
        (handshake_request(extra=b"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"), 400, b"exactly one"),
        (handshake_request(extra=b"Sec-WebSocket-Protocol: chat, caf\xc3\xa9\r\n"), 400, b"list of tokens"),
        (handshake_request(extra=b"Sec-WebSocket-Protocol: a b\r\n"), 400, b"list of tokens"),
    ])
    async def test_bad_handshakes(self, serve, request_bytes, status, text):
        calls = []

        async def app(scope, receive, send):
            calls.append(scope)

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(request_bytes)
            response = await wire.response()
            assert await wire.closed()
        assert response.status == status and text in response.body and calls == []
        if status == 426:
            assert response.header(b"sec-websocket-version") == b"13"

    async def test_accept_key(self, serve):
        async with serve(echo) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request(key=b"dGhlIHNhbXBsZSBub25jZQ=="))
            response = await wire.response(head=True)
            await wire.close()
        # The example of RFC 6455 section 1.3.
        assert response.status == 101 and response.header(b"sec-websocket-accept") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        assert response.header(b"upgrade") == b"websocket" and response.header(b"sec-websocket-extensions") is None

    async def test_http_request_then_upgrade_in_one_packet(self, serve):
        async def app(scope, receive, send):
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"plain"})
            else:
                await echo(scope, receive, send)

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" + handshake_request())
            assert (await wire.response()).body == b"plain"
            assert (await wire.response(head=True)).status == 101
            await wire.close()

    async def test_ws_none_serves_upgrades_as_http(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["type"].encode()})

        async with serve(app, ws="none") as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            assert (await wire.response()).body == b"http"
            await wire.close()

    async def test_compression_can_be_switched_off(self, serve):
        async with serve(echo, ws_per_message_deflate=False) as running, client(running) as ws:
            assert "sec-websocket-extensions" not in ws.response.headers
            await ws.send("plain")
            assert await ws.recv() == "plain"


class TestFlowControlAndKeepalive:
    async def test_slow_app_pauses_reading(self, serve):
        release = asyncio.Event()

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            await release.wait()
            count = 0
            while (await receive())["type"] == "websocket.receive":
                count += 1
                if count == 200:
                    await send({"type": "websocket.send", "text": str(count)})

        async with serve(app, ws_max_queue=8) as running, client(running, compression=None) as ws:
            for _ in range(200):
                await ws.send(b"x" * 10_000)
            await asyncio.sleep(0.3)
            conn = next(iter(running.server.server_state.connections))
            # Bounded: max_queue, plus what one read of the socket (256 KiB at most) already held.
            assert conn.reading_paused and len(conn.cycle.queue) <= 8 + (256 * 1024) // 10_000 + 1
            release.set()
            assert await asyncio.wait_for(ws.recv(), 10) == "200"

    async def test_unanswered_pings_close_1011(self, serve):
        async with serve(echo, ws_ping_interval=0.2, ws_ping_timeout=0.5) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            assert (await wire.response(head=True)).status == 101
            # Read frame by frame (server frames are unmasked; control payloads are under 126 bytes):
            # a ping's random payload may hold the byte 0x88, so searching the stream for the close
            # frame's first byte is not enough.
            while True:
                head = await asyncio.wait_for(wire.reader.readexactly(2), 5)
                assert head[1] < 126
                payload = await asyncio.wait_for(wire.reader.readexactly(head[1]), 5)
                if head[0] == 0x88:
                    break
                assert head[0] == 0x89  # only pings come before the close
            await wire.close()
        assert payload[:2] == (1011).to_bytes(2, "big") and payload[2:] == b"keepalive ping timeout"

    async def test_answered_pings_keep_the_connection(self, serve):
        async with serve(echo, ws_ping_interval=0.2, ws_ping_timeout=0.5) as running, client(running) as ws:
            await asyncio.sleep(1.5)  # several pings, each answered by the client library
            await ws.send("still here")
            assert await ws.recv() == "still here"

    async def test_client_that_never_answers_close_is_cut(self, serve):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})

        async with serve(app, ws_ping_timeout=0.5) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            assert (await wire.response(head=True)).status == 101
            assert (await asyncio.wait_for(wire.reader.read(4), 5))[:1] == b"\x88"
            assert await wire.closed(timeout=5)  # we never sent our close frame back


class TestShutdown:
    async def test_graceful_shutdown_closes_1012_and_the_app_sees_it(self, serve):
        seen = asyncio.get_running_loop().create_future()

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            seen.set_result(await receive())

        async with serve(app) as running:
            ws = await client(running)
            running.server.request_exit()
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd.code == 1012
            assert (await asyncio.wait_for(seen, 5))["code"] == 1012


class TestOutgoingBackpressure:
    async def test_send_waits_for_a_client_that_does_not_read(self, serve):
        progress = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            for i in range(64):
                await send({"type": "websocket.send", "bytes": b"x" * (1 << 20)})
                progress.append(i)

        async with serve(app, ws_per_message_deflate=False) as running:
            wire = await Wire.open(running)
            await wire.send(handshake_request())
            assert (await wire.response(head=True)).status == 101
            await asyncio.sleep(0.5)
            assert len(progress) < 40, "send() kept returning while the client read nothing"
            received = 0
            while received < 64 * (1 << 20):
                chunk = await asyncio.wait_for(wire.reader.read(1 << 20), 10)
                assert chunk
                received += len(chunk)
            await wire.close()
        assert len(progress) == 64

    async def test_ping_flood_from_a_client_that_does_not_read(self, serve):
        import socket

        from tests.sansio.wsframes import frame

        async with serve(echo) as running:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # so the kernel cannot soak up pongs
            sock.connect((running.host, running.port))
            reader, writer = await asyncio.open_connection(sock=sock)
            wire = Wire(reader, writer)
            await wire.send(handshake_request())
            assert (await wire.response(head=True)).status == 101
            conn = next(iter(running.server.server_state.connections))
            ping = frame(9, b"p" * 125)
            for _ in range(100):
                await wire.send(ping * 1000)  # 100,000 pings; we read none of the pongs
            await asyncio.sleep(0.3)
            buffered = conn.transport.get_write_buffer_size()
            await wire.close()
        # Without RFC 6455 5.5.3's rule, 100,000 pongs of 127 bytes (12.7 MB) would pile up in the server.
        assert buffered < 1024 * 1024
