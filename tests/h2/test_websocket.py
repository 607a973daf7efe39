"""WebSocket over HTTP/2 (RFC 8441): the extended CONNECT, the same WebSocket cycle and framer as after an
HTTP/1.1 upgrade, frames as DATA on the stream, and the stream's end as the connection's."""

from __future__ import annotations

import time

import h2.events
import pytest

from asgicy.testing import serve_in_thread
from tests.sansio.wsframes import close, frame, text

from .client import Client

seen: list = []


async def echo(scope, receive, send):
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain"})
        return
    seen.append(scope)
    message = await receive()
    assert message["type"] == "websocket.connect"
    if scope["path"] == "/deny":
        await send({"type": "websocket.close"})
        return
    await send({"type": "websocket.accept", "subprotocol": "chat" if "chat" in scope["subprotocols"] else None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            seen.append(("disconnect", message["code"]))
            return
        await send({"type": "websocket.send", "text": "echo: " + message["text"]})


@pytest.fixture(scope="module")
def server():
    with serve_in_thread(echo, lifespan="off", access_log=False, ws_per_message_deflate=False) as running:
        yield running


def connect_ws(running, path="/ws", extra=()):
    client = Client(running.host, running.port)
    while not any(isinstance(e, h2.events.RemoteSettingsChanged) for e in client.events):
        client.read_once(2)
    assert client.conn.remote_settings.enable_connect_protocol == 1  # RFC 8441 3: the server offers it
    stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(stream_id, [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                                         (b":scheme", b"http"), (b":path", path.encode()),
                                         (b":authority", b"example.com"), (b"sec-websocket-version", b"13"),
                                         *extra])
    client.flush()
    from .client import Response
    client.responses[stream_id] = Response()
    deadline = time.monotonic() + 5
    while client.responses[stream_id].headers is None and time.monotonic() < deadline:
        client.read_once(1)
    return client, stream_id


def receive_until(client, stream_id, marker: bytes, timeout=5.0) -> bytes:
    deadline = time.monotonic() + timeout
    response = client.responses[stream_id]
    while marker not in response.body and time.monotonic() < deadline and not response.ended:
        client.read_once(0.5)
    return bytes(response.body)


def test_a_websocket_over_an_http2_stream(server):
    seen.clear()
    client, stream_id = connect_ws(server, extra=[(b"sec-websocket-protocol", b"chat, other")])
    response = client.responses[stream_id]
    assert response.status == 200 and response.header(b"sec-websocket-protocol") == b"chat"
    scope = seen[0]
    assert scope["type"] == "websocket" and scope["http_version"] == "2" and scope["scheme"] == "ws"
    assert scope["path"] == "/ws" and scope["subprotocols"] == ["chat", "other"]
    assert scope["headers"][0] == (b"host", b"example.com")
    client.conn.send_data(stream_id, text("hello"))
    client.flush()
    # The server's frames are unmasked: a text frame is 0x81, its length, then the payload.
    assert receive_until(client, stream_id, b"echo: hello") == b"\x81\x0becho: hello"
    client.conn.send_data(stream_id, close(1000), end_stream=True)
    client.flush()
    receive_until(client, stream_id, b"\x88")
    deadline = time.monotonic() + 5
    while ("disconnect", 1000) not in seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ("disconnect", 1000) in seen
    # The connection goes on: a plain request on another stream.
    assert client.get("/").status == 200


def test_a_denied_websocket_gets_403_on_its_stream(server):
    client, stream_id = connect_ws(server, "/deny")
    assert client.responses[stream_id].status == 403


def test_a_handshake_without_version_13_is_refused(server):
    client = Client(server.host, server.port)
    client.read_once(2)
    stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(stream_id, [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                                         (b":scheme", b"http"), (b":path", b"/ws"), (b":authority", b"x"),
                                         (b"sec-websocket-version", b"8")], end_stream=True)
    client.flush()
    from .client import Response
    client.responses[stream_id] = Response()
    [response] = client.wait(stream_id)
    assert response.status == 426


def test_resetting_the_stream_is_a_disconnect(server):
    seen.clear()
    client, stream_id = connect_ws(server)
    client.conn.send_data(stream_id, frame(1, b"x"))
    client.flush()
    receive_until(client, stream_id, b"echo: x")
    client.conn.reset_stream(stream_id)
    client.flush()
    deadline = time.monotonic() + 5
    while not any(isinstance(item, tuple) for item in seen) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ("disconnect", 1006) in seen  # no close frame: abnormal closure
    assert client.get("/").status == 200


def test_ws_none_does_not_offer_extended_connect():
    with serve_in_thread(echo, lifespan="off", access_log=False, ws="none") as running:
        client = Client(running.host, running.port)
        client.read_once(2)
        assert client.conn.remote_settings.enable_connect_protocol == 0
