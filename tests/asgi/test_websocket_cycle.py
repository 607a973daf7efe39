"""WebSocketCycle in memory: the ASGI websocket rules, read off a recording sink."""

from __future__ import annotations

import asyncio

import pytest

from asgicy.asgi.errors import ASGIEventError, ClientDisconnected
from asgicy.testing import RecordingSink

from .conftest import websocket_cycle


async def test_connect_comes_first_then_messages_then_the_disconnect():
    cycle, sink = websocket_cycle()
    assert await cycle.receive() == {"type": "websocket.connect"}
    cycle.push("hi")
    cycle.push(b"\x00")
    assert await cycle.receive() == {"type": "websocket.receive", "bytes": None, "text": "hi"}
    assert await cycle.receive() == {"type": "websocket.receive", "bytes": b"\x00", "text": None}
    assert sink.said("message_consumed") == [("message_consumed", 1), ("message_consumed", 0)]
    waiting = asyncio.ensure_future(cycle.receive())
    await asyncio.sleep(0)
    assert not waiting.done()
    cycle.closed_by(1001, "going away")
    assert await waiting == {"type": "websocket.disconnect", "code": 1001, "reason": "going away"}


async def test_accept_hands_the_subprotocol_and_the_apps_headers_to_the_sink():
    cycle, sink = websocket_cycle(subprotocols=("chat", "v2"))
    await cycle.send({"type": "websocket.accept", "subprotocol": "v2", "headers": [(b"x-a", b"1")]})
    assert sink.said("ws_accept") == [("ws_accept", "v2", RecordingSink.DATE + RecordingSink.SERVER + b"x-a: 1\r\n")]


async def test_a_subprotocol_the_client_did_not_offer_is_refused():
    cycle, sink = websocket_cycle(subprotocols=("chat",))
    with pytest.raises(ASGIEventError, match="not offered"):
        await cycle.send({"type": "websocket.accept", "subprotocol": "v2"})
    assert sink.calls == []


async def test_messages_go_to_the_sink_and_wait_while_it_is_paused():
    cycle, sink = websocket_cycle()
    await cycle.send({"type": "websocket.accept"})
    await cycle.send({"type": "websocket.send", "text": "a"})
    sink.write_paused = True
    sending = asyncio.ensure_future(cycle.send({"type": "websocket.send", "bytes": b"b"}))
    await asyncio.sleep(0)
    assert not sending.done()
    sink.resume()
    await sending
    assert sink.said("text") == [("text", "a")] and sink.said("bytes") == [("bytes", b"b")]


async def test_a_message_needs_exactly_one_of_bytes_and_text():
    cycle, _ = websocket_cycle()
    await cycle.send({"type": "websocket.accept"})
    with pytest.raises(ASGIEventError, match="exactly one"):
        await cycle.send({"type": "websocket.send", "bytes": b"a", "text": "a"})


async def test_close_before_accept_is_a_403_and_close_after_is_a_close_frame():
    denied, sink = websocket_cycle()
    await denied.send({"type": "websocket.close"})
    assert sink.data.startswith(b"HTTP/1.1 403 Forbidden\r\n") and sink.said("response_complete")
    accepted, sink = websocket_cycle()
    await accepted.send({"type": "websocket.accept"})
    await accepted.send({"type": "websocket.close", "code": 4000, "reason": "bye"})
    assert sink.said("ws_close") == [("ws_close", 4000, "bye")]


async def test_send_after_the_close_raises():
    cycle, _ = websocket_cycle()
    await cycle.send({"type": "websocket.accept"})
    cycle.closed_by(1000, "")
    with pytest.raises(ClientDisconnected):
        await cycle.send({"type": "websocket.send", "text": "late"})


async def test_a_denial_response_is_an_http_response_on_the_same_sink():
    cycle, sink = websocket_cycle()
    await cycle.send({"type": "websocket.http.response.start", "status": 401, "headers": []})
    await cycle.send({"type": "websocket.http.response.body", "body": b"who?"})
    assert sink.data.startswith(b"HTTP/1.1 401 Unauthorized\r\n") and sink.data.endswith(b"who?")


async def test_an_app_that_fails_before_accepting_gets_a_500_and_after_a_1011():
    async def fails(scope, receive, send):
        raise ValueError("boom")

    async def fails_later(scope, receive, send):
        await send({"type": "websocket.accept"})
        raise ValueError("boom")

    cycle, sink = websocket_cycle()
    await cycle.run(fails)
    assert sink.data.startswith(b"HTTP/1.1 500 ") and sink.calls[-1] == ("app_finished",)
    cycle, sink = websocket_cycle()
    await cycle.run(fails_later)
    assert sink.said("ws_close") == [("ws_close", 1011, "")] and sink.calls[-1] == ("app_finished",)


async def test_an_app_that_returns_after_accepting_closes_normally():
    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})

    cycle, sink = websocket_cycle()
    await cycle.run(app)
    assert sink.said("ws_close") == [("ws_close", 1000, "")]
