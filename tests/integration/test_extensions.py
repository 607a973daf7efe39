"""The ASGI response extensions over HTTP/1.1 (asgiref specs/extensions.rst), read as raw bytes on the wire:
trailers, early hints, pathsend and zerocopysend, with their misuse raising from ``send``."""

from __future__ import annotations

import asyncio
import os

import pytest

from asgicy.asgi.errors import ASGIEventError

from .wire import Wire

START = {"type": "http.response.start", "status": 200, "headers": []}


def get(path: str = "/", *headers: bytes, version: bytes = b"1.1") -> bytes:
    return b"GET %b HTTP/%b\r\nHost: t\r\n%b\r\n" % (path.encode(), version, b"".join(h + b"\r\n" for h in headers))


async def exchange(running, request: bytes, *, head: bool = False):
    wire = await Wire.open(running)
    await wire.send(request)
    response = await wire.response(head=head)
    return wire, response


async def raw_exchange(running, request: bytes) -> bytes:
    """Everything the server sends for a request that ends with the connection (HTTP/1.0 or close)."""
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(request)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


def recorder():
    """An app wrapper that keeps what each ``send`` raised, so misuse can be asserted on."""
    errors: list = []

    async def attempt(send, message):
        try:
            await send(message)
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever was raised
            errors.append(exc)
    return errors, attempt


def assert_refused(errors: list, *fragments: str) -> None:
    """Each send raised an ASGIEventError, in order, whose message contains the matching fragment."""
    messages = [str(e) for e in errors]
    assert len(messages) == len(fragments), messages
    assert all(isinstance(e, ASGIEventError) for e in errors), errors
    for message, fragment in zip(messages, fragments):
        assert fragment in message, (fragment, message)


class TestAdvertised:
    async def test_scope_lists_every_extension(self, serve):
        seen = {}

        async def app(scope, receive, send):
            seen.update(scope["extensions"])
            await send(START)
            await send({"type": "http.response.body"})

        async with serve(app) as running:
            wire, _ = await exchange(running, get())
            await wire.close()
        assert seen == {"http.response.trailers": {}, "http.response.early_hint": {},
                        "http.response.pathsend": {}, "http.response.zerocopysend": {}}


class TestTrailers:
    @staticmethod
    async def app(scope, receive, send):
        await send({**START, "trailers": True, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
        await send({"type": "http.response.body", "body": b"world"})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")], "more_trailers": True})
        await send({"type": "http.response.trailers", "headers": [(b"x-status", b"0")]})

    async def test_sent_as_chunked_trailer_fields(self, serve):
        async with serve(self.app) as running:
            data = await raw_exchange(running, get("/", b"TE: trailers", b"Connection: close"))
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head and b"content-length" not in head
        assert body == b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-checksum: abc\r\nx-status: 0\r\n\r\n"

    async def test_connection_goes_on_after_trailers(self, serve):
        async with serve(self.app) as running:
            wire, first = await exchange(running, get("/", b"TE: gzip, trailers;q=0.5"))
            await wire.send(get("/", b"TE: trailers"))
            second = await wire.response()
            await wire.close()
        for response in (first, second):
            assert response.body == b"hello world"
            assert response.trailers == [(b"x-checksum", b"abc"), (b"x-status", b"0")]

    @pytest.mark.parametrize("request_bytes", [get("/"), get("/", b"TE: gzip"), get("/", version=b"1.0")],
                             ids=["no-te", "te-without-trailers", "http10"])
    async def test_dropped_when_the_client_did_not_ask(self, serve, request_bytes):
        async with serve(self.app) as running:
            wire, response = await exchange(running, request_bytes)
            await wire.close()
        assert response.body == b"hello world" and response.trailers == []
        assert response.chunked == (b"HTTP/1.1" in request_bytes)  # a streamed body still needs chunks on 1.1

    async def test_head_and_204_carry_none(self, serve):
        async def app(scope, receive, send):
            status = 204 if scope["path"] == "/204" else 200
            await send({**START, "status": status, "trailers": True})
            await send({"type": "http.response.body", "body": b"" if status == 204 else b"abc"})
            await send({"type": "http.response.trailers", "headers": [(b"x-t", b"1")]})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(b"HEAD / HTTP/1.1\r\nHost: t\r\nTE: trailers\r\n\r\n")
            head = await wire.response(head=True)
            await wire.send(get("/204", b"TE: trailers"))
            no_content = await wire.response()
            await wire.send(get("/", b"TE: trailers"))
            normal = await wire.response()
            await wire.close()
        assert head.header(b"content-length") == b"3" and no_content.status == 204
        assert normal.trailers == [(b"x-t", b"1")]

    async def test_misuse_raises(self, serve):
        errors, attempt = recorder()

        async def app(scope, receive, send):
            if scope["path"] == "/unannounced":
                await send(START)
                await send({"type": "http.response.body", "body": b"x"})
                await attempt(send, {"type": "http.response.trailers", "headers": []})
                return
            await send({**START, "trailers": True})
            await attempt(send, {"type": "http.response.trailers", "headers": []})  # before the body
            await send({"type": "http.response.body", "body": b"x"})
            await attempt(send, {"type": "http.response.body", "body": b"late"})
            await attempt(send, {"type": "http.response.trailers", "headers": [(b"content-length", b"1")]})
            await attempt(send, {"type": "http.response.trailers", "headers": [(b"x-a", b"bad\r\nvalue")]})
            await attempt(send, {"type": "http.response.trailers", "headers": [], "more_trailers": "no"})
            await send({"type": "http.response.trailers", "headers": [(b"x-ok", b"1")]})

        async with serve(app) as running:
            wire, unannounced = await exchange(running, get("/unannounced", b"TE: trailers"))
            await wire.send(get("/", b"TE: trailers"))
            announced = await wire.response()
            await wire.close()
        assert unannounced.body == b"x" and announced.trailers == [(b"x-ok", b"1")]
        assert_refused(errors, "need 'trailers': True", "after the last body event",
                       "only 'http.response.trailers' may follow",
                       "b'content-length' cannot be sent as a trailer field", "control byte 0x0d",
                       "'more_trailers' must be a bool")

    @pytest.mark.parametrize("flag", ["yes", 1, 0, None])
    async def test_the_trailers_flag_must_be_a_bool(self, serve, flag):
        # Compiled, the flag was once read into a C bool first: any truthy value passed as True.
        errors, attempt = recorder()

        async def app(scope, receive, send):
            await attempt(send, {**START, "trailers": flag})
            await send(START)
            await send({"type": "http.response.body", "body": b"x"})

        async with serve(app) as running:
            wire, response = await exchange(running, get("/", b"TE: trailers"))
            await wire.close()
        assert response.body == b"x" and not response.trailers
        assert_refused(errors, f"'trailers' must be a bool, not {type(flag).__name__}")

    async def test_app_that_never_sends_its_trailers_gets_the_connection_closed(self, serve, error_log):
        async def app(scope, receive, send):
            await send({**START, "trailers": True})
            await send({"type": "http.response.body", "body": b"abc"})

        async with serve(app) as running:
            data = await raw_exchange(running, get("/", b"TE: trailers"))
        # The last chunk never came: the client can tell the message is incomplete.
        assert data.endswith(b"3\r\nabc\r\n") and b"0\r\n" not in data.partition(b"\r\n\r\n")[2]
        assert "without completing the response" in error_log.text


class TestEarlyHints:
    async def test_103_before_the_final_response(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]})
            await send(START)
            await send({"type": "http.response.early_hint", "links": [b"</a.js>; rel=preload", b"</b.js>"]})
            await send({"type": "http.response.body", "body": b"page"})

        async with serve(app) as running:
            data = await raw_exchange(running, get("/", b"Connection: close"))
        assert data.startswith(b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload; as=style\r\n\r\n"
                               b"HTTP/1.1 103 Early Hints\r\nlink: </a.js>; rel=preload\r\nlink: </b.js>\r\n\r\n"
                               b"HTTP/1.1 200 OK\r\n")
        assert data.endswith(b"\r\n\r\npage")

    async def test_not_sent_to_http10(self, serve):
        async def app(scope, receive, send):
            await send({"type": "http.response.early_hint", "links": [b"</x>"]})
            await send(START)
            await send({"type": "http.response.body", "body": b"page"})

        async with serve(app) as running:
            data = await raw_exchange(running, get("/", version=b"1.0"))
        assert data.startswith(b"HTTP/1.1 200 OK\r\n") and b"103" not in data

    async def test_misuse_raises(self, serve):
        errors, attempt = recorder()

        async def app(scope, receive, send):
            await attempt(send, {"type": "http.response.early_hint", "links": b"</x>"})
            await attempt(send, {"type": "http.response.early_hint", "links": ["</x>"]})
            await attempt(send, {"type": "http.response.early_hint", "links": [b"</x>\r\nset-cookie: a=b"]})
            await send(START)
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await attempt(send, {"type": "http.response.early_hint", "links": [b"</late>"]})
            await send({"type": "http.response.body", "body": b"b"})

        async with serve(app) as running:
            data = await raw_exchange(running, get("/", b"Connection: close"))
        assert data.startswith(b"HTTP/1.1 200 OK") and b"103" not in data and b"set-cookie" not in data
        assert_refused(errors, "'links' must be an iterable of bytes, not bytes", "links[0] value must be bytes",
                       "control byte 0x0d", "must come before the response head")


@pytest.fixture
def payload(tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    return path, data


class TestPathsend:
    async def test_file_bytes_and_content_length(self, serve, payload):
        path, data = payload

        async def app(scope, receive, send):
            await send({**START, "headers": [(b"content-type", b"application/octet-stream")]})
            await send({"type": "http.response.pathsend", "path": str(path)})

        async with serve(app) as running:
            wire, first = await exchange(running, get())
            await wire.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
            head = await wire.response(head=True)
            await wire.send(get())  # the connection goes on, and HEAD sent no bytes of the file
            second = await wire.response()
            await wire.close()
        assert first.header(b"content-length") == b"300000" and first.body == data
        assert head.header(b"content-length") == b"300000" and second.body == data

    async def test_large_file_to_a_slow_reader(self, serve, tmp_path):
        # Bigger than the socket buffers: sendfile fills the socket and waits for it to drain.
        data = os.urandom(24 * 1024 * 1024)
        path = tmp_path / "big.bin"
        path.write_bytes(data)

        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.pathsend", "path": str(path)})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(get())
            await asyncio.sleep(0.3)
            response = await wire.response(timeout=20)
            await wire.close()
        assert response.header(b"content-length") == str(len(data)).encode() and response.body == data

    async def test_missing_file_fails_before_any_byte(self, serve, tmp_path, error_log):
        caught = []

        async def app(scope, receive, send):
            await send(START)
            try:
                await send({"type": "http.response.pathsend", "path": str(tmp_path / "missing.txt")})
            except FileNotFoundError as exc:
                caught.append(str(exc))
                raise

        async with serve(app) as running:
            wire, response = await exchange(running, get())
            await wire.close()
        assert response.status == 500  # nothing of the 200 was written, so the error can still be answered
        assert "http.response.pathsend cannot open the file" in caught[0] and "missing.txt" in caught[0]

    async def test_misuse_raises(self, serve, payload, tmp_path):
        path, data = payload
        errors, attempt = recorder()

        async def app(scope, receive, send):
            if scope["path"] == "/before-start":
                await attempt(send, {"type": "http.response.pathsend", "path": str(path)})
                return await send({**START, "status": 204}) or await send({"type": "http.response.body"})
            await send({**START, "headers": [(b"content-length", b"5")] if scope["path"] == "/length" else []})
            if scope["path"] == "/length":
                await attempt(send, {"type": "http.response.pathsend", "path": str(path)})
                return await send({"type": "http.response.body", "body": b"12345"})
            if scope["path"] == "/mixed":
                await send({"type": "http.response.body", "body": b"a", "more_body": True})
                await attempt(send, {"type": "http.response.pathsend", "path": str(path)})
                return await send({"type": "http.response.body", "body": b"b"})
            await attempt(send, {"type": "http.response.pathsend", "path": "relative.txt"})
            await attempt(send, {"type": "http.response.pathsend", "path": str(tmp_path)})
            await attempt(send, {"type": "http.response.pathsend", "path": 42})
            await send({"type": "http.response.pathsend", "path": str(path)})
            await attempt(send, {"type": "http.response.pathsend", "path": str(path)})
            await attempt(send, {"type": "http.response.body", "body": b"more"})

        async with serve(app) as running:
            wire, before = await exchange(running, get("/before-start"))
            await wire.send(get("/length"))
            length = await wire.response()
            await wire.send(get("/mixed"))
            mixed = await wire.response()
            await wire.send(get("/"))
            whole = await wire.response()
            await wire.close()
        assert (before.status, length.body, mixed.body, whole.body) == (204, b"12345", b"ab", data)
        messages = [f"{type(e).__name__}: {e}" for e in errors]
        assert len(messages) == 8, messages
        assert "expected 'http.response.start' first" in messages[0]
        assert "announced content-length 5 but" in messages[1] and "300000 bytes" in messages[1]
        assert "cannot follow body events" in messages[2]
        assert "'path' must be absolute, got 'relative.txt'" in messages[3]
        assert "is not a regular file" in messages[4]
        assert "'path' must be a str, not int" in messages[5]
        assert "sent whole by 'http.response.pathsend'; nothing may follow it" in messages[6] and messages[6] == \
            messages[7].replace("http.response.body:", "http.response.pathsend:")


class TestZerocopysend:
    async def test_pieces_mixed_with_body_events(self, serve, payload):
        path, data = payload
        positions = []

        async def app(scope, receive, send):
            with open(path, "rb") as file:
                file.seek(10)
                await send(START)
                await send({"type": "http.response.body", "body": b"<", "more_body": True})
                await send({"type": "http.response.zerocopysend", "file": file, "count": 100, "more_body": True})
                positions.append(file.tell())  # a send from the current position moves it on
                await send({"type": "http.response.zerocopysend", "file": file.fileno(), "offset": 0,
                            "count": 5, "more_body": True})
                positions.append(file.tell())  # an explicit offset leaves it alone
                await send({"type": "http.response.zerocopysend", "file": file, "offset": 299_990,
                            "more_body": True})
                await send({"type": "http.response.body", "body": b">"})
                positions.append(os.fstat(file.fileno()).st_size)  # the app still owns an open descriptor

        async with serve(app) as running:
            wire, response = await exchange(running, get())
            await wire.close()
        assert response.chunked and response.body == b"<" + data[10:110] + data[:5] + data[299_990:] + b">"
        assert positions == [110, 110, 300_000]

    async def test_whole_file_with_content_length(self, serve, payload):
        path, data = payload

        async def app(scope, receive, send):
            with open(path, "rb") as file:
                await send(START)
                await send({"type": "http.response.zerocopysend", "file": file})

        async with serve(app) as running:
            wire, response = await exchange(running, get())
            await wire.close()
        assert response.header(b"content-length") == b"300000" and response.body == data

    async def test_after_bytes_still_buffered(self, serve, payload):
        # Bytes of the response still sit in the transport's buffer when the file piece comes: the kernel
        # must not send the file ahead of them.
        path, data = payload
        buffered = asyncio.Event()
        sent = []

        async def app(scope, receive, send):
            conn = next(iter(running.server.server_state.connections))
            with open(path, "rb") as file:
                await send(START)
                # The client does not read yet: small bodies fill the socket, then stay in the buffer.
                while not conn.transport.get_write_buffer_size() and len(sent) < 100_000:
                    sent.append(b"%06d" % len(sent) * 1000)
                    await send({"type": "http.response.body", "body": sent[-1], "more_body": True})
                buffered.set()
                await send({"type": "http.response.zerocopysend", "file": file})

        async with serve(app) as running:
            wire = await Wire.open(running)
            await wire.send(get())
            await asyncio.wait_for(buffered.wait(), 10)
            response = await wire.response(timeout=20)
            await wire.close()
        assert response.body == b"".join(sent) + data

    async def test_misuse_raises(self, serve, payload, tmp_path):
        path, data = payload
        errors, attempt = recorder()

        async def app(scope, receive, send):
            with open(path, "rb") as file:
                await attempt(send, {"type": "http.response.zerocopysend", "file": file})
                await send(START)
                await attempt(send, {"type": "http.response.zerocopysend", "file": "name.txt"})
                await attempt(send, {"type": "http.response.zerocopysend", "file": file, "offset": -1})
                await attempt(send, {"type": "http.response.zerocopysend", "file": file, "offset": 299_000,
                                     "count": 2000})
                read_end, write_end = os.pipe()
                await attempt(send, {"type": "http.response.zerocopysend", "file": read_end})
                os.close(read_end)
                os.close(write_end)
                await send({"type": "http.response.zerocopysend", "file": file, "count": 3})

        async with serve(app) as running:
            wire, response = await exchange(running, get())
            await wire.close()
        assert response.body == data[:3]
        assert_refused(errors, "expected 'http.response.start' first",
                       "'file' must be an open file or a file descriptor, not str",
                       "'offset' must be a non-negative int, not -1",
                       "'count' 2000 goes past the end of the file (1000 bytes from offset 299000)",
                       "is not a regular file")


class TestDenialResponseHasNoExtensions:
    async def test_websocket_denial_refuses_pathsend(self, serve, payload):
        path, _ = payload
        errors, attempt = recorder()

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
            await attempt(send, {"type": "http.response.pathsend", "path": str(path)})
            await send({"type": "websocket.http.response.body", "body": b"no"})

        request = (b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        async with serve(app) as running:
            wire, response = await exchange(running, request)
            await wire.close()
        assert (response.status, response.body) == (403, b"no")
        assert "unexpected 'http.response.pathsend'" in str(errors[0])
